#include "ptft/data/text_inputs.h"
#include "ptft/core/json_depth.h"

#include <glob.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "ptft/core/error.h"

namespace ptft::text {
namespace sfs = std::filesystem;
namespace {

constexpr std::size_t kReadChunk = 256 * 1024;
constexpr std::size_t kBinaryProbe = 8 * 1024;

// The read buffer for `path`: kReadChunk, or the file's size when it is smaller (label and
// config files, one-line JSONL: no 256 KB buffers, and zlib's 768 KB, per small file). At least
// kBinaryProbe; the buffer grows when a line (or decompressed text) needs more.
std::size_t read_chunk_for(const std::string& path) {
  std::error_code ec;
  const auto size = sfs::file_size(path, ec);
  return ec ? kReadChunk : std::clamp<std::size_t>(static_cast<std::size_t>(size), kBinaryProbe, kReadChunk);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool hidden(const sfs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// Regular files under `dir`, recursively, sorted by path; hidden entries are skipped.
void walk(const std::string& dir, const std::string& what, std::vector<std::string>& out) {
  std::vector<std::string> found;
  std::error_code ec;
  auto it = sfs::recursive_directory_iterator(dir, sfs::directory_options::skip_permission_denied, ec);
  if (ec) throw UserError(what + ": cannot read directory '" + dir + "': " + ec.message(), "check its permissions");
  for (; it != sfs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) throw UserError(what + ": cannot read directory '" + dir + "': " + ec.message(), "check its permissions");
    if (hidden(it->path())) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) found.push_back(it->path().string());
  }
  std::sort(found.begin(), found.end());
  out.insert(out.end(), found.begin(), found.end());
}

// Length of the well-formed UTF-8 sequence at s[i], or 0 if none starts there.
std::size_t utf8_sequence(const unsigned char* s, std::size_t i, std::size_t n) {
  const unsigned char c = s[i];
  if (c < 0x80) return 1;
  auto cont = [&](std::size_t k) { return i + k < n && (s[i + k] & 0xC0) == 0x80; };
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    const unsigned char c1 = s[i + 1];
    if (c == 0xE0 && c1 < 0xA0) return 0;   // overlong
    if (c == 0xED && c1 >= 0xA0) return 0;  // UTF-16 surrogates
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const unsigned char c1 = s[i + 1];
    if (c == 0xF0 && c1 < 0x90) return 0;  // overlong
    if (c == 0xF4 && c1 >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

std::string json_type(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::null: return "null";
    case nlohmann::json::value_t::boolean: return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float: return "a number";
    case nlohmann::json::value_t::array: return "an array";
    case nlohmann::json::value_t::object: return "an object";
    default: return "a string";
  }
}

}  // namespace

// --- inputs ---------------------------------------------------------------------------------

std::string missing_path_hint(const std::string& path) {
  if (sfs::path(path).is_absolute()) return "check the path";
  std::error_code ec;
  const std::string cwd = sfs::current_path(ec).string();
  return "relative paths are read from the working directory (" + cwd + "), not from the config file's "
         "directory: run from where they point (the repository root for configs/*.yaml) or give an absolute path";
}

std::vector<std::string> expand_inputs(const std::vector<std::string>& specs, const std::string& what) {
  std::vector<std::string> files;
  for (const auto& spec : specs) {
    if (spec.empty()) throw UserError(what + ": empty path", "name a file, a directory or a glob pattern");
    std::error_code ec;
    if (sfs::is_directory(spec, ec)) {
      walk(spec, what, files);
    } else if (sfs::exists(spec, ec)) {
      files.push_back(spec);
    } else if (spec.find_first_of("*?[") != std::string::npos) {
      glob_t g{};
      const int rc = ::glob(spec.c_str(), 0, nullptr, &g);
      if (rc == GLOB_NOMATCH || (rc == 0 && g.gl_pathc == 0)) {
        ::globfree(&g);
        throw UserError(what + ": pattern '" + spec + "' matches no file",
                        "check the pattern (quote it so that the shell does not expand it first)");
      }
      if (rc != 0) {
        ::globfree(&g);
        throw UserError(what + ": cannot expand pattern '" + spec + "'", "check the directories it names");
      }
      for (std::size_t i = 0; i < g.gl_pathc; ++i) {  // glob(3) sorts its matches
        const std::string m = g.gl_pathv[i];
        if (sfs::is_directory(m, ec)) walk(m, what, files);
        else if (sfs::is_regular_file(m, ec)) files.push_back(m);
      }
      ::globfree(&g);
    } else {
      throw UserError(what + ": '" + spec + "' does not exist", missing_path_hint(spec));
    }
  }
  // Each file once: the first time it is named wins.
  std::vector<std::string> unique;
  std::set<std::string> seen;
  for (const auto& f : files) {
    std::error_code ec;
    const auto canon = sfs::weakly_canonical(f, ec);
    if (seen.insert(ec ? f : canon.string()).second) unique.push_back(f);
  }
  return unique;
}

std::string resolve_format(const std::string& path, const std::string& format) {
  if (format != "auto") return format;
  std::string p = path;
  if (ends_with(p, ".gz")) p.resize(p.size() - 3);
  return ends_with(p, ".jsonl") || ends_with(p, ".ndjson") ? "jsonl" : "text";
}

// --- UTF-8 ----------------------------------------------------------------------------------

std::size_t sanitize_utf8(std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  // Fast path: find the first bad byte; most text has none.
  std::size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) { ++i; continue; }
    const std::size_t len = utf8_sequence(p, i, n);
    if (len == 0) break;
    i += len;
  }
  if (i == n) return 0;
  std::string out(s, 0, i);
  out.reserve(n + 16);
  std::size_t replaced = 0;
  while (i < n) {
    const std::size_t len = utf8_sequence(p, i, n);
    if (len == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++replaced;
      ++i;
    } else {
      out.append(s, i, len);
      i += len;
    }
  }
  s.swap(out);
  return replaced;
}

