// ptft/core/error.h — the two kinds of failure and how context is added to them.
//
// UserError: bad input the user can fix (missing file, unknown config key, wrong shape).
//   The message names the file/key/value and says how to fix it. `ptft` exits with status 1.
// InternalError: a bug or broken invariant. `ptft` exits with status 2.
//
//   throw UserError("cannot open '" + path + "': no such file", "check the --config path");
//   try { load(p); } catch (const Error& e) { throw e.with_context("loading checkpoint " + p); }
#pragma once

#include <stdexcept>
#include <string>

namespace ptft {

class Error : public std::runtime_error {
 public:
  Error(std::string what, std::string hint = {})
      : std::runtime_error(what), what_(std::move(what)), hint_(std::move(hint)) {}
  // What went wrong, with file/key/value.
  const std::string& message() const { return what_; }
  // How to fix it (may be empty).
  const std::string& hint() const { return hint_; }
  // "message\n  hint: ..." as printed by the CLI.
  std::string full() const;
  virtual int exit_code() const = 0;

 protected:
  std::string what_;
  std::string hint_;
};

class UserError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 1; }
  // A copy whose message starts with "context: ".
  UserError with_context(const std::string& context) const {
    return UserError(context + ": " + what_, hint_);
  }
};

class InternalError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
  InternalError with_context(const std::string& context) const {
    return InternalError(context + ": " + what_, hint_);
  }
};

// Throws InternalError with the location when an internal invariant does not hold.
#define PTFT_CHECK(cond, msg)                                                              \
  do {                                                                                     \
    if (!(cond))                                                                           \
      throw ::ptft::InternalError(std::string(__FILE__) + ":" + std::to_string(__LINE__) + \
                                  ": check failed: " #cond ": " + (msg));                  \
  } while (0)

}  // namespace ptft
