#include "hf_post_processor.h"

namespace ptft::hf {
namespace {

using IdOf = std::function<std::optional<int32_t>(const std::string&)>;

// BertProcessing / RobertaProcessing: "cls": ["[CLS]", 101] — the id as the file gives it.
int32_t pair_id(const Json& j, const JsonAt& at, const char* key) {
  const Json& v = at.required(j, key);
  if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number_integer())
    at[key].fail(v, "expected [\"token\", id]", "write it as [\"[CLS]\", 101]");
  return v[1].get<int32_t>();
}

}  // namespace

PostProcessor PostProcessor::from_json(const Json& j, const JsonAt& at, const IdOf& id_of) {
  PostProcessor p;
  if (j.is_null()) return p;
  static const std::vector<std::string> kKnown = {"TemplateProcessing", "ByteLevel", "BertProcessing",
                                                  "RobertaProcessing", "Sequence"};
  const std::string type = at.type(j, kKnown);
  if (type == "ByteLevel") return p;
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    p.prefix = {pair_id(j, at, "cls")};
    p.suffix = {pair_id(j, at, "sep")};
    return p;
  }
  if (type == "Sequence") {
    const Json& list = at.required(j, "processors");
    if (!list.is_array()) at["processors"].fail(list, "expected a list of post-processors", "write [{\"type\": ...}]");
    for (std::size_t i = 0; i < list.size(); ++i) {
      PostProcessor inner = from_json(list[i], at["processors"][i], id_of);
      inner.prefix.insert(inner.prefix.end(), p.prefix.begin(), p.prefix.end());
      p.suffix.insert(p.suffix.end(), inner.suffix.begin(), inner.suffix.end());
      p.prefix = std::move(inner.prefix);
    }
    return p;
  }
  // TemplateProcessing: "single": [{"SpecialToken": {"id": "<s>"}}, {"Sequence": {"id": "A"}}],
  // "special_tokens": {"<s>": {"ids": [1]}}.
  const JsonAt sat = at["single"];
  const Json& single = at.required(j, "single");
  if (!single.is_array()) sat.fail(single, "expected a list of template pieces", "write [{\"Sequence\": {\"id\": \"A\"}}]");
  const Json specials = j.contains("special_tokens") ? j["special_tokens"] : Json::object();
  bool after = false;
  for (std::size_t i = 0; i < single.size(); ++i) {
    const Json& item = single[i];
    if (item.is_object() && item.contains("Sequence")) {
      after = true;
      continue;
    }
    if (!item.is_object() || !item.contains("SpecialToken"))
      sat[i].fail(item, "expected {\"SpecialToken\": ...} or {\"Sequence\": ...}", "see the tokenizers documentation");
    const std::string name = sat[i]["SpecialToken"].string(item["SpecialToken"], "id");
    std::vector<int32_t> ids;
    if (specials.is_object() && specials.contains(name) && specials[name].contains("ids") &&
        specials[name]["ids"].is_array()) {
      for (const Json& id : specials[name]["ids"]) {
        if (!id.is_number_integer())
          at["special_tokens"][name]["ids"].fail(id, "expected a token id", "ids are integers");
        ids.push_back(id.get<int32_t>());
      }
    } else if (const auto id = id_of(name)) {
      ids.push_back(*id);
    } else {
      sat[i]["SpecialToken"]["id"].fail(Json(name), "no such token (not in special_tokens nor in the vocabulary)",
                                        "list it under post_processor.special_tokens");
    }
    auto& into = after ? p.suffix : p.prefix;
    into.insert(into.end(), ids.begin(), ids.end());
  }
  return p;
}

}  // namespace ptft::hf