bool is_blank(std::string_view s) {
  for (char c : s)
    if (c != ' ' && c != '\t' && c != '\r' && c != '\n' && c != '\f' && c != '\v') return false;
  return true;
}

std::size_t cut_point(std::string_view s, std::size_t max) {
  if (s.size() <= max) return s.size();
  const std::size_t low = max / 2;
  auto blank = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; };
  std::size_t any_newline = 0;
  for (std::size_t i = max; i > low; --i) {  // cut before s[i]
    if (s[i - 1] == '\n') {
      if (!blank(s[i])) return i;
      if (!any_newline) any_newline = i;
    }
  }
  if (any_newline) return any_newline;
  for (std::size_t i = max; i > low; --i)
    if (s[i] == ' ' && i + 1 < s.size() && !blank(s[i + 1])) return i;
  std::size_t cut = max;
  for (int k = 0; k < 3 && cut > 1 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80; ++k) --cut;
  return cut;
}

// --- TextFile -------------------------------------------------------------------------------

TextFile::TextFile(const std::string& path) : path_(path) {
  errno = 0;
  gzFile gz = ::gzopen(path.c_str(), "rb");
  if (!gz) {
    const int err = errno;
    throw UserError("cannot open input '" + path + "': " + (err ? std::strerror(err) : "out of memory"),
                    "check that it exists and is readable");
  }
  const std::size_t chunk = read_chunk_for(path);
  ::gzbuffer(gz, static_cast<unsigned>(chunk));
  gz_ = gz;
  buf_.resize(chunk);
}

TextFile::~TextFile() {
  if (gz_) ::gzclose(static_cast<gzFile>(gz_));
}

