// A ptft chat template as Jinja (data/chat_template_export.h): rendered by the Jinja engine (byte-
// exact with Python's jinja2, tests/jinja), it gives every conversation exactly as ptft renders
// it, whatever characters the template's text holds; a Jinja template comes back as it is.
#include "ptft/data/chat_template_export.h"

#include <gtest/gtest.h>

#include "../common/user_error.h"
#include "ptft/data/chat_template.h"

namespace ptft {
namespace {

const std::vector<std::vector<ChatMessage>> kConversations = {
    {{"user", "What is a tort?"}},
    {{"system", "Answer briefly."}, {"user", "Hi"}, {"assistant", "Hello! {content} '{{ x }}' \\n"}, {"user", "And?"}},
    {{"user", "quotes ' \" and {% raw %} and \\ backslashes"}, {"assistant", ""}},
};

TEST(ChatTemplateExport, JinjaFormRendersEveryConversationAsPtftDoes) {
  const std::vector<nlohmann::json> templates = {
      ChatTemplate::builtin("ptft-chat").to_json(),
      {{"system", "{% sys %}: {content}\n"}, {"user", "U '{{x}}' \\ {content}\n\n"}, {"assistant", "A: {content} ]"},
       {"assistant_end", "</s>\n"}},
  };
  for (const auto& tj : templates) {
    const ChatTemplate t = ChatTemplate::from_json(tj, "test");
    const std::string jinja = chat_template_as_jinja(tj, "test");
    const ChatTemplate j = ChatTemplate::from_jinja(jinja, "exported", "", "", t.assistant_end());
    for (const auto& conv : kConversations) {
      EXPECT_EQ(j.render_prompt(conv), t.render_prompt(conv)) << jinja;
      std::string pieces_t, pieces_j;
      for (const auto& p : t.render_pieces(conv)) pieces_t += (p.trained ? "[T]" : "[P]") + p.text;
      for (const auto& p : j.render_pieces(conv)) pieces_j += (p.trained ? "[T]" : "[P]") + p.text;
      if (conv.back().role == "assistant" && !conv.back().content.empty()) {
        EXPECT_EQ(pieces_j, pieces_t);
      }
    }
  }
}

TEST(ChatTemplateExport, AJinjaTemplateIsReturnedAsItIsAndABadOneIsRefused) {
  const nlohmann::json hf = {{"jinja", "{% for m in messages %}{{ m['content'] }}{% endfor %}"}, {"assistant_end", "<e>"}};
  EXPECT_EQ(chat_template_as_jinja(hf, "x"), hf["jinja"].get<std::string>());
  const std::string err = test::user_error_of([] { chat_template_as_jinja({{"user", "no content marker"}}, "cfg"); });
  EXPECT_NE(err.find("cfg"), std::string::npos) << err;
}

}  // namespace
}  // namespace ptft
