// Tests for ptft/data/chat_template.h: the built-in ptft-chat rendering (prompt pieces vs trained
// pieces, joined neighbours), render_prompt, the JSON round trip, and every validation error of
// from_json / from_spec / render_pieces with what it names.
#include "ptft/data/chat_template.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

using test::user_error;

TEST(ChatTemplate, BuiltinRendersPromptAndTrainedPieces) {
  const ChatTemplate t = ChatTemplate::builtin("ptft-chat");
  EXPECT_EQ(t.name(), "ptft-chat");
  EXPECT_EQ(t.assistant_end(), "<|endoftext|>\n");
  const auto pieces = t.render_pieces({{"system", "Be brief."}, {"user", "What is a tort?"},
                                       {"assistant", "A civil wrong."}, {"user", "Example?"},
                                       {"assistant", "Trespass."}});
  ASSERT_EQ(pieces.size(), 4u);
  EXPECT_EQ(pieces[0].text, "<|system|>\nBe brief.\n<|user|>\nWhat is a tort?\n<|assistant|>\n");
  EXPECT_FALSE(pieces[0].trained);
  EXPECT_EQ(pieces[1].text, "A civil wrong.<|endoftext|>\n");
  EXPECT_TRUE(pieces[1].trained);
  EXPECT_EQ(pieces[2].text, "<|user|>\nExample?\n<|assistant|>\n");
  EXPECT_FALSE(pieces[2].trained);
  EXPECT_EQ(pieces[3].text, "Trespass.<|endoftext|>\n");
  EXPECT_TRUE(pieces[3].trained);
}

TEST(ChatTemplate, RenderPromptEndsWithAssistantPrefix) {
  const ChatTemplate t = ChatTemplate::builtin("ptft-chat");
  EXPECT_EQ(t.render_prompt({{"user", "Hi"}}), "<|user|>\nHi\n<|assistant|>\n");
  EXPECT_EQ(t.render_prompt({}), "<|assistant|>\n");
  // The prompt of a conversation is its rendered pieces up to the answer being learnt.
  const auto pieces = t.render_pieces({{"user", "Hi"}, {"assistant", "Hello."}});
  EXPECT_EQ(pieces[0].text, t.render_prompt({{"user", "Hi"}}));
}

TEST(ChatTemplate, TextAfterContentIsTrained) {
  const ChatTemplate t = ChatTemplate::from_json(
      {{"system", "S:{content}|"}, {"user", "U:{content}|"}, {"assistant", "A:{content}."}, {"assistant_end", "<E>"}},
      "test");
  EXPECT_EQ(t.name(), "custom");
  const auto pieces = t.render_pieces({{"user", "q"}, {"assistant", "a"}});
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].text, "U:q|A:");
  EXPECT_EQ(pieces[1].text, "a.<E>");
  EXPECT_TRUE(pieces[1].trained);
  EXPECT_EQ(t.render_prompt({{"user", "q"}}), "U:q|A:");
}

TEST(ChatTemplate, JsonRoundTrip) {
  const ChatTemplate t = ChatTemplate::builtin("ptft-chat");
  const nlohmann::json j = t.to_json();
  EXPECT_EQ(j, (nlohmann::json{{"name", "ptft-chat"},
                               {"system", "<|system|>\n{content}\n"},
                               {"user", "<|user|>\n{content}\n"},
                               {"assistant", "<|assistant|>\n{content}"},
                               {"assistant_end", "<|endoftext|>\n"}}));
  EXPECT_EQ(ChatTemplate::from_json(j, "config.json").to_json(), j);
}

