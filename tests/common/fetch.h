// tests/common/fetch.h — test data that a scripts/fetch-*.sh script downloads on first use.
//
//   static const std::string problem = test::fetch_problem("fetch-gguf-reference.sh", dir,
//       [&] { return std::filesystem::exists(dir + "/x"); }, "@huggingface/gguf");
//   ASSERT_TRUE(problem.empty()) << problem;
#pragma once

#include <string>

#include "python.h"

namespace ptft::test {

// "" when have() holds, running scripts/<script> DIR first if it does not; else why not (with
// the script's output). Call it once per process (from a function-local static).
template <class Have>
std::string fetch_problem(const std::string& script, const std::string& dir, Have&& have, const std::string& what) {
  if (have()) return std::string();
  int status = 0;
  const std::string log =
      run_command("bash '" PTFT_SOURCE_DIR "/scripts/" + script + "' '" + dir + "' 2>&1", &status);
  if (status != 0 || !have())
    return what + " not in " + dir + " and scripts/" + script +
           " could not fetch them (it needs npm and the npm registry):\n" + log;
  return std::string();
}

}  // namespace ptft::test
