// bench/bench_lines.h — a text file cut into lines, each with its "\n", as the JS peers of the
// tokenizer benchmarks cut it (split(/(?<=\n)/)), so that both sides encode the same chunks.
//
//   std::string text;
//   std::vector<std::string_view> lines = bench::read_lines(path, &text);   // views into text
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "ptft/core/error.h"

namespace ptft::bench {

inline std::vector<std::string_view> read_lines(const std::string& path, std::string* text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read '" + path + "'", "check the path");
  std::ostringstream ss;
  ss << in.rdbuf();
  *text = ss.str();
  std::vector<std::string_view> lines;
  for (std::size_t pos = 0; pos < text->size();) {
    std::size_t end = text->find('\n', pos);
    end = end == std::string::npos ? text->size() : end + 1;
    lines.push_back(std::string_view(*text).substr(pos, end - pos));
    pos = end;
  }
  return lines;
}

}  // namespace ptft::bench
