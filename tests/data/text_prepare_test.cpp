// Tests for ptft/data/text_prepare.h (`ptft data prepare` as a library), with a byte-level fake
// tokenizer (id = byte, end-of-text = 256) so that expected shards can be written by hand:
// output order and bytes independent of the thread count, a stable hash split, end-of-text after
// every document, shard rotation, skipped/invalid/empty counts, JSONL fields and errors, .gz
// input, and an output directory that appears complete or not at all.
#include "ptft/data/text_prepare.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ptft/core/error.h"
#include "ptft/data/shard.h"
#include "ptft/data/text_inputs.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

constexpr int32_t kEot = 256;

// id = byte value; eot = 256. Sleeps a little on some documents so that worker threads finish
// out of order (the output must not care).
class ByteTokenizer : public Tokenizer {
 public:
  explicit ByteTokenizer(int32_t vocab = 257, bool jitter = false) : vocab_(vocab), jitter_(jitter) {}
  std::string kind() const override { return "fake-bytes"; }
  std::vector<int32_t> encode(std::string_view text) const override {
    ++calls;
    if (jitter_ && text.size() % 3 == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
    if (text.find("<boom>") != std::string_view::npos) throw UserError("cannot encode <boom>");
    std::vector<int32_t> ids;
    for (unsigned char c : text) ids.push_back(c);
    return ids;
  }
  std::string decode(const std::vector<int32_t>& ids) const override {
    std::string s;
    for (int32_t id : ids) s += id == kEot ? std::string("<eot>") : std::string(1, static_cast<char>(id));
    return s;
  }
  int32_t vocab_size() const override { return vocab_; }
  std::string id_to_token(int32_t id) const override { return std::string(1, static_cast<char>(id)); }
  std::optional<int32_t> token_to_id(const std::string&) const override { return std::nullopt; }
  int32_t eot_id() const override { return kEot; }
  std::vector<std::string> special_tokens() const override { return {"<eot>"}; }
  std::string content_hash() const override { return "00fa4e00000000" + std::to_string(vocab_); }
  void save(const std::string& dir) const override {
    std::ofstream(dir + "/fake_tokenizer.json") << "{\"kind\": \"fake-bytes\"}\n";
  }
  mutable std::atomic<int> calls{0};

 private:
  int32_t vocab_;
  bool jitter_;
};

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (sfs::temp_directory_path() / "ptft-prepare-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
    root_ = tmpl;
  }
  ~TempDir() { sfs::remove_all(root_); }
  std::string path(const std::string& rel) const { return root_ + "/" + rel; }
  const std::string& root() const { return root_; }
  // Writes `text` to `rel` (parent directories created).
  std::string write(const std::string& rel, const std::string& text) const {
    const std::string p = path(rel);
    sfs::create_directories(sfs::path(p).parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }
  std::string write_gz(const std::string& rel, const std::string& text) const {
    const std::string p = path(rel);
    sfs::create_directories(sfs::path(p).parent_path());
    gzFile gz = gzopen(p.c_str(), "wb");
    gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
    gzclose(gz);
    return p;
  }

 private:
  std::string root_;
};

std::string read_bytes(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

nlohmann::json read_meta(const std::string& out) { return nlohmann::json::parse(read_bytes(out + "/meta.json")); }

// All tokens of a split, shards concatenated in meta.json order, decoded with <eot> markers.
std::string split_text(const std::string& out, const std::string& split) {
  const auto meta = read_meta(out);
  std::vector<int32_t> ids;
  for (const auto& s : meta["shards"][split]) {
    auto r = shard::Reader::open(out + "/" + s["file"].get<std::string>());
    for (uint64_t i = 0; i < r->count(); ++i) ids.push_back(static_cast<int32_t>(r->at(i)));
  }
  return ByteTokenizer().decode(ids);
}

// Every file under `dir` with its bytes.
std::map<std::string, std::string> tree(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : sfs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[sfs::relative(e.path(), dir).string()] = read_bytes(e.path().string());
  return out;
}

// Entries of `dir` whose name starts with `prefix`.
std::vector<std::string> entries(const std::string& dir, const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& e : sfs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) == 0) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

PrepareOptions options(const TempDir& t, std::vector<std::string> inputs, const std::string& out = "out") {
  PrepareOptions o;
  o.inputs = std::move(inputs);
  o.out = t.path(out);
  o.val_fraction = 0.0;
  o.threads = 2;
  return o;
}

template <class F>
std::string user_error(F&& f) {
  try {
    f();
  } catch (const UserError& e) {
    return e.full();
  }
  return "";
}

// A corpus of `n` distinct documents of varied lengths, one file each.
std::vector<std::string> make_corpus(const TempDir& t, int n) {
  std::vector<std::string> docs;
  for (int i = 0; i < n; ++i) {
    char name[32];
    std::snprintf(name, sizeof(name), "corpus/doc-%03d.txt", i);
    std::string text = "document " + std::to_string(i) + ":";
    for (int k = 0; k < (i * 37) % 53; ++k) text += " w" + std::to_string(k * i % 11);
    text += "\n";
    t.write(name, text);
    docs.push_back(text);
  }
  return docs;
}

TEST(TextPrepare, DocumentsInOrderEachFollowedByEot) {
  TempDir t;
  t.write("in/b.txt", "world\n");
  t.write("in/a.txt", "hello");
  ByteTokenizer tok;
  PrepareSummary s = prepare_text_data(tok, options(t, {t.path("in")}));
  EXPECT_EQ(split_text(t.path("out"), "train"), "hello<eot>world\n<eot>");  // a.txt before b.txt
  EXPECT_EQ(s.documents_train, 2);
  EXPECT_EQ(s.tokens_train, 5 + 1 + 6 + 1);
  EXPECT_EQ(s.documents_val, 0);
  EXPECT_EQ(s.input_bytes, 11u);

  const auto meta = read_meta(t.path("out"));
  EXPECT_EQ(meta["tokenizer"]["kind"], "fake-bytes");
  EXPECT_EQ(meta["tokenizer"]["hash"], tok.content_hash());
  EXPECT_EQ(meta["tokenizer"]["vocab_size"], 257);
  EXPECT_EQ(meta["tokenizer"]["eot_id"], kEot);
  EXPECT_EQ(meta["dtype"], "uint16");
  EXPECT_EQ(meta["documents"]["train"], 2);
  EXPECT_EQ(meta["documents"]["val"], 0);
  EXPECT_EQ(meta["tokens"]["train"], 13);
  EXPECT_EQ(meta["tokens"]["val"], 0);
  EXPECT_EQ(meta["skipped"], (nlohmann::json{{"binary", 0}, {"invalid_utf8", 0}, {"empty", 0}}));
  EXPECT_EQ(meta["inputs"], (nlohmann::json{t.path("in")}));
  EXPECT_EQ(meta["created_by"], "ptft data prepare");
  EXPECT_EQ(meta["shards"]["train"], (nlohmann::json{{{"file", "train-00000.bin"}, {"tokens", 13}}}));
  EXPECT_TRUE(meta["shards"]["val"].empty());
  // The tokenizer travels with its shards.
  EXPECT_TRUE(sfs::exists(t.path("out/tokenizer/fake_tokenizer.json")));
  EXPECT_EQ(entries(t.path("out"), "val-").size(), 0u);
}

TEST(TextPrepare, OutputIsIdenticalForAnyThreadCount) {
  TempDir t;
  make_corpus(t, 150);
  ByteTokenizer tok(257, /*jitter=*/true);
  std::map<std::string, std::string> reference;
  for (int threads : {1, 2, 7}) {
    PrepareOptions o = options(t, {t.path("corpus")}, "out-" + std::to_string(threads));
    o.threads = threads;
    o.val_fraction = 0.2;
    o.shard_tokens = 1000;  // several shards per split
    prepare_text_data(tok, o);
    auto files = tree(o.out);
    if (reference.empty()) {
      reference = files;
      EXPECT_GT(entries(o.out, "train-").size(), 3u);
      EXPECT_GE(entries(o.out, "val-").size(), 1u);
    } else {
      EXPECT_TRUE(files == reference) << threads << " threads wrote different files";
    }
  }
}

TEST(TextPrepare, SplitIsAStableFunctionOfTheDocument) {
  TempDir t;
  const auto docs = make_corpus(t, 200);
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("corpus")});
  o.val_fraction = 0.25;
  PrepareSummary s = prepare_text_data(tok, o);
  // Val holds exactly the documents goes_to_val picks, in input order.
  std::string expect_train, expect_val;
  int64_t n_val = 0;
  for (const auto& d : docs) {
    const bool val = goes_to_val(d, 0.25);
    (val ? expect_val : expect_train) += d + "<eot>";
    n_val += val;
  }
  EXPECT_EQ(split_text(o.out, "train"), expect_train);
  EXPECT_EQ(split_text(o.out, "val"), expect_val);
  EXPECT_EQ(s.documents_val, n_val);
  EXPECT_GT(n_val, 200 * 0.15);  // about a quarter
  EXPECT_LT(n_val, 200 * 0.35);

  // Same documents named in another order and mixed with others: each keeps its split.
  t.write("more/extra.txt", "an extra document\n");
  PrepareOptions o2 = options(t, {t.path("more"), t.path("corpus/doc-1*.txt"), t.path("corpus/doc-0*.txt")}, "out2");
  o2.val_fraction = 0.25;
  prepare_text_data(tok, o2);
  const std::string val2 = split_text(o2.out, "val");
  for (const auto& d : docs) {
    const bool in_val2 = val2.find(d + "<eot>") != std::string::npos;
    EXPECT_EQ(in_val2, goes_to_val(d, 0.25)) << d;
  }
  EXPECT_FALSE(goes_to_val("anything", 0.0));
}

