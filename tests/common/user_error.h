// tests/common/user_error.h — what a UserError says, for tests that check error messages.
//
//   EXPECT_NE(test::user_error([&] { open(path); }).find("x.jsonl:3: "), std::string::npos);
#pragma once

#include <string>

#include "ptft/core/error.h"

namespace ptft::test {

// The message and hint ("message\n  hint: hint") of the UserError that `f` throws; "" when it
// throws none.
template <class F>
std::string user_error(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.message() + "\n  hint: " + e.hint();
  }
  return "";
}

}  // namespace ptft::test
