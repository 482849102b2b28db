// Real chat templates rendered by JinjaTemplate (ptft/jinja/template.h) byte for byte as
// transformers' apply_chat_template renders them with Python's jinja2
// (tests/jinja/render_reference.py): Llama-3 and Qwen3 (thinking and tool branches) from the
// tokenizer_config.json files scripts/fetch-hf-tokenizers.sh fetches into
// PTFT_SOURCE_DIR/data/hf-tokenizers (run on demand; a clear failure when npm cannot reach the
// registry), and one in the Llama-2 chat format written for these tests
// (tests/jinja/data/llama2_chat_template.jinja: the npm Llama-2 package carries none). A dozen
// conversations each; one Python process renders them all.
//
// The context is what apply_chat_template passes: messages, tools, documents,
// add_generation_prompt, the tokenizer's special tokens (those set in tokenizer_config.json) and
// the extra keyword arguments (enable_thinking).
#include "ptft/jinja/template.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "../common/hf_tokenizers.h"
#include "../common/temp_dir.h"
#include "jinja_reference.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

namespace stdfs = std::filesystem;
using Json = nlohmann::ordered_json;

const std::string kTokenizersDir = test::hf_tokenizers_root();
const std::string kLlama2Template = PTFT_SOURCE_DIR "/tests/jinja/data/llama2_chat_template.jinja";

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json config(const std::string& model) {
  return Json::parse(read_text(kTokenizersDir + "/" + model + "/tokenizer_config.json"));
}

// The tokenizer's special_tokens_map as transformers passes it: the tokens set (not null, not
// empty) in tokenizer_config.json, AddedToken objects by their content.
Json special_tokens(const Json& cfg) {
  Json out = Json::object();
  for (const char* key : {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token",
                          "additional_special_tokens"}) {
    if (!cfg.contains(key)) continue;
    Json v = cfg[key];
    if (v.is_object() && v.contains("content")) v = v["content"];
    if (v.is_null() || (v.is_array() && v.empty()) || (v.is_string() && v.get<std::string>().empty())) continue;
    out[key] = v;
  }
  return out;
}

Json msg(const std::string& role, const std::string& content) { return Json{{"role", role}, {"content", content}}; }

struct Conversation {
  std::string name;
  Json messages;
  bool add_generation_prompt = false;
  Json extra = Json::object();  // tools, enable_thinking, ...
};

Json context_for(const Conversation& c, const Json& tokens) {
  Json ctx = {{"messages", c.messages}, {"tools", nullptr}, {"documents", nullptr},
              {"add_generation_prompt", c.add_generation_prompt}};
  for (auto it = tokens.begin(); it != tokens.end(); ++it) ctx[it.key()] = it.value();
  for (auto it = c.extra.begin(); it != c.extra.end(); ++it) ctx[it.key()] = it.value();
  return ctx;
}

