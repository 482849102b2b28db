// ptft/data/sft_row.h — one line of SFT chat data (JSONL) as a conversation, without torch: the
// row check that ptft/data/sft_jsonl.h runs on every line, and that the libFuzzer target
// fuzz_jsonl_rows builds alone.
//
// Either form (other fields of a row are ignored):
//   {"prompt": "What is a tort?", "response": "A civil wrong.", "system": "Be brief."}  (system optional)
//   {"messages": [{"role": "user", "content": "..."}, {"role": "assistant", "content": "..."}, ...]}
//
//   std::vector<ChatMessage> conv = parse_sft_row(json::parse(line), "train.jsonl:3");
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/data/chat_template.h"

namespace ptft {

// What an SFT row looks like (the hint of every row error).
extern const char* const kSftRowHint;

// The conversation of one JSONL row; `where` ("file:line") starts error messages. UserError for
// a row that is not an object, has neither or both forms, a missing or non-string field, a
// message that is not an object, an unknown role, or no assistant message.
std::vector<ChatMessage> parse_sft_row(const nlohmann::json& row, const std::string& where);

}  // namespace ptft
