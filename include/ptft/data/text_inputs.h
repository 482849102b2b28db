// ptft/data/text_inputs.h — the files behind `--input` and the documents inside them.
// Torch-free.
//
// Inputs are files, directories (recursive; names starting with '.' are skipped) and glob
// patterns (glob(3)); each expands in a fixed order (sorted), so that the same inputs always give
// the same document order. Files are read through zlib: gzip files (.gz or any gzip stream)
// are decompressed on the fly, other files are read as they are.
//
// A document is, per file format:
//   text, split "file"         the whole file
//   text, split "blank-lines"  each block of non-blank lines (dictionaries, FAQs, poems)
//   jsonl                      the string field `field` of each line's JSON object
// Documents are handed out in pieces of at most `piece_bytes` (cut at line breaks), so that a
// file of any size is read with flat memory; `first`/`last` mark where a document begins and
// ends. Nearly all documents are one piece.
//
//   for (const auto& path : text::expand_inputs({"corpus/", "extra/*.txt.gz"})) {
//     text::DocumentReader docs(path, opts);
//     if (docs.binary()) continue;                   // NUL bytes in the first 8 KB
//     text::Document d;
//     while (docs.next(d)) use(d.text, d.last);      // valid UTF-8 (bad bytes -> U+FFFD)
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace ptft::text {

// Files named by `specs` (files, directories, globs), in order, each once (the first time it
// is named). UserError for a path that does not exist or a pattern that matches nothing, naming
// it; `what` names the option in messages ("--input").
std::vector<std::string> expand_inputs(const std::vector<std::string>& specs,
                                       const std::string& what = "--input");

// The hint for a data path that does not exist: a relative one is read from the working
// directory (named), not from the config file's directory.
std::string missing_path_hint(const std::string& path);

// "jsonl" for *.jsonl, *.ndjson (optionally .gz), else "text"; `format` other than "auto" wins.
std::string resolve_format(const std::string& path, const std::string& format);

// Replaces every byte that does not belong to a well-formed UTF-8 sequence (RFC 3629: no
// overlongs, surrogates or code points above U+10FFFF) with U+FFFD; returns how many bytes were
// replaced (0: `s` is unchanged).
std::size_t sanitize_utf8(std::string& s);
bool is_blank(std::string_view s);  // only spaces, tabs, CR, LF, FF, VT (or empty)

// Where to end a piece of `s` of at most `max` bytes (`s` is longer than `max`), preferring
// natural token boundaries in the second half of the window: after a '\n' that is followed by
// a non-blank character, else after any '\n', else before a space followed by a non-blank
// character, else at `max` moved back to a UTF-8 character boundary. Always > 0.
std::size_t cut_point(std::string_view s, std::size_t max);

// Buffered reading of a plain or gzip-compressed file.
class TextFile {
 public:
  explicit TextFile(const std::string& path);  // UserError naming the file if it cannot be opened
  ~TextFile();
  TextFile(const TextFile&) = delete;
  TextFile& operator=(const TextFile&) = delete;

  // True when the first 8 KB (after decompression) contain a NUL byte: not a text file.
  bool looks_binary();
  // Appends up to `max` bytes to `out`; returns how many (0 at the end of the file).
  std::size_t read_into(std::string& out, std::size_t max);
  // The next line without its '\n' (a trailing '\r' is kept); false at the end of the file.
  bool getline(std::string& line);
  // Decompressed bytes handed out so far.
  uint64_t bytes_read() const { return consumed_; }
  const std::string& path() const { return path_; }

 private:
  bool fill();  // reads more into buf_; false at the end of the file
  std::string path_;
  void* gz_ = nullptr;  // gzFile
  std::vector<char> buf_;
  std::size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  uint64_t consumed_ = 0;
};

// The JSON values of the lines of a JSONL file, in order. Blank lines are skipped; a byte-order
// mark before the first line and a trailing '\r' are dropped; invalid UTF-8 bytes become U+FFFD
// (nlohmann::json rejects them). A line that is not JSON is a UserError naming file:line, with
// `hint` as its hint. Reads through `file`, which must outlive this object.
//
//   text::TextFile f(path);
//   text::JsonlLines lines(f, "each line holds {\"text\": \"...\"}");
//   nlohmann::json row;
//   while (lines.next(row)) use(row, lines.where());   // where(): "path:line"
class JsonlLines {
 public:
  JsonlLines(TextFile& file, std::string hint);
  bool next(nlohmann::json& value);  // false at the end of the file
  std::size_t line() const { return line_; }          // 1-based line of the last value (0: none yet)
  std::size_t replaced() const { return replaced_; }  // invalid UTF-8 bytes replaced in that line
  std::string where() const;                          // "file:line" of the last value

 private:
  TextFile& file_;
  std::string hint_;
  std::string buf_;
  std::size_t line_ = 0;
  std::size_t replaced_ = 0;
};

// The string field `key` of the JSON object `row`; UserError "<where>: no 'key' field" or
// "<where>: 'key' is number, expected a string", with `hint`.
std::string json_string_field(const nlohmann::json& row, const std::string& key, const std::string& where,
                              const std::string& hint);

struct DocumentOptions {
  std::string format = "auto";          // auto | text | jsonl
  std::string field = "text";           // JSONL: the field holding the text
  std::string split = "file";           // text: file | blank-lines
  std::size_t piece_bytes = 1u << 20;   // text: longer documents come in pieces of this size
};

struct Document {
  std::string text;           // valid UTF-8
  std::size_t line = 0;       // first line of this piece in its file (1-based)
  std::size_t replaced = 0;   // invalid UTF-8 bytes replaced by U+FFFD
  bool first = true;          // this piece starts a document
  bool last = true;           // this piece ends a document
};

// The documents of one file, in order, in pieces. Empty (blank) one-piece documents are skipped
// and counted.
// JSONL errors (bad JSON, missing or non-string field) are UserErrors naming file:line.
class DocumentReader {
 public:
  DocumentReader(const std::string& path, const DocumentOptions& opts);
  bool binary() { return file_.looks_binary(); }
  bool next(Document& doc);
  std::size_t empty_skipped() const { return empty_; }
  uint64_t bytes_read() const { return file_.bytes_read(); }
  const std::string& format() const { return format_; }

 private:
  bool next_whole(Document& doc);
  bool next_block(Document& doc);
  bool next_jsonl(Document& doc);
  std::string where() const;  // "file:line"
  TextFile file_;
  JsonlLines jsonl_;  // jsonl format: the rows of file_
  DocumentOptions opts_;
  std::string format_;
  std::string pending_;  // whole-file mode: bytes read but not yet handed out
  std::size_t line_ = 0;   // lines consumed so far
  std::size_t parts_ = 0;  // whole-file mode: pieces handed out
  bool in_block_ = false;  // blank-lines mode: the current block has been partly handed out
  std::size_t empty_ = 0;
  bool started_ = false;
};

}  // namespace ptft::text
