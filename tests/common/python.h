// tests/common/python.h — running the Python reference scripts of golden tests.
//
//   int status = 0;
//   std::string out = test::run_command(test::python_with_numpy() + " ref.py logits DIR", &status);
//   std::string json = test::run_reference(kReference, "logits " + dir);   // failure if it exits != 0
//   if (test::python_with_numpy().empty()) GTEST_SKIP() << "no python3 with numpy";
//   std::string py = test::python_with("torchvision");   // "" when none imports it
//   PTFT_REQUIRE_NUMPY("the reference GPT-2");             // skips the test without numpy
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

namespace ptft::test {

// Runs `cmd` through the shell; returns its stdout and sets *status (its exit code; -1 when it
// could not run or was killed).
inline std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) {
    *status = -1;
    return {};
  }
  char buf[65536];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int st = ::pclose(p);
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

// The first python3 that imports `module` (e.g. "numpy", or "numpy, torchvision" for both): $PTFT_PYTHON, python3 on
// PATH, /usr/bin/python3 (Debian's python3-* packages install for the system interpreter, which a
// pyenv may shadow). Empty when there is none. Probed once per module.
inline std::string python_with(const std::string& module) {
  static std::map<std::string, std::string> found;
  auto it = found.find(module);
  if (it != found.end()) return it->second;
  std::vector<std::string> candidates;
  if (const char* env = std::getenv("PTFT_PYTHON")) candidates.push_back(env);
  candidates.push_back("python3");
  candidates.push_back("/usr/bin/python3");
  std::string py;
  for (const auto& c : candidates)
    if (std::system((c + " -c 'import " + module + "' >/dev/null 2>&1").c_str()) == 0) {
      py = c;
      break;
    }
  return found[module] = py;
}

inline const std::string& python_with_numpy() {
  static const std::string py = python_with("numpy");
  return py;
}

// The stdout of `python_with_numpy() script args`; a non-zero exit is a test failure naming the
// script, the arguments and the output (then "" is returned). The script's stderr is the test's.
inline std::string run_reference(const std::string& script, const std::string& args) {
  int status = 0;
  std::string out = run_command(python_with_numpy() + " " + script + " " + args, &status);
  if (status == 0) return out;
  ADD_FAILURE() << script << " " << args << " exited with " << status << ": " << out;
  return {};
}

}  // namespace ptft::test

// Skips the current test when no python3 imports numpy; `what` (a string literal) names what needed it.
#define PTFT_REQUIRE_NUMPY(what)                                                                      \
  if (::ptft::test::python_with_numpy().empty())                                                     \
  GTEST_SKIP() << "no python3 with numpy for " what " (scripts/setup.sh installs python3-numpy; "    \
                  "PTFT_PYTHON picks an interpreter)"
