// core/fs.h: directories written atomically leave nothing half-written, and a later commit
// removes the temporaries a killed writer left beside its output.
#include "ptft/core/fs.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../common/temp_dir.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

// A process id that is gone: a child that exited and was reaped.
pid_t dead_pid() {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(0);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return pid;
}

TEST(Fs, CommitRemovesTemporariesOfDeadWritersOnly) {
  test::TempDir tmp("fs");
  const std::string out = tmp.path + "/out";
  const std::string dead = out + ".tmp-" + std::to_string(dead_pid()) + "-0";
  const std::string alive = out + ".tmp-" + std::to_string(::getppid()) + "-3";  // a running process's
  const std::string other = tmp.path + "/other.tmp-" + std::to_string(dead_pid()) + "-0";  // another output's
  for (const std::string& d : {dead, alive, other}) {
    sfs::create_directories(d);
    std::ofstream(d + "/part") << "half";
  }
  fs::write_dir_atomic(out, [](const std::string& t) {
    sfs::create_directories(t);
    std::ofstream(t + "/whole") << "all";
  });
  EXPECT_TRUE(sfs::exists(out + "/whole"));
  EXPECT_FALSE(sfs::exists(dead)) << "a killed writer's temporary stays behind";
  EXPECT_TRUE(sfs::exists(alive)) << "a running writer's temporary was removed";
  EXPECT_TRUE(sfs::exists(other)) << "another output's temporary was removed";
}

}  // namespace
}  // namespace ptft
