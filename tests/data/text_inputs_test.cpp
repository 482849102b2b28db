// Tests for ptft/data/text_inputs.h: UTF-8 repair (RFC 3629 well-formedness), format detection,
// line reading across buffer boundaries, and document positions for error messages.
#include "ptft/data/text_inputs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "ptft/core/error.h"

namespace ptft::text {
namespace {
namespace sfs = std::filesystem;

const std::string kFffd = "\xEF\xBF\xBD";

std::string repaired(std::string s, std::size_t* replaced = nullptr) {
  const std::size_t n = sanitize_utf8(s);
  if (replaced) *replaced = n;
  return s;
}

TEST(Utf8, ValidTextIsUnchanged) {
  const std::string ok = "plain ASCII, caf\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x98\x80, \xEF\xBF\xBF, \xF4\x8F\xBF\xBF";
  std::size_t n = 99;
  EXPECT_EQ(repaired(ok, &n), ok);
  EXPECT_EQ(n, 0u);
}

TEST(Utf8, EachBadByteBecomesOneReplacementCharacter) {
  std::size_t n = 0;
  EXPECT_EQ(repaired("a\xFF" "b", &n), "a" + kFffd + "b");
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(repaired("\xC0\xAF"), kFffd + kFffd);                   // overlong '/'
  EXPECT_EQ(repaired("\xE0\x80\xAF"), kFffd + kFffd + kFffd);       // overlong, 3 bytes
  EXPECT_EQ(repaired("\xED\xA0\x80"), kFffd + kFffd + kFffd);       // surrogate U+D800
  EXPECT_EQ(repaired("\xF4\x90\x80\x80"), kFffd + kFffd + kFffd + kFffd);  // above U+10FFFF
  EXPECT_EQ(repaired("x\xE2\x82"), "x" + kFffd + kFffd);           // truncated at the end
  EXPECT_EQ(repaired("\x80" "abc"), kFffd + "abc");                 // stray continuation
  EXPECT_EQ(repaired("\xC3\xA9\xE9"), "\xC3\xA9" + kFffd);          // valid then Latin-1
}

TEST(Inputs, FormatFromTheFileName) {
  EXPECT_EQ(resolve_format("a/b.jsonl", "auto"), "jsonl");
  EXPECT_EQ(resolve_format("b.jsonl.gz", "auto"), "jsonl");
  EXPECT_EQ(resolve_format("b.ndjson", "auto"), "jsonl");
  EXPECT_EQ(resolve_format("b.txt.gz", "auto"), "text");
  EXPECT_EQ(resolve_format("b.json", "auto"), "text");
  EXPECT_EQ(resolve_format("b.jsonl", "text"), "text");
}

class InputsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (sfs::temp_directory_path() / "ptft-inputs-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { sfs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << text;
    return dir_ + "/" + name;
  }
  std::string dir_;
};

TEST_F(InputsFile, LinesLongerThanTheReadBuffer) {
  const std::string long_line(700 * 1024, 'x');  // > the 256 KB buffer
  const std::string p = write("long.txt", "short\n" + long_line + "\nlast");
  TextFile f(p);
  std::string line;
  ASSERT_TRUE(f.getline(line));
  EXPECT_EQ(line, "short");
  ASSERT_TRUE(f.getline(line));
  EXPECT_EQ(line.size(), long_line.size());
  ASSERT_TRUE(f.getline(line));
  EXPECT_EQ(line, "last");
  EXPECT_FALSE(f.getline(line));
  EXPECT_EQ(f.bytes_read(), 6 + long_line.size() + 1 + 4);
}

TEST_F(InputsFile, BinaryProbeLooksAtTheFirst8KB) {
  EXPECT_TRUE(TextFile(write("nul.bin", std::string("ab\0cd", 5))).looks_binary());
  EXPECT_FALSE(TextFile(write("late.txt", std::string(9000, 'a') + std::string(1, '\0'))).looks_binary());
  EXPECT_FALSE(TextFile(write("empty.txt", "")).looks_binary());
}

TEST_F(InputsFile, DocumentsKnowTheirFirstLine) {
  DocumentOptions o;
  o.split = "blank-lines";
  DocumentReader r(write("d.txt", "\xEF\xBB\xBFone\n\ntwo\nthree\n\n\nfour"), o);  // starts with a BOM
  Document d;
  ASSERT_TRUE(r.next(d));
  EXPECT_EQ(d.text, "one\n");
  EXPECT_EQ(d.line, 1u);
  ASSERT_TRUE(r.next(d));
  EXPECT_EQ(d.text, "two\nthree\n");
  EXPECT_EQ(d.line, 3u);
  ASSERT_TRUE(r.next(d));
  EXPECT_EQ(d.text, "four\n");
  EXPECT_EQ(d.line, 7u);
  EXPECT_FALSE(r.next(d));
}

TEST_F(InputsFile, LongDocumentsComeInPiecesAtLineBreaks) {
  std::string text;
  for (int i = 0; i < 300; ++i) text += "line " + std::to_string(i) + "\n";
  DocumentOptions o;
  o.piece_bytes = 500;
  DocumentReader r(write("long.txt", text), o);
  Document d;
  std::string joined;
  std::size_t pieces = 0, line = 1;
  while (r.next(d)) {
    EXPECT_EQ(d.first, pieces == 0);
    EXPECT_EQ(d.last, joined.size() + d.text.size() == text.size());
    EXPECT_LE(d.text.size(), 500u);
    EXPECT_EQ(d.text.back(), '\n');
    EXPECT_EQ(d.line, line);
    line += static_cast<std::size_t>(std::count(d.text.begin(), d.text.end(), '\n'));
    joined += d.text;
    ++pieces;
  }
  EXPECT_EQ(joined, text);
  EXPECT_GT(pieces, 3u);
}

TEST_F(InputsFile, HardCutWithoutLineBreaksKeepsCharactersWhole) {
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "\xE2\x82\xAC";  // 6000 bytes of euro signs, no '\n'
  DocumentOptions o;
  o.piece_bytes = 1000;
  DocumentReader r(write("euro.txt", text), o);
  Document d;
  std::string joined;
  int pieces = 0;
  while (r.next(d)) {
    EXPECT_EQ(d.replaced, 0u) << "a cut split a character";
    EXPECT_LE(d.text.size(), 1000u);
    joined += d.text;
    ++pieces;
  }
  EXPECT_EQ(joined, text);
  EXPECT_GE(pieces, 6);
}

TEST_F(InputsFile, LongBlocksComeInPiecesAndEndAtTheBlankLine) {
  std::string block;
  for (int i = 0; i < 100; ++i) block += "entry line " + std::to_string(i) + "\n";
  DocumentOptions o;
  o.split = "blank-lines";
  o.piece_bytes = 300;
  DocumentReader r(write("blocks.txt", block + "\n" + "short\n"), o);
  Document d;
  std::string joined;
  int documents = 0;
  while (r.next(d)) {
    if (d.first) joined.clear();
    joined += d.text;
    if (d.last) {
      ++documents;
      EXPECT_EQ(joined, documents == 1 ? block : std::string("short\n"));
    }
  }
  EXPECT_EQ(documents, 2);
}

TEST(CutPoint, PrefersLineBreaksBeforeText) {
  EXPECT_EQ(cut_point("abc", 10), 3u);
  EXPECT_EQ(cut_point("aaaa\nbbbb\n\ncc", 12), 11u);       // before "cc", not inside "\n\n"
  EXPECT_EQ(cut_point("aaaaaa\n\n\n\n\n\nb", 9), 9u);     // only blank after: any '\n'
  EXPECT_EQ(cut_point("aaaa bbbb cccc", 12), 9u);           // before " cccc"
  EXPECT_EQ(cut_point("aaaaaaaaaaaaaaaa", 8), 8u);
  EXPECT_EQ(cut_point("aaaaaa\xC3\xA9zz", 7), 6u);          // not inside the 2-byte character
}

// A number past double's range is nlohmann's out_of_range, not a parse_error: it was not caught
// and ended training with an internal error (found by fuzz_jsonl_rows).
TEST_F(InputsFile, JsonlNumberPastDoublesRangeIsAUserError) {
  TextFile f(write("big.jsonl", "{\"a\": 1}\n{\"a\": 1e999}\n"));
  JsonlLines lines(f, "the hint");
  nlohmann::json row;
  ASSERT_TRUE(lines.next(row));
  try {
    lines.next(row);
    FAIL() << "no error";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("big.jsonl:2: not valid JSON (number overflow parsing '1e999')"), std::string::npos)
        << e.message();
    EXPECT_EQ(e.hint(), "the hint");
  }
}

TEST_F(InputsFile, UnreadableInputIsAUserError) {
  EXPECT_THROW(TextFile(dir_ + "/missing.txt"), UserError);
}

}  // namespace
}  // namespace ptft::text
