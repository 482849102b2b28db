// src/tokenizer/special_split.h — cuts text at literal special tokens ("<|endoftext|>", "[SEP]")
// so that each becomes its id and the text between them goes to the tokenizer's own rules.
// Private to src/tokenizer/.
//
//   SpecialSplitter sp({{"[CLS]", 2}, {"[SEP]", 3}});
//   sp.split("[CLS] hi[SEP]", [&](std::string_view text) { ... }, [&](int32_t id) { ... });
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ptft {

class SpecialSplitter {
 public:
  SpecialSplitter() = default;
  explicit SpecialSplitter(std::vector<std::pair<std::string, int32_t>> specials) : specials_(std::move(specials)) {
    for (const auto& [tok, id] : specials_)
      if (!tok.empty()) first_[static_cast<unsigned char>(tok[0])] = true;
  }

  // Calls on_text(piece) for each non-empty stretch without specials and on_special(id) for
  // each special, in order. At a position where several specials match, the longest wins.
  template <class OnText, class OnSpecial>
  void split(std::string_view text, OnText&& on_text, OnSpecial&& on_special) const {
    std::size_t start = 0;
    for (std::size_t i = 0; i < text.size();) {
      if (!first_[static_cast<unsigned char>(text[i])]) {
        ++i;
        continue;
      }
      const std::pair<std::string, int32_t>* best = nullptr;
      for (const auto& s : specials_)
        if (!s.first.empty() && text.compare(i, s.first.size(), s.first) == 0 &&
            (best == nullptr || s.first.size() > best->first.size()))
          best = &s;
      if (best == nullptr) {
        ++i;
        continue;
      }
      if (i > start) on_text(text.substr(start, i - start));
      on_special(best->second);
      i += best->first.size();
      start = i;
    }
    if (start < text.size()) on_text(text.substr(start));
  }

 private:
  std::vector<std::pair<std::string, int32_t>> specials_;
  bool first_[256] = {};
};

}  // namespace ptft
