// tests/e2e/run_ptft.h — helpers for end-to-end tests that run the real `ptft` binary.
//
// Torch-free on purpose (the e2e suite links ptft_base only): weights are read back with
// ptft::safetensors::File, outputs parsed with nlohmann::json.
//
//   e2e::TempDir tmp;                                   // unique per test, removed at the end
//   auto r = e2e::run_ptft({"pretrain", "--config", e2e::spirals_config(),
//                           "--out", tmp.path("run"), "--quiet"});
//   EXPECT_EQ(r.exit_code, 0) << r.err;
//   auto w = e2e::read_tensors(tmp.path("run/checkpoints/last/model.safetensors"));
//
//   auto c = e2e::run_program("/usr/bin/chromium", {...}, tmp.root(), std::chrono::seconds(60));
//   pid_t pid = e2e::start_ptft({...}, tmp.path("log"));   // in the background
//   ::kill(pid, SIGINT);  auto st = e2e::wait_for(pid);   // st.exit_code, st.signal
//
// Children run with the temp dir as their cwd (nothing leaks into the build tree) and with
// stdout/stderr captured to files (no pipe can fill up and block the child).
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/files.h"
#include "ptft/io/safetensors.h"

namespace e2e {
namespace sfs = std::filesystem;

inline std::string binary() { return PTFT_BINARY; }
inline std::string spirals_config() { return std::string(PTFT_SOURCE_DIR) + "/configs/mlp-spirals.yaml"; }

using ::ptft::test::read_json;
using ::ptft::test::read_text;
using ::ptft::test::write_text;

// A fresh directory: <TMPDIR>/ptft-e2e-<Suite>.<Test>-XXXXXX (or -<label>-XXXXXX). Removed by the
// destructor unless PTFT_E2E_KEEP is set (then its path is printed for inspection).
class TempDir {
 public:
  // `label` defaults to the running test's Suite.Name.
  explicit TempDir(std::string label = {}) {
    const char* base = std::getenv("TMPDIR");
    std::string name = "ptft-e2e";
    if (label.empty())
      if (const auto* info = ::testing::UnitTest::GetInstance()->current_test_info())
        label = std::string(info->test_suite_name()) + "." + info->name();
    if (!label.empty()) name += "-" + label;
    for (auto& c : name)
      if (c == '/') c = '_';
    std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + name + "-XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp(" + tmpl + ") failed");
    root_ = buf.data();
  }
  ~TempDir() {
    if (std::getenv("PTFT_E2E_KEEP")) {
      std::fprintf(stderr, "kept %s\n", root_.c_str());
      return;
    }
    std::error_code ec;
    sfs::remove_all(root_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& root() const { return root_; }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }

 private:
  std::string root_;
};

struct Result {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended the process, 0 if it exited
  std::string out;     // stdout
  std::string err;     // stderr
  std::string text() const { return "exit " + std::to_string(exit_code) + "\n--- stderr:\n" + err + "\n--- stdout:\n" + out; }
};

inline std::string join_args(const std::vector<std::string>& args) {
  std::string s = "ptft";
  for (const auto& a : args) s += " " + a;
  return s;
}

// Extra environment variables of a child (added to, or replacing, the test's own); a variable
// whose value is kUnset is removed.
using Env = std::map<std::string, std::string>;
inline const std::string kUnset = std::string(1, '\0') + "unset";

namespace detail {

// fork + exec of `program` with stdout/stderr redirected to files, cwd = `cwd`.
inline pid_t spawn_program(const std::string& program, const std::vector<std::string>& args, const std::string& cwd,
                           const std::string& out_path, const std::string& err_path, const Env& env = {}) {
  std::vector<std::string> argv_s = {program};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;  // built before fork: the child only calls execve
  for (char** e = environ; *e; ++e) {
    const std::string kv = *e;
    if (!env.count(kv.substr(0, kv.find('=')))) env_s.push_back(kv);
  }
  for (const auto& [k, v] : env)
    if (v != kUnset) env_s.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& kv : env_s) envp.push_back(kv.data());
  envp.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    // Child: only async-signal-safe calls from here on.
    int in = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    // A child of a test runner must not inherit a blocked or ignored SIGINT/SIGTERM.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGINT, SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  return pid;
}

// The same with the ptft binary.
inline pid_t spawn(const std::vector<std::string>& args, const std::string& cwd, const std::string& out_path,
                   const std::string& err_path, const Env& env = {}) {
  return spawn_program(binary(), args, cwd, out_path, err_path, env);
}

}  // namespace detail