bool TextFile::fill() {
  if (eof_) return false;
  if (pos_ > 0) {  // compact
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);
  auto* gz = static_cast<gzFile>(gz_);
  const int n = ::gzread(gz, buf_.data() + end_, static_cast<unsigned>(buf_.size() - end_));
  int errnum = Z_OK;
  const char* msg = ::gzerror(gz, &errnum);
  if (n < 0 || (errnum != Z_OK && errnum != Z_STREAM_END)) {
    const bool truncated = errnum == Z_BUF_ERROR;
    throw UserError("reading input '" + path_ + "' failed: " +
                        (truncated ? std::string("the gzip stream is truncated") : std::string(msg ? msg : "error")),
                    "the file is damaged (an interrupted download or copy?); replace it or leave it out");
  }
  if (n == 0) {
    eof_ = true;
    return false;
  }
  end_ += static_cast<std::size_t>(n);
  return true;
}

bool TextFile::looks_binary() {
  while (end_ - pos_ < kBinaryProbe && fill()) {
  }
  const std::size_t n = std::min(end_ - pos_, kBinaryProbe);
  return std::memchr(buf_.data() + pos_, '\0', n) != nullptr;
}

std::size_t TextFile::read_into(std::string& out, std::size_t max) {
  std::size_t total = 0;
  while (total < max) {
    if (pos_ == end_ && !fill()) break;
    const std::size_t take = std::min(max - total, end_ - pos_);
    out.append(buf_.data() + pos_, take);
    pos_ += take;
    total += take;
  }
  consumed_ += total;
  return total;
}

bool TextFile::getline(std::string& line) {
  line.clear();
  while (true) {
    if (pos_ == end_ && !fill()) {
      consumed_ += line.size();
      return !line.empty();
    }
    const char* start = buf_.data() + pos_;
    const auto* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
    if (nl) {
      line.append(start, static_cast<std::size_t>(nl - start));
      pos_ += static_cast<std::size_t>(nl - start) + 1;
      consumed_ += line.size() + 1;
      return true;
    }
    line.append(start, end_ - pos_);
    pos_ = end_;
  }
}

// --- JsonlLines -----------------------------------------------------------------------------

JsonlLines::JsonlLines(TextFile& file, std::string hint) : file_(file), hint_(std::move(hint)) {}

std::string JsonlLines::where() const { return file_.path() + ":" + std::to_string(line_); }

bool JsonlLines::next(nlohmann::json& value) {
  while (file_.getline(buf_)) {
    ++line_;
    if (line_ == 1 && buf_.compare(0, 3, "\xEF\xBB\xBF") == 0) buf_.erase(0, 3);  // byte-order mark
    if (!buf_.empty() && buf_.back() == '\r') buf_.pop_back();
    if (is_blank(buf_)) continue;
    replaced_ = sanitize_utf8(buf_);  // nlohmann::json rejects invalid UTF-8
    require_json_depth(buf_, where());
    try {
      value = nlohmann::json::parse(buf_);
    } catch (const nlohmann::json::exception& e) {
      // parse_error, and out_of_range for a number past double's range (1e999): both bad input.
      const std::string msg = e.what();  // "[json.exception.parse_error.101] parse error at ..."
      const std::size_t at = std::min(msg.find("] "), msg.size());
      throw UserError(where() + ": not valid JSON (" + msg.substr(std::min(at + 2, msg.size())) + ")", hint_);
    }
    return true;
  }
  return false;
}

std::string json_string_field(const nlohmann::json& row, const std::string& key, const std::string& where,
                              const std::string& hint) {
  const auto it = row.find(key);
  if (it == row.end()) throw UserError(where + ": no '" + key + "' field", hint);
  if (!it->is_string())
    throw UserError(where + ": '" + key + "' is " + std::string(it->type_name()) + ", expected a string", hint);
  return it->get<std::string>();
}

// --- DocumentReader -------------------------------------------------------------------------

DocumentReader::DocumentReader(const std::string& path, const DocumentOptions& opts)
    : file_(path),
      jsonl_(file_, "each line of a JSONL file must hold one JSON object; for plain text use --format text"),
      opts_(opts),
      format_(resolve_format(path, opts.format)) {
  if (format_ != "text" && format_ != "jsonl")
    throw InternalError("DocumentReader: format '" + format_ + "'");
  if (opts_.piece_bytes < 16) opts_.piece_bytes = 16;
}