// Conversations every template gets.
std::vector<Conversation> common_conversations() {
  std::vector<Conversation> cs;
  cs.push_back({"one user turn, generation prompt", Json::array({msg("user", "What is a tort?")}), true});
  cs.push_back({"one user turn, no generation prompt", Json::array({msg("user", "What is a tort?")}), false});
  cs.push_back({"system + user", Json::array({msg("system", "You are a concise legal assistant."), msg("user", "Define tort.")}), true});
  cs.push_back({"multi-turn with system",
                Json::array({msg("system", "Be brief."), msg("user", "Hi!"), msg("assistant", "Hello. How can I help?"),
                             msg("user", "What is negligence?"), msg("assistant", "A failure to take reasonable care."),
                             msg("user", "Thanks")}),
                true});
  cs.push_back({"multi-turn without system, ends with assistant",
                Json::array({msg("user", "2+2?"), msg("assistant", "4"), msg("user", "And 3+3?"), msg("assistant", "6")}), false});
  cs.push_back({"whitespace around content",
                Json::array({msg("system", "\n  Be kind.  \n"), msg("user", "   padded question \n\n"),
                             msg("assistant", "\tanswer with tab\t"), msg("user", " last ")}),
                true});
  cs.push_back({"unicode and emoji", Json::array({msg("user", "Tschüß! 你好 🙂 — «quotes» ‘x’"), msg("assistant", "Ça va ✓ 日本語")}),
                false});
  cs.push_back({"template-like and special text in content",
                Json::array({msg("user", "{{ not a tag }} {% if %} <|eot_id|> </s> [INST] \\n \"q\" 'a'"),
                             msg("assistant", "{# nor this #}")}),
                true});
  cs.push_back({"empty contents", Json::array({msg("user", ""), msg("assistant", "")}), true});
  Json long_conv = Json::array();
  for (int i = 0; i < 10; ++i) {
    long_conv.push_back(msg("user", "question " + std::to_string(i) + "\nwith a second line"));
    long_conv.push_back(msg("assistant", "answer " + std::to_string(i)));
  }
  cs.push_back({"twenty turns", long_conv, false});
  Json extra_keys = Json::array({Json{{"role", "user"}, {"content", "x"}, {"name", "bob"}, {"id", 7}}});
  cs.push_back({"messages with extra keys", extra_keys, true});
  std::string long_text;
  for (int i = 0; i < 400; ++i) long_text += "Line " + std::to_string(i) + " of a long document, with trailing spaces   \n";
  cs.push_back({"long content", Json::array({msg("user", long_text), msg("assistant", long_text)}), true});
  return cs;
}

struct TemplateCase {
  std::string model;
  std::string source;
  Json tokens;
  std::vector<Conversation> conversations;
};

std::vector<TemplateCase> template_cases() {
  std::vector<TemplateCase> out;
  {
    Json cfg = config("llama3");
    out.push_back({"llama3", cfg["chat_template"].get<std::string>(), special_tokens(cfg), common_conversations()});
  }
  {
    Json cfg = config("qwen3");
    auto cs = common_conversations();
    Json tools = Json::parse(R"([
      {"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string", "description": "Город"}},
                       "required": ["city"]}}},
      {"type": "function", "function": {"name": "add", "description": "a + b",
        "parameters": {"type": "object", "properties": {"a": {"type": "number"}, "b": {"type": "number"}}}}}])");
    Json thinking = Json::array({msg("user", "Is 17 prime?"),
                                 Json{{"role", "assistant"}, {"content", "Yes, 17 is prime."},
                                      {"reasoning_content", "17 has no divisors but 1 and 17."}},
                                 msg("user", "And 21?")});
    cs.push_back({"thinking disabled", Json::array({msg("user", "Hi")}), true, Json{{"enable_thinking", false}}});
    cs.push_back({"thinking enabled", Json::array({msg("user", "Hi")}), true, Json{{"enable_thinking", true}}});
    cs.push_back({"reasoning_content in history", thinking, true});
    cs.push_back({"reasoning_content last assistant",
                  Json::array({msg("user", "Is 17 prime?"),
                               Json{{"role", "assistant"}, {"content", "\n\nYes."}, {"reasoning_content", "\nCheck divisors.\n"}}}),
                  false});
    cs.push_back({"think tags inside content",
                  Json::array({msg("user", "q1"), msg("assistant", "<think>\nold reasoning\n</think>\n\nold answer"), msg("user", "q2"),
                               msg("assistant", "<think>\nnew reasoning\n</think>\n\nnew answer")}),
                  false});
    Json tool_conv = Json::array(
        {msg("system", "You help with weather."), msg("user", "Weather in Paris and 2+3?"),
         Json{{"role", "assistant"}, {"content", "Let me check."},
              {"tool_calls", Json::array({Json{{"type", "function"},
                                               {"function", Json{{"name", "get_weather"}, {"arguments", Json{{"city", "Paris"}}}}}},
                                          Json{{"type", "function"},
                                               {"function", Json{{"name", "add"}, {"arguments", "{\"a\": 2, \"b\": 3}"}}}}})}},
         msg("tool", "{\"temp\": 21, \"sky\": \"clear\"}"), msg("tool", "5"),
         msg("user", "<tool_response>\nnot a real one\n</tool_response>")});
    cs.push_back({"tools with tool calls and responses", tool_conv, true, Json{{"tools", tools}}});
    cs.push_back({"tools without system", Json::array({msg("user", "Weather?")}), true, Json{{"tools", tools}}});
    Json multi_step = Json::array({msg("user", "Add 1 and 2"),
                                   Json{{"role", "assistant"}, {"content", ""},
                                        {"tool_calls", Json::array({Json{{"name", "add"}, {"arguments", Json{{"a", 1}, {"b", 2}}}}})}},
                                   msg("tool", "3"),
                                   Json{{"role", "assistant"}, {"content", "It is 3."}, {"reasoning_content", "tool said 3"}}});
    cs.push_back({"multi-step tool call without function wrapper", multi_step, false, Json{{"tools", tools}}});
    out.push_back({"qwen3", cfg["chat_template"].get<std::string>(), special_tokens(cfg), cs});
  }
  {
    Json cfg = config("llama2");
    auto cs = common_conversations();
    cs.push_back({"roles not alternating (raises)", Json::array({msg("user", "a"), msg("user", "b")}), true});
    cs.push_back({"assistant first (raises)", Json::array({msg("assistant", "a"), msg("user", "b")}), false});
    cs.push_back({"system only", Json::array({msg("system", "s")}), false});
    out.push_back({"llama2", read_text(kLlama2Template), special_tokens(cfg), cs});
  }
  return out;
}

