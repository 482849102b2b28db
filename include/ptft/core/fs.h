// ptft/core/fs.h — files that are never half-written.
//
// AtomicFile writes to a temporary sibling ("<path>.tmp-<pid>-<n>"), and commit() fsyncs it,
// renames it over <path> and fsyncs the directory. If the process dies or the disk fills up
// before commit(), <path> keeps its previous content and the temporary is removed (or, after
// a kill, left as a *.tmp-* file that the next writer of that directory may clean up).
//
//   AtomicFile f("run/metrics.json");
//   f.write(text.data(), text.size());
//   f.commit();
#pragma once

#include <cstddef>
#include <string>

namespace ptft::fs {

class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();  // removes the temporary unless commit() succeeded
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends bytes; a write error (e.g. ENOSPC) throws UserError naming the file.
  void write(const void* data, std::size_t size);
  void write(const std::string& s) { write(s.data(), s.size()); }
  // fsync + rename over the target + fsync of the directory.
  void commit();
  const std::string& temp_path() const { return tmp_; }

 private:
  std::string path_;
  std::string tmp_;
  int fd_ = -1;
  bool committed_ = false;
};

// Whole-file helpers.
void write_file_atomic(const std::string& path, const std::string& bytes);
// Reads a whole file; a missing/unreadable file is a UserError naming it and `what` it is
// ("config file", "checkpoint config") so that the message says what the user pointed at.
std::string read_file(const std::string& path, const std::string& what = "file");
// UserError "<where>: directory 'D' does not exist" (or "is not a directory") unless the
// directory that `path` would be written into exists.
void require_parent_dir(const std::string& path, const std::string& where);
// fsync a directory so that a rename inside it is durable.
void fsync_dir(const std::string& dir);
// Writes a directory atomically: `fill` writes into a fresh temporary sibling directory,
// which is then fsynced and renamed to `dir`. `dir` must not exist yet.
// Used for checkpoints: a kill at any instant leaves either no `dir` or a complete one.
template <class Fill>
void write_dir_atomic(const std::string& dir, Fill&& fill);
std::string make_temp_sibling(const std::string& path);
void commit_dir(const std::string& tmp_dir, const std::string& dir);
void remove_all_quiet(const std::string& path);
// For outputs written with write_dir_atomic: UserError ("<what> '<dir>' exists and is not empty")
// unless `dir` is absent or an empty directory, which is then removed. Nothing is overwritten.
void require_new_dir(const std::string& dir, const std::string& what);

template <class Fill>
void write_dir_atomic(const std::string& dir, Fill&& fill) {
  const std::string tmp = make_temp_sibling(dir);
  try {
    fill(tmp);
    commit_dir(tmp, dir);
  } catch (...) {
    remove_all_quiet(tmp);
    throw;
  }
}

}  // namespace ptft::fs