TEST(TextPrepare, ShardsRotateAtShardTokens) {
  TempDir t;
  t.write("in/a.txt", "abcdefghij");  // 10 + eot
  t.write("in/b.txt", "klm");         // 3 + eot
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("in")});
  o.shard_tokens = 4;
  prepare_text_data(tok, o);
  EXPECT_EQ(entries(o.out, "train-"),
            (std::vector<std::string>{"train-00000.bin", "train-00001.bin", "train-00002.bin", "train-00003.bin"}));
  EXPECT_EQ(shard::Reader::open(o.out + "/train-00003.bin")->count(), 3u);  // 15 = 4 + 4 + 4 + 3
  EXPECT_EQ(split_text(o.out, "train"), "abcdefghij<eot>klm<eot>");
}

TEST(TextPrepare, LargeVocabularyWritesUint32) {
  TempDir t;
  t.write("a.txt", "xyz");
  ByteTokenizer tok(70000);
  PrepareOptions o = options(t, {t.path("a.txt")});
  prepare_text_data(tok, o);
  EXPECT_EQ(read_meta(o.out)["dtype"], "uint32");
  auto r = shard::Reader::open(o.out + "/train-00000.bin");
  EXPECT_EQ(r->dtype(), shard::Dtype::kUint32);
  EXPECT_EQ(r->at(3), static_cast<uint32_t>(kEot));
}