TEST(ChatTemplate, FromJsonErrors) {
  const nlohmann::json good = ChatTemplate::builtin("ptft-chat").to_json();
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json j = good;
    j[key] = value;
    return j;
  };
  std::string e = user_error([&] { ChatTemplate::from_json(with("asistant_end", "x"), "my.json"); });
  EXPECT_NE(e.find("my.json"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown chat template key 'asistant_end'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'assistant_end'?"), std::string::npos) << e;

  e = user_error([&] { ChatTemplate::from_json(with("user", "<|user|>\n"), "my.json"); });
  EXPECT_NE(e.find("'user' must contain \"{content}\" exactly once"), std::string::npos) << e;
  e = user_error([&] { ChatTemplate::from_json(with("system", "{content}{content}"), "my.json"); });
  EXPECT_NE(e.find("'system' must contain \"{content}\" exactly once"), std::string::npos) << e;
  e = user_error([&] { ChatTemplate::from_json(with("assistant_end", "{content}"), "my.json"); });
  EXPECT_NE(e.find("'assistant_end' must not contain"), std::string::npos) << e;
  e = user_error([&] { ChatTemplate::from_json(with("assistant_end", ""), "my.json"); });
  EXPECT_NE(e.find("'assistant_end' is empty"), std::string::npos) << e;
  e = user_error([&] { ChatTemplate::from_json(with("user", 3), "my.json"); });
  EXPECT_NE(e.find("'user' must be a string, got number"), std::string::npos) << e;

  nlohmann::json missing = good;
  missing.erase("assistant");
  e = user_error([&] { ChatTemplate::from_json(missing, "my.json"); });
  EXPECT_NE(e.find("my.json: chat template has no 'assistant'"), std::string::npos) << e;
  e = user_error([&] { ChatTemplate::from_json(nlohmann::json::array(), "my.json"); });
  EXPECT_NE(e.find("must be a JSON object, got array"), std::string::npos) << e;
}

TEST(ChatTemplate, UnknownRoleIsAUserError) {
  const ChatTemplate t = ChatTemplate::builtin("ptft-chat");
  const std::string e = user_error([&] { t.render_pieces({{"user", "a"}, {"asistant", "b"}}); });
  EXPECT_NE(e.find("message 2 has unknown role 'asistant'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'assistant'?"), std::string::npos) << e;
}

TEST(ChatTemplate, FromSpecBuiltinOrFile) {
  EXPECT_EQ(ChatTemplate::from_spec("ptft-chat", "data.chat_template").name(), "ptft-chat");

  test::TempDir dir("chat_template");
  const std::string path = dir.path + "/t.json";
  std::ofstream(path) << R"({"system": "[S]{content}", "user": "[U]{content}", "assistant": "[A]{content}",
                             "assistant_end": "</s>"})";
  const ChatTemplate t = ChatTemplate::from_spec(path, "data.chat_template");
  EXPECT_EQ(t.name(), path);
  EXPECT_EQ(t.render_prompt({{"user", "x"}}), "[U]x[A]");

  std::ofstream(dir.path + "/bad.json") << "{\"system\": ";
  std::string e = user_error([&] { ChatTemplate::from_spec(dir.path + "/bad.json", "data.chat_template"); });
  EXPECT_NE(e.find("data.chat_template: chat template file '" + dir.path + "/bad.json' is not valid JSON"),
            std::string::npos) << e;

  std::ofstream(dir.path + "/unknown.json") << R"({"sytem": "x"})";
  e = user_error([&] { ChatTemplate::from_spec(dir.path + "/unknown.json", "data.chat_template"); });
  EXPECT_NE(e.find("unknown.json': unknown chat template key 'sytem'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'system'?"), std::string::npos) << e;

  e = user_error([&] { ChatTemplate::from_spec("no/such/template.json", "data.chat_template"); });
  EXPECT_NE(e.find("data.chat_template: chat template 'no/such/template.json' is neither a built-in template nor a file"),
            std::string::npos) << e;
  EXPECT_NE(e.find("built-in templates: ptft-chat"), std::string::npos) << e;

  e = user_error([&] { ChatTemplate::builtin("ptft-chta"); });
  EXPECT_NE(e.find("unknown built-in chat template 'ptft-chta'"), std::string::npos) << e;
  EXPECT_NE(e.find("did you mean 'ptft-chat'?"), std::string::npos) << e;
}

}  // namespace
}  // namespace ptft
