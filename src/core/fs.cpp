#include "ptft/core/fs.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ptft/core/error.h"

namespace ptft::fs {
namespace {

std::string errno_text(int err) { return std::strerror(err); }

std::string parent_dir(const std::string& path) {
  auto p = std::filesystem::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

void fsync_path(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

void fsync_tree(const std::filesystem::path& dir) {
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) fsync_path(e.path().string());
  }
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_directory()) fsync_path(e.path().string());
  }
  fsync_path(dir.string());
}

}  // namespace

void require_parent_dir(const std::string& path, const std::string& where) {
  const std::filesystem::path dir = parent_dir(path);
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec))
    throw UserError(where + ": directory '" + dir.string() + "' " +
                        (std::filesystem::exists(dir, ec) ? "is not a directory" : "does not exist"),
                    "create the directory first or check the output path");
}

std::string make_temp_sibling(const std::string& path) {
  static std::atomic<int> counter{0};
  return path + ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(make_temp_sibling(path_)) {
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    int err = errno;
    throw UserError("cannot create '" + tmp_ + "' (to write '" + path_ + "'): " + errno_text(err),
                    "check that the directory exists and is writable");
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

void AtomicFile::write(const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    ssize_t n = ::write(fd_, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      throw UserError("writing '" + path_ + "' failed: " + errno_text(err),
                      err == ENOSPC ? "the disk is full; free space and run again (the previous "
                                      "version of the file is intact)"
                                    : "check the disk and permissions");
    }
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AtomicFile::commit() {
  if (::fsync(fd_) != 0) {
    int err = errno;
    throw UserError("fsync of '" + tmp_ + "' failed: " + errno_text(err),
                    "the disk may be full; the previous '" + path_ + "' is intact");
  }
  ::close(fd_);
  fd_ = -1;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    int err = errno;
    throw UserError("cannot rename '" + tmp_ + "' to '" + path_ + "': " + errno_text(err));
  }
  committed_ = true;
  fsync_dir(parent_dir(path_));
}

void write_file_atomic(const std::string& path, const std::string& bytes) {
  AtomicFile f(path);
  f.write(bytes);
  f.commit();
}

std::string read_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw UserError(what + " '" + path + "' does not exist", "check the path");
  if (std::filesystem::is_directory(path, ec))
    throw UserError(what + " '" + path + "' is a directory, expected a file", "check the path");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError("cannot read " + what + " '" + path + "'", "check its permissions");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void fsync_dir(const std::string& dir) { fsync_path(dir); }

namespace {

// Temporaries "<name>.tmp-<pid>-<n>" beside `path` that a killed writer left (its process is
// gone): removed, so that a run killed and re-run leaves no half-written copies behind.
void remove_stale_temps(const std::string& path) {
  namespace sfs = std::filesystem;
  const sfs::path p(path);
  const std::string prefix = p.filename().string() + ".tmp-";
  std::error_code ec;
  for (const auto& e : sfs::directory_iterator(p.has_parent_path() ? p.parent_path() : ".", ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    char* end = nullptr;
    const long pid = std::strtol(name.c_str() + prefix.size(), &end, 10);
    if (pid <= 0 || *end != '-' || pid == ::getpid()) continue;
    if (::kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // alive (or not ours to ask)
    std::error_code rm;
    sfs::remove_all(e.path(), rm);
  }
}

}  // namespace

void commit_dir(const std::string& tmp_dir, const std::string& dir) {
  fsync_tree(tmp_dir);
  std::error_code ec;
  if (std::filesystem::exists(dir, ec))
    throw InternalError("commit_dir: target '" + dir + "' already exists");
  std::filesystem::rename(tmp_dir, dir, ec);
  if (ec)
    throw UserError("cannot rename '" + tmp_dir + "' to '" + dir + "': " + ec.message());
  fsync_dir(parent_dir(dir));
  remove_stale_temps(dir);
}

void remove_all_quiet(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
}

void require_new_dir(const std::string& dir, const std::string& what) {
  namespace sfs = std::filesystem;
  std::error_code ec;
  if (!sfs::exists(dir, ec)) return;
  if (!sfs::is_directory(dir, ec) || !sfs::is_empty(dir, ec))
    throw UserError(what + " '" + dir + "' exists and is not empty", "choose a new directory (nothing is overwritten)");
  sfs::remove(dir, ec);  // an empty directory: write_dir_atomic creates it anew
}

}  // namespace ptft::fs
