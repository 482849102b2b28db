// ptft data prepare, end to end: a SentencePiece tokenizer trained by `ptft tokenizer train`
// on licence texts, then a corpus of licence files (plus .gz, JSONL, binary, empty and
// invalid-UTF-8 inputs) turned into shards that decode back to the documents.
#include <gtest/gtest.h>
#include <zlib.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/data/shard.h"
#include "ptft/tokenizer/tokenizer.h"
#include "run_ptft.h"

namespace {

namespace sfs = std::filesystem;
const std::string kLicences = "/usr/share/common-licenses/";

// One tokenizer for the whole suite (training takes a few seconds).
class DataPrepareCli : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tok_dir_ = new e2e::TempDir("data-prepare-tokenizer");
    auto r = e2e::run_ptft({"tokenizer", "train", "--input", kLicences + "GPL-3", kLicences + "Apache-2.0",
                            "--vocab-size", "600", "--type", "bpe", "--out", tok_dir_->path("tok"), "--threads", "2"});
    ASSERT_EQ(r.exit_code, 0) << r.text();
  }
  static void TearDownTestSuite() {
    delete tok_dir_;
    tok_dir_ = nullptr;
  }
  static std::string tok() { return tok_dir_->path("tok"); }
  static e2e::TempDir* tok_dir_;
};
e2e::TempDir* DataPrepareCli::tok_dir_ = nullptr;

void write_gz(const std::string& path, const std::string& text) {
  gzFile gz = gzopen(path.c_str(), "wb");
  gzwrite(gz, text.data(), static_cast<unsigned>(text.size()));
  gzclose(gz);
}

// The documents of a split: its shards decoded, cut at the end-of-text token.
std::vector<std::string> documents(const std::string& out, const std::string& split, const ptft::Tokenizer& t) {
  const auto meta = e2e::read_json(out + "/meta.json");
  std::vector<std::string> docs;
  std::vector<int32_t> ids;
  for (const auto& s : meta["shards"][split]) {
    auto r = ptft::shard::Reader::open(out + "/" + s["file"].get<std::string>());
    for (uint64_t i = 0; i < r->count(); ++i) {
      const auto id = static_cast<int32_t>(r->at(i));
      if (id == t.eot_id()) {
        docs.push_back(t.decode(ids));
        ids.clear();
      } else {
        ids.push_back(id);
      }
    }
  }
  EXPECT_TRUE(ids.empty()) << "the last document of " << split << " has no end-of-text token";
  return docs;
}