TEST(TextPrepare, BinaryFilesAreSkippedAndCounted) {
  TempDir t;
  t.write("in/text.txt", "plain text");
  t.write("in/image.png", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  t.write_gz("in/packed.bin.gz", std::string("abc\0def", 7));
  ByteTokenizer tok;
  PrepareSummary s = prepare_text_data(tok, options(t, {t.path("in")}));
  EXPECT_EQ(s.skipped_binary, 2);
  EXPECT_EQ(s.documents_train, 1);
  EXPECT_EQ(read_meta(t.path("out"))["skipped"]["binary"], 2);
  EXPECT_NE(s.text().find("2 binary file(s)"), std::string::npos) << s.text();
}

TEST(TextPrepare, InvalidUtf8IsReplacedAndCounted) {
  TempDir t;
  t.write("in/bad.txt", "caf\xe9 ok");        // Latin-1 e-acute
  t.write("in/good.txt", "caf\xc3\xa9 ok");   // UTF-8
  ByteTokenizer tok;
  PrepareSummary s = prepare_text_data(tok, options(t, {t.path("in")}));
  EXPECT_EQ(s.invalid_utf8, 1);
  EXPECT_EQ(s.replaced_bytes, 1);
  EXPECT_EQ(split_text(t.path("out"), "train"), "caf\xef\xbf\xbd ok<eot>caf\xc3\xa9 ok<eot>");
  EXPECT_EQ(read_meta(t.path("out"))["skipped"]["invalid_utf8"], 1);
  EXPECT_NE(s.text().find("replaced by U+FFFD"), std::string::npos) << s.text();
}

TEST(TextPrepare, EmptyDocumentsAreSkippedAndCounted) {
  TempDir t;
  t.write("in/a.txt", "text");
  t.write("in/empty.txt", "");
  t.write("in/blank.txt", " \n\n\t\n");
  ByteTokenizer tok;
  PrepareSummary s = prepare_text_data(tok, options(t, {t.path("in")}));
  EXPECT_EQ(s.skipped_empty, 2);
  EXPECT_EQ(s.documents_train, 1);
  EXPECT_EQ(read_meta(t.path("out"))["skipped"]["empty"], 2);
}

TEST(TextPrepare, EmptyCorpusIsAnErrorAndWritesNothing) {
  TempDir t;
  t.write("in/empty.txt", "");
  t.write("in/blank.txt", "\n\n");
  t.write("in/zeros.bin", std::string(100, '\0'));
  ByteTokenizer tok;
  const std::string msg = user_error([&] { prepare_text_data(tok, options(t, {t.path("in")})); });
  EXPECT_NE(msg.find("no text"), std::string::npos) << msg;
  EXPECT_NE(msg.find("1 skipped as binary"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2 empty"), std::string::npos) << msg;
  EXPECT_FALSE(sfs::exists(t.path("out")));
  EXPECT_TRUE(entries(t.root(), "out").empty()) << "a temporary directory was left behind";

  sfs::create_directories(t.path("nothing"));
  const std::string msg2 = user_error([&] { prepare_text_data(tok, options(t, {t.path("nothing")})); });
  EXPECT_NE(msg2.find("no files"), std::string::npos) << msg2;
}

TEST(TextPrepare, JsonlTakesTheTextField) {
  TempDir t;
  t.write("in/a.jsonl", "{\"text\": \"first\", \"id\": 1}\n\n{\"id\": 2, \"text\": \"second\\nline\"}\n");
  t.write("in/b.jsonl", "{\"body\": \"other\", \"text\": \"third\"}\n{\"text\": \"\"}\n");
  ByteTokenizer tok;
  PrepareSummary s = prepare_text_data(tok, options(t, {t.path("in")}));  // auto: *.jsonl
  EXPECT_EQ(split_text(t.path("out"), "train"), "first<eot>second\nline<eot>third<eot>");
  EXPECT_EQ(s.skipped_empty, 1);

  const std::string c = t.write("c.jsonl", "{\"body\": \"other\", \"text\": \"third\"}\n");
  PrepareOptions o = options(t, {c}, "out-body");
  o.field = "body";
  prepare_text_data(tok, o);
  EXPECT_EQ(split_text(o.out, "train"), "other<eot>");

  // --format text reads the same file as plain text: one document, the whole file.
  PrepareOptions o3 = options(t, {t.path("in/b.jsonl")}, "out-text");
  o3.format = "text";
  prepare_text_data(tok, o3);
  EXPECT_EQ(split_text(o3.out, "train"), read_bytes(t.path("in/b.jsonl")) + "<eot>");
}

TEST(TextPrepare, JsonlMissingFieldNamesFileAndLine) {
  TempDir t;
  const std::string p = t.write("in/a.jsonl", "{\"text\": \"ok\"}\n{\"content\": \"x\", \"id\": 3}\n");
  ByteTokenizer tok;
  const std::string msg = user_error([&] { prepare_text_data(tok, options(t, {p})); });
  EXPECT_NE(msg.find(p + ":2"), std::string::npos) << msg;
  EXPECT_NE(msg.find("no field 'text'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("content, id"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--field"), std::string::npos) << msg;
  EXPECT_FALSE(sfs::exists(t.path("out")));
  EXPECT_TRUE(entries(t.root(), "out").empty()) << "a temporary directory was left behind";
}

TEST(TextPrepare, JsonlBadLinesNameFileAndLine) {
  TempDir t;
  ByteTokenizer tok;
  const std::string bad = t.write("bad.jsonl", "{\"text\": \"ok\"}\n{\"text\": \"unterminated}\n");
  std::string msg = user_error([&] { prepare_text_data(tok, options(t, {bad})); });
  EXPECT_NE(msg.find(bad + ":2: not valid JSON"), std::string::npos) << msg;
  const std::string num = t.write("num.jsonl", "{\"text\": 42}\n");
  msg = user_error([&] { prepare_text_data(tok, options(t, {num})); });
  EXPECT_NE(msg.find(num + ":1: field 'text' is a number"), std::string::npos) << msg;
  const std::string arr = t.write("arr.jsonl", "[\"text\"]\n");
  msg = user_error([&] { prepare_text_data(tok, options(t, {arr})); });
  EXPECT_NE(msg.find(arr + ":1: expected a JSON object"), std::string::npos) << msg;
}

TEST(TextPrepare, JsonlWithInvalidUtf8IsRepairedNotRejected) {
  TempDir t;
  t.write("in/a.jsonl", "{\"text\": \"caf\xe9\"}\n");
  ByteTokenizer tok;
  PrepareSummary s = prepare_text_data(tok, options(t, {t.path("in")}));
  EXPECT_EQ(s.invalid_utf8, 1);
  EXPECT_EQ(split_text(t.path("out"), "train"), "caf\xef\xbf\xbd<eot>");
}

TEST(TextPrepare, GzipInputIsDecompressed) {
  TempDir t;
  const std::string text = "compressed text\nsecond line\n";
  t.write_gz("in/a.txt.gz", text);
  t.write_gz("in/b.jsonl.gz", "{\"text\": \"from jsonl.gz\"}\n");
  ByteTokenizer tok;
  PrepareSummary s = prepare_text_data(tok, options(t, {t.path("in")}));
  EXPECT_EQ(split_text(t.path("out"), "train"), text + "<eot>from jsonl.gz<eot>");
  EXPECT_EQ(s.input_bytes, text.size() + std::string("{\"text\": \"from jsonl.gz\"}\n").size());
}

TEST(TextPrepare, TruncatedGzipIsAnErrorNamingTheFile) {
  TempDir t;
  std::string big;
  for (int i = 0; i < 20000; ++i) big += "line " + std::to_string(i * 7919 % 10007) + "\n";
  const std::string p = t.write_gz("a.txt.gz", big);
  sfs::resize_file(p, sfs::file_size(p) / 2);
  ByteTokenizer tok;
  const std::string msg = user_error([&] { prepare_text_data(tok, options(t, {p})); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  EXPECT_FALSE(sfs::exists(t.path("out")));
}

TEST(TextPrepare, BlankLineDocuments) {
  TempDir t;
  t.write("dict.txt", "apple\n  a fruit\n\n\nbanana\n  yellow\n\r\ncherry\n");
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("dict.txt")});
  o.split_documents = "blank-lines";
  PrepareSummary s = prepare_text_data(tok, o);
  EXPECT_EQ(s.documents_train, 3);
  EXPECT_EQ(split_text(o.out, "train"), "apple\n  a fruit\n<eot>banana\n  yellow\n<eot>cherry\n<eot>");
}

TEST(TextPrepare, LongDocumentsAreEncodedInSegmentsWithOneEot) {
  TempDir t;
  std::string text;
  for (int i = 0; i < 400; ++i) text += "line number " + std::to_string(i) + "\n";  // ~6 KB
  t.write("long.txt", text);
  // Records what encode() is given.
  class Recorder : public ByteTokenizer {
   public:
    std::vector<int32_t> encode(std::string_view s) const override {
      std::lock_guard<std::mutex> lk(mu);
      seen.emplace_back(s);
      return ByteTokenizer::encode(s);
    }
    mutable std::mutex mu;
    mutable std::vector<std::string> seen;
  } tok;
  PrepareOptions o = options(t, {t.path("long.txt")});
  o.piece_bytes = 2048;           // read in pieces ...
  o.encode_segment_bytes = 256;   // ... encoded in segments
  PrepareSummary s = prepare_text_data(tok, o);
  EXPECT_EQ(s.documents_train, 1);
  EXPECT_EQ(split_text(o.out, "train"), text + "<eot>");
  EXPECT_GT(tok.seen.size(), 20u);
  for (const auto& seg : tok.seen) {
    EXPECT_LE(seg.size(), 256u);
    EXPECT_EQ(seg.back(), '\n') << "segments end at line breaks";
  }
  // The split of a document read in pieces follows its first piece.
  PrepareOptions v = options(t, {t.path("long.txt")}, "out-val");
  v.piece_bytes = 2048;
  v.val_fraction = 0.5;
  s = prepare_text_data(tok, v);
  const bool val = goes_to_val(text.substr(0, text::cut_point(text, 2048)), 0.5);
  EXPECT_EQ(s.documents_val, val ? 1 : 0);
}

TEST(TextPrepare, BlankLineBlocksLongerThanAPieceStayOneDocument) {
  TempDir t;
  std::string block;
  for (int i = 0; i < 200; ++i) block += "sense " + std::to_string(i) + "\n";
  t.write("dict.txt", "head\n\n" + block + "\n\ntail\n");
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("dict.txt")});
  o.split_documents = "blank-lines";
  o.piece_bytes = 1024;
  PrepareSummary s = prepare_text_data(tok, o);
  EXPECT_EQ(s.documents_train, 3);
  EXPECT_EQ(split_text(o.out, "train"), "head\n<eot>" + block + "<eot>tail\n<eot>");
}

TEST(TextPrepare, GlobsDirectoriesAndHiddenFiles) {
  TempDir t;
  t.write("c/x/1.txt", "one");
  t.write("c/y/2.md", "two");
  t.write("c/.git/config", "hidden");
  t.write("c/.hidden.txt", "hidden");
  t.write("g/a.txt", "ga");
  t.write("g/b.log", "gb");
  ByteTokenizer tok;
  PrepareSummary s = prepare_text_data(tok, options(t, {t.path("c"), t.path("g/*.txt"), t.path("c/x/1.txt")}));
  EXPECT_EQ(split_text(t.path("out"), "train"), "one<eot>two<eot>ga<eot>");  // 1.txt only once
  EXPECT_EQ(s.files, 3);

  std::string msg = user_error([&] { prepare_text_data(tok, options(t, {t.path("g/*.csv")}, "o2")); });
  EXPECT_NE(msg.find("matches no file"), std::string::npos) << msg;
  msg = user_error([&] { prepare_text_data(tok, options(t, {t.path("missing.txt")}, "o3")); });
  EXPECT_NE(msg.find("missing.txt' does not exist"), std::string::npos) << msg;
}

TEST(TextPrepare, ExistingOutputNeedsForce) {
  TempDir t;
  t.write("a.txt", "first");
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("a.txt")});
  prepare_text_data(tok, o);
  const auto before = tree(o.out);

  t.write("b.txt", "second");
  PrepareOptions again = options(t, {t.path("b.txt")});
  const std::string msg = user_error([&] { prepare_text_data(tok, again); });
  EXPECT_NE(msg.find("exists and is not empty"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--force"), std::string::npos) << msg;
  EXPECT_TRUE(tree(o.out) == before) << "a refused run changed the old output";

  // A failing --force run keeps the old output intact.
  t.write("broken.jsonl", "{\"nope\": 1}\n");
  PrepareOptions broken = options(t, {t.path("broken.jsonl")});
  broken.force = true;
  EXPECT_THROW(prepare_text_data(tok, broken), UserError);
  EXPECT_TRUE(tree(o.out) == before);

  again.force = true;
  prepare_text_data(tok, again);
  EXPECT_EQ(split_text(o.out, "train"), "second<eot>");
  EXPECT_EQ(entries(t.root(), "out"), (std::vector<std::string>{"out"})) << "temporaries left behind";

  // An existing empty directory is fine without --force.
  sfs::create_directories(t.path("empty-out"));
  prepare_text_data(tok, options(t, {t.path("a.txt")}, "empty-out"));
  EXPECT_EQ(split_text(t.path("empty-out"), "train"), "first<eot>");
}

TEST(TextPrepare, OutputInsideAnInputDirectoryIsNotRead) {
  TempDir t;
  t.write("data/a.txt", "text");
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("data")}, "data/shards");
  prepare_text_data(tok, o);
  o.force = true;
  PrepareSummary s = prepare_text_data(tok, o);  // data/shards/meta.json is not a document
  EXPECT_EQ(s.files, 1);
  EXPECT_EQ(split_text(o.out, "train"), "text<eot>");
}