TEST(JinjaChatTemplates, RealTemplatesMatchTransformers) {
  PTFT_REQUIRE_JINJA2();
  PTFT_REQUIRE_HF_TOKENIZERS();
  const auto cases = template_cases();
  Json spec = {{"now", "2026-07-26T14:05:09"}, {"cases", Json::array()}};
  for (const auto& t : cases)
    for (const auto& c : t.conversations)
      spec["cases"].push_back(Json{{"name", t.model + ": " + c.name}, {"template", t.source}, {"context", context_for(c, t.tokens)}});
  test::TempDir tmp("jinja_chat");
  std::ofstream(tmp.path + "/cases.json") << spec.dump();
  const Json results = jinja_test::run_reference(tmp.path + "/cases.json");
  ASSERT_EQ(results.size(), spec["cases"].size());
  std::size_t i = 0, errors = 0;
  for (const auto& t : cases) {
    const JinjaTemplate tmpl = JinjaTemplate::parse(t.source, t.model + " tokenizer_config.json chat_template");
    EXPECT_GE(t.conversations.size(), 12u) << t.model;
    for (const auto& c : t.conversations) {
      const Json ctx = context_for(c, t.tokens);
      errors += results[i].contains("error");
      jinja_test::expect_same(results[i++], [&] { return tmpl.render(ctx); }, t.model + ": " + c.name);
    }
  }
  EXPECT_EQ(errors, 2u) << "the two Llama-2 conversations that raise_exception";
}

TEST(JinjaChatTemplates, Llama2RaiseExceptionMessage) {
  const JinjaTemplate tmpl = JinjaTemplate::parse(read_text(kLlama2Template), "llama2 chat_template");
  const Json ctx = {{"messages", Json::array({msg("user", "a"), msg("user", "b")})}, {"bos_token", "<s>"}, {"eos_token", "</s>"}};
  try {
    tmpl.render(ctx);
    FAIL() << "expected raise_exception";
  } catch (const UserError& e) {
    EXPECT_EQ(e.message(), "chat template raised: Conversation roles must alternate user/assistant/user/assistant/...");
    EXPECT_NE(e.hint().find("llama2 chat_template, line 1"), std::string::npos) << e.hint();
  }
}

}  // namespace
}  // namespace ptft