TEST_F(DataPrepareCli, ShardsDecodeBackToTheDocuments) {
  e2e::TempDir tmp;
  const std::vector<std::string> names = {"Apache-2.0", "Artistic", "BSD", "GFDL-1.3", "GPL-2", "LGPL-2.1", "MPL-2.0"};
  std::vector<std::string> texts;
  for (const auto& n : names) {
    texts.push_back(e2e::read_text(kLicences + n));
    e2e::write_text(tmp.path(n + ".txt"), texts.back());  // corpus/ below holds copies
  }
  sfs::create_directories(tmp.path("corpus/nested"));
  for (std::size_t i = 0; i < names.size(); ++i)
    e2e::write_text(tmp.path((i < 3 ? "corpus/" : "corpus/nested/") + names[i] + ".txt"), texts[i]);
  write_gz(tmp.path("extra.txt.gz"), "A gzip-compressed document.\n");
  e2e::write_text(tmp.path("records.jsonl"), "{\"text\": \"first record\"}\n{\"text\": \"second record\"}\n");
  e2e::write_text(tmp.path("corpus/logo.png"), std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16));
  e2e::write_text(tmp.path("corpus/empty.txt"), "");
  e2e::write_text(tmp.path("latin1.txt"), "Caf\xe9 au lait\n");

  const std::vector<std::string> args = {"data", "prepare", "--tokenizer", tok(), "--input", tmp.path("corpus"),
                                         tmp.path("*.gz"), tmp.path("records.jsonl"), tmp.path("latin1.txt"),
                                         "--val-fraction", "0.3", "--shard-tokens", "20000", "--json"};
  auto r = e2e::run_ptft(e2e::concat(args, {"--out", tmp.path("shards"), "--threads", "2"}));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const auto printed = nlohmann::json::parse(r.out);
  const auto meta = e2e::read_json(tmp.path("shards/meta.json"));
  EXPECT_EQ(printed["tokens"], meta["tokens"]);
  EXPECT_EQ(meta["created_by"], "ptft data prepare");
  EXPECT_EQ(meta["dtype"], "uint16");
  EXPECT_EQ(meta["skipped"]["binary"], 1);
  EXPECT_EQ(meta["skipped"]["empty"], 1);
  EXPECT_EQ(meta["skipped"]["invalid_utf8"], 1);
  EXPECT_EQ(meta["documents"]["train"].get<int>() + meta["documents"]["val"].get<int>(), 7 + 1 + 2 + 1);
  EXPECT_GT(meta["shards"]["train"].size(), 1u) << "--shard-tokens 20000 should give several train shards";
  EXPECT_NE(r.err.find("1 binary file(s)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("U+FFFD"), std::string::npos) << r.err;

  // The tokenizer travels with the shards, and meta.json names it.
  auto t = ptft::load_tokenizer(tmp.path("shards/tokenizer"));
  auto original = ptft::load_tokenizer(tok());
  EXPECT_EQ(meta["tokenizer"]["hash"], original->content_hash());
  EXPECT_EQ(t->content_hash(), original->content_hash());
  EXPECT_EQ(meta["tokenizer"]["vocab_size"], 600);
  EXPECT_EQ(meta["tokenizer"]["eot_id"], original->eot_id());

  // Decoded, train + val are exactly the documents, each in input order.
  std::vector<std::string> expected = {texts[0], texts[1], texts[2], texts[3], texts[4], texts[5], texts[6],
                                       "A gzip-compressed document.\n", "first record", "second record",
                                       "Caf\xef\xbf\xbd au lait\n"};
  auto train = documents(tmp.path("shards"), "train", *t);
  auto val = documents(tmp.path("shards"), "val", *t);
  EXPECT_EQ(static_cast<int>(train.size()), meta["documents"]["train"].get<int>());
  EXPECT_EQ(static_cast<int>(val.size()), meta["documents"]["val"].get<int>());
  std::size_t ti = 0, vi = 0;
  for (const auto& doc : expected) {
    if (ti < train.size() && train[ti] == doc) ++ti;
    else if (vi < val.size() && val[vi] == doc) ++vi;
    else ADD_FAILURE() << "document missing or out of order: " << doc.substr(0, 60);
  }
  EXPECT_GT(vi, 0u) << "with --val-fraction 0.3 some documents should go to val";

  // One thread writes the same bytes.
  r = e2e::run_ptft(e2e::concat(args, {"--out", tmp.path("shards-1"), "--threads", "1"}));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  for (const auto& f : e2e::list_tree(tmp.path("shards")))
    if (sfs::is_regular_file(tmp.path("shards/" + f))) {
      EXPECT_EQ(e2e::read_text(tmp.path("shards/" + f)), e2e::read_text(tmp.path("shards-1/" + f))) << f;
    }
}

TEST_F(DataPrepareCli, BadInputIsAClearErrorAndLeavesNothing) {
  e2e::TempDir tmp;
  e2e::write_text(tmp.path("a.txt"), "some text\n");
  e2e::write_text(tmp.path("blank.txt"), "\n\n");
  e2e::write_text(tmp.path("bad.jsonl"), "{\"text\": \"ok\"}\n{\"body\": \"no text field\"}\n");

  // An empty corpus.
  auto r = e2e::run_ptft({"data", "prepare", "--tokenizer", tok(), "--input", tmp.path("blank.txt"), "--out",
                          tmp.path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, "no text")) << r.err;

  // A JSONL line without the field: file and line named, --field suggested.
  r = e2e::run_ptft({"data", "prepare", "--tokenizer", tok(), "--input", tmp.path("bad.jsonl"), "--out",
                     tmp.path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, tmp.path("bad.jsonl") + ":2")) << r.err;
  EXPECT_TRUE(e2e::contains(r.err, "--field")) << r.err;

  // Missing input, missing tokenizer.
  r = e2e::run_ptft({"data", "prepare", "--tokenizer", tok(), "--input", tmp.path("nope/*.txt"), "--out",
                     tmp.path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, "matches no file")) << r.err;
  r = e2e::run_ptft({"data", "prepare", "--tokenizer", tmp.path("no-tok"), "--input", tmp.path("a.txt"), "--out",
                     tmp.path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, "no-tok")) << r.err;
  EXPECT_TRUE(e2e::entries_with_prefix(tmp.root(), "out").empty()) << "a failed run left files behind";

  // An existing output directory needs --force.
  r = e2e::run_ptft({"data", "prepare", "--tokenizer", tok(), "--input", tmp.path("a.txt"), "--out", tmp.path("out"),
                     "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(r.err.empty()) << r.err;
  r = e2e::run_ptft({"data", "prepare", "--tokenizer", tok(), "--input", tmp.path("a.txt"), "--out", tmp.path("out")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, "--force")) << r.err;
  r = e2e::run_ptft({"data", "prepare", "--tokenizer", tok(), "--input", tmp.path("a.txt"), "--out", tmp.path("out"),
                     "--force"});
  EXPECT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(e2e::entries_with_prefix(tmp.root(), "out"), std::vector<std::string>{"out"});

  // Option values are checked.
  r = e2e::run_ptft({"data", "prepare", "--tokenizer", tok(), "--input", tmp.path("a.txt"), "--out", tmp.path("o2"),
                     "--val-fraction", "1.5"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, "--val-fraction")) << r.err;
}

}  // namespace