TEST(TextPrepare, TokenizerErrorsNameTheDocument) {
  TempDir t;
  t.write("in/a.txt", "fine");
  t.write("in/b.txt", "bad <boom> text");
  ByteTokenizer tok;
  const std::string msg = user_error([&] { prepare_text_data(tok, options(t, {t.path("in")})); });
  EXPECT_NE(msg.find("b.txt:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("cannot encode"), std::string::npos) << msg;
  EXPECT_FALSE(sfs::exists(t.path("out")));
}

TEST(TextPrepare, StopRequestLeavesNothingBehind) {
  TempDir t;
  make_corpus(t, 50);
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("corpus")});
  int polled = 0;
  o.should_stop = [&] { return ++polled > 10; };
  const std::string msg = user_error([&] { prepare_text_data(tok, o); });
  EXPECT_NE(msg.find("interrupted"), std::string::npos) << msg;
  EXPECT_TRUE(entries(t.root(), "out").empty());
}

TEST(TextPrepare, ProgressIsReported) {
  TempDir t;
  make_corpus(t, 20);
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("corpus")});
  std::vector<PrepareProgress> seen;
  o.progress_seconds = 0;
  o.progress = [&](const PrepareProgress& p) { seen.push_back(p); };
  PrepareSummary s = prepare_text_data(tok, o);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().files_done, 20);
  EXPECT_EQ(seen.back().documents, 20);
  EXPECT_EQ(seen.back().tokens, s.tokens_train);
  EXPECT_EQ(seen.back().bytes, s.input_bytes);
}

TEST(TextPrepare, OptionsAreValidated) {
  TempDir t;
  ByteTokenizer tok;
  PrepareOptions o = options(t, {t.path("x")});
  o.val_fraction = 1.0;
  EXPECT_NE(user_error([&] { prepare_text_data(tok, o); }).find("--val-fraction"), std::string::npos);
  o = options(t, {t.path("x")});
  o.format = "csv";
  EXPECT_NE(user_error([&] { prepare_text_data(tok, o); }).find("--format 'csv'"), std::string::npos);
  o = options(t, {t.path("x")});
  o.shard_tokens = 0;
  EXPECT_NE(user_error([&] { prepare_text_data(tok, o); }).find("--shard-tokens"), std::string::npos);
  o = options(t, {});
  EXPECT_NE(user_error([&] { prepare_text_data(tok, o); }).find("--input"), std::string::npos);
}

}  // namespace
}  // namespace ptft
