#include "ptft/core/shell.h"

namespace ptft {

std::string shell_quote(const std::string& s) {
  if (s.find_first_of(" \t'\"$\\*?;&|<>()") == std::string::npos && !s.empty()) return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace ptft