std::string DocumentReader::where() const { return file_.path() + ":" + std::to_string(line_); }

bool DocumentReader::next(Document& doc) {
  doc = Document{};
  while (true) {
    bool got = false;
    if (format_ == "jsonl") got = next_jsonl(doc);
    else if (opts_.split == "blank-lines") got = next_block(doc);
    else got = next_whole(doc);
    if (!got) return false;
    if (!started_) {
      started_ = true;
      if (format_ == "text" && doc.text.compare(0, 3, "\xEF\xBB\xBF") == 0) doc.text.erase(0, 3);  // BOM
    }
    if (doc.first && doc.last && is_blank(doc.text)) {
      ++empty_;
      doc = Document{};
      continue;
    }
    doc.replaced += sanitize_utf8(doc.text);
    return true;
  }
}

// The whole file, or its next piece of at most piece_bytes.
bool DocumentReader::next_whole(Document& doc) {
  const std::size_t max = opts_.piece_bytes;
  if (pending_.size() <= max) file_.read_into(pending_, max - pending_.size() + 1);
  if (pending_.empty()) {
    if (parts_ > 0) return false;
    ++parts_;  // an empty file is one (empty) document
    doc.line = 1;
    return true;
  }
  // More than `max` bytes pending means the file goes on: cut at a line break.
  const std::size_t cut = pending_.size() > max ? cut_point(pending_, max) : pending_.size();
  doc.first = parts_ == 0;
  doc.last = cut == pending_.size();
  doc.line = line_ + 1;  // line_ counts the '\n' handed out so far
  doc.text.assign(pending_, 0, cut);
  pending_.erase(0, cut);
  line_ += static_cast<std::size_t>(std::count(doc.text.begin(), doc.text.end(), '\n'));
  ++parts_;
  return true;
}

// The next block of non-blank lines (each with its '\n'), or its next piece.
bool DocumentReader::next_block(Document& doc) {
  std::string line;
  doc.first = !in_block_;
  while (file_.getline(line)) {
    ++line_;
    if (is_blank(line)) {
      if (!doc.text.empty() || in_block_) {  // the block ends (maybe with an empty last piece)
        in_block_ = false;
        doc.last = true;
        if (doc.text.empty()) doc.line = line_;
        return true;
      }
      continue;
    }
    if (doc.text.empty()) doc.line = line_;
    doc.text += line;
    doc.text += '\n';
    if (doc.text.size() >= opts_.piece_bytes) {
      in_block_ = true;
      doc.last = false;
      return true;
    }
  }
  if (doc.text.empty() && !in_block_) return false;
  in_block_ = false;
  doc.last = true;
  if (doc.text.empty()) doc.line = line_;
  return true;
}

bool DocumentReader::next_jsonl(Document& doc) {
  nlohmann::json j;
  if (!jsonl_.next(j)) return false;
  line_ = jsonl_.line();
  if (!j.is_object())
    throw UserError(where() + ": expected a JSON object with a '" + opts_.field + "' field, got " + json_type(j),
                    "each line of a JSONL file must hold one JSON object");
  auto it = j.find(opts_.field);
  if (it == j.end()) {
    std::string keys;
    for (auto k = j.begin(); k != j.end(); ++k) keys += (keys.empty() ? "" : ", ") + k.key();
    throw UserError(where() + ": the JSON object has no field '" + opts_.field + "' (it has: " +
                        (keys.empty() ? std::string("no fields") : keys) + ")",
                    "name the field that holds the text with --field NAME");
  }
  if (!it->is_string())
    throw UserError(where() + ": field '" + opts_.field + "' is " + json_type(*it) + ", expected a string",
                    "name the field that holds the text with --field NAME");
  doc.text = it->get<std::string>();
  doc.line = line_;
  doc.replaced = jsonl_.replaced();
  return true;
}

}  // namespace ptft::text
