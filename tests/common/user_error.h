// tests/common/user_error.h — the message of the UserError a call throws, for tests that check
// what an error says.
//
//   const std::string err = test::user_error_of([&] { read_checkpoint(dir); });  // fails the test if none
//   EXPECT_TRUE(test::contains(err, "lacks tensor(s)")) << err;
//   EXPECT_NE(test::user_error([&] { open(path); }).find("x.jsonl:3: "), std::string::npos);
#pragma once

#include <gtest/gtest.h>

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

// e.full() (what + hint) of the UserError `f` throws; a test failure and "" when it throws none.
template <class F>
std::string user_error_of(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.full();
  }
  ADD_FAILURE() << "expected a UserError";
  return {};
}

inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace ptft::test