struct ExitStatus {
  int exit_code = -1;  // -1 when killed by a signal (or still running after a timeout)
  int signal = 0;
  bool timed_out = false;
};

// Waits for `pid` to end; after `timeout` it is SIGKILLed and timed_out is set.
inline ExitStatus wait_for(pid_t pid, std::chrono::milliseconds timeout = std::chrono::seconds(120)) {
  ExitStatus s;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0) throw std::runtime_error(std::string("waitpid failed: ") + std::strerror(errno));
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      s.timed_out = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (WIFEXITED(status)) s.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) s.signal = WTERMSIG(status);
  return s;
}

// Runs `program args...` (a path) to completion in `cwd` (default: a scratch dir under TMPDIR);
// after `timeout` it is killed and r.err says so.
inline Result run_program(const std::string& program, const std::vector<std::string>& args, const std::string& cwd = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(120), const Env& env = {}) {
  // Capture files live in their own scratch dir so that cwd can be anything.
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/ptft-e2e-io-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (::mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  const std::string io = buf.data();
  const pid_t pid = detail::spawn_program(program, args, cwd.empty() ? io : cwd, io + "/stdout", io + "/stderr", env);
  const ExitStatus st = wait_for(pid, timeout);
  Result r;
  r.exit_code = st.exit_code;
  r.signal = st.signal;
  r.out = read_text(io + "/stdout");
  r.err = read_text(io + "/stderr");
  if (st.timed_out) r.err += "\n[e2e: killed after timeout]";
  std::error_code ec;
  sfs::remove_all(io, ec);
  return r;
}

// Runs `ptft args...` to completion in `cwd` (default: a scratch dir under TMPDIR).
inline Result run_ptft(const std::vector<std::string>& args, const std::string& cwd = {},
                       std::chrono::milliseconds timeout = std::chrono::seconds(120), const Env& env = {}) {
  return run_program(binary(), args, cwd, timeout, env);
}

// The binary with stdin read from the file `input` (for `ptft chat`); its output goes through
// files in `tmp`.
inline Result run_ptft_with_stdin(const std::vector<std::string>& args, const std::string& input,
                                  const TempDir& tmp) {
  auto quote = [](const std::string& s) { return "'" + s + "'"; };
  std::string cmd = quote(binary());
  for (const auto& a : args) cmd += " " + quote(a);
  cmd += " < " + quote(input) + " > " + quote(tmp.path("chat.out")) + " 2> " + quote(tmp.path("chat.err"));
  const int status = std::system(cmd.c_str());
  Result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_text(tmp.path("chat.out"));
  r.err = read_text(tmp.path("chat.err"));
  return r;
}

// Starts `ptft args...` in the background (cwd = `cwd`); its stdout/stderr go to
// `log_prefix`.out / `log_prefix`.err. Reap it with wait_for().
inline pid_t start_ptft(const std::vector<std::string>& args, const std::string& log_prefix,
                        const std::string& cwd = {}, const Env& env = {}) {
  return detail::spawn(args, cwd.empty() ? sfs::path(log_prefix).parent_path().string() : cwd,
                       log_prefix + ".out", log_prefix + ".err", env);
}

// Polls `cond` every 10 ms until it holds or `timeout` passes; returns whether it held.
inline bool wait_until(const std::function<bool()>& cond,
                       std::chrono::milliseconds timeout = std::chrono::seconds(60)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return cond();
}


// metrics.jsonl -> one JSON object per line.
inline std::vector<nlohmann::json> read_jsonl(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(read_text(path));
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// A tensor of a safetensors file as comparable values: dtype, shape and raw bytes.
struct TensorBytes {
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
  bool operator==(const TensorBytes& o) const { return dtype == o.dtype && shape == o.shape && bytes == o.bytes; }
  bool operator!=(const TensorBytes& o) const { return !(*this == o); }
};
using TensorBytesMap = std::map<std::string, TensorBytes>;

// Reads every tensor of a .safetensors file (throws ptft::UserError if it is not valid).
inline TensorBytesMap read_tensors(const std::string& path) {
  auto f = ptft::safetensors::File::open(path);
  TensorBytesMap out;
  for (const auto& t : f->tensors()) {
    const auto* p = reinterpret_cast<const char*>(f->data(t));
    out[t.name] = TensorBytes{ptft::safetensors::dtype_name(t.dtype), t.shape, std::string(p, t.nbytes())};
  }
  return out;
}

// gtest assertion: the same tensor names, each with the same dtype, shape and bytes.
inline ::testing::AssertionResult same_tensors(const TensorBytesMap& a, const TensorBytesMap& b) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " tensors";
  for (const auto& [name, ta] : a) {
    auto it = b.find(name);
    if (it == b.end()) return ::testing::AssertionFailure() << "tensor '" << name << "' missing in the second file";
    if (ta != it->second) return ::testing::AssertionFailure() << "tensor '" << name << "' differs";
  }
  return ::testing::AssertionSuccess();
}

// gtest assertion: the same F32 tensors (names, shapes) with values within `atol` + `rtol` * |b|.
inline ::testing::AssertionResult close_tensors(const TensorBytesMap& a, const TensorBytesMap& b, double atol,
                                                double rtol = 0) {
  if (a.size() != b.size())
    return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " tensors";
  double worst = 0;
  std::string worst_name;
  for (const auto& [name, ta] : a) {
    auto it = b.find(name);
    if (it == b.end()) return ::testing::AssertionFailure() << "tensor '" << name << "' missing in the second file";
    const TensorBytes& tb = it->second;
    if (ta.dtype != "F32" || tb.dtype != "F32" || ta.shape != tb.shape || ta.bytes.size() != tb.bytes.size())
      return ::testing::AssertionFailure() << "tensor '" << name << "': " << ta.dtype << " vs " << tb.dtype
                                           << " or another shape";
    const auto* x = reinterpret_cast<const float*>(ta.bytes.data());
    const auto* y = reinterpret_cast<const float*>(tb.bytes.data());
    for (size_t i = 0; i < ta.bytes.size() / sizeof(float); ++i) {
      const double excess = std::abs(double(x[i]) - y[i]) - (atol + rtol * std::abs(double(y[i])));
      if (!(excess <= worst)) {  // (NaN counts as the worst)
        worst = std::isnan(excess) ? INFINITY : excess;
        worst_name = name + "[" + std::to_string(i) + "] " + std::to_string(x[i]) + " vs " + std::to_string(y[i]);
      }
    }
  }
  if (worst > 0) return ::testing::AssertionFailure() << "beyond tolerance: " << worst_name;
  return ::testing::AssertionSuccess();
}

// The subdirectories of `dir` whose names start with `prefix`, sorted.
inline std::vector<std::string> entries_with_prefix(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : sfs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Every file of the tree under `dir` (relative paths, symlinks listed but not followed).
inline std::vector<std::string> list_tree(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = sfs::recursive_directory_iterator(dir, ec); it != sfs::recursive_directory_iterator();
       it.increment(ec)) {
    if (ec) break;
    out.push_back(sfs::relative(it->path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A complete training checkpoint: the four files, each parseable.
inline ::testing::AssertionResult complete_checkpoint(const std::string& dir) {
  for (const char* f : {"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json"}) {
    std::error_code ec;
    if (!sfs::is_regular_file(dir + "/" + f, ec))
      return ::testing::AssertionFailure() << dir << " has no " << f;
  }
  try {
    (void)read_json(dir + "/config.json");
    (void)read_json(dir + "/trainer_state.json");
    (void)read_tensors(dir + "/model.safetensors");
    (void)read_tensors(dir + "/optimizer.safetensors");
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << dir << ": " << e.what();
  }
  return ::testing::AssertionSuccess();
}

// Truncates a file to half its size (a torn write, a bad copy).
inline void truncate_half(const std::string& path) {
  const auto size = sfs::file_size(path);
  sfs::resize_file(path, size / 2);
}

// Arguments for `ptft <command> --config configs/mlp-spirals.yaml --out <out> --threads 1
// --quiet --set ...`. One intra-op thread: the MLP is too small to gain from more, and the
// suite runs its tests in parallel.
inline std::vector<std::string> spirals_args(const std::string& command, const std::string& out,
                                             const std::vector<std::string>& sets = {}, bool quiet = true) {
  std::vector<std::string> a = {command, "--config", spirals_config(), "--out", out, "--threads", "1"};
  if (quiet) a.push_back("--quiet");
  for (const auto& s : sets) {
    a.push_back("--set");
    a.push_back(s);
  }
  return a;
}

inline std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace e2e
