// ptft/core/shell.h — command lines printed for the user to paste (resume hints): arguments
// quoted for a POSIX shell only where they need it.
//
//   shell_quote("runs/a b")  // "'runs/a b'"
//   shell_quote("runs/x")    // "runs/x"
#pragma once

#include <string>

namespace ptft {

// `s` as one shell word: unchanged when it has no special characters, else in single quotes
// (an inner ' becomes '\'').
std::string shell_quote(const std::string& s);

}  // namespace ptft
