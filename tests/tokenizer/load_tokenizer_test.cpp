// load_tokenizer(): the right kind from a directory's files, clear errors otherwise.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "ptft/core/error.h"
#include "ptft/tokenizer/sentencepiece_tokenizer.h"
#include "ptft/tokenizer/tokenizer.h"
#include "ptft/tokenizer/wordpiece.h"

namespace ptft {
namespace {

namespace sfs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (sfs::temp_directory_path() / "ptft-loadtok-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    sfs::remove_all(path_, ec);
  }
  std::string path(const std::string& rel) const { return path_ + "/" + rel; }
  std::string file(const std::string& rel, const std::string& text) const {
    sfs::create_directories(sfs::path(path(rel)).parent_path());
    std::ofstream(path(rel), std::ios::binary) << text;
    return path(rel);
  }

 private:
  std::string path_;
};

std::string error_of(const std::string& dir) {
  try {
    load_tokenizer(dir);
  } catch (const UserError& e) {
    return e.full();
  }
  return "no error";
}

// A GPT-2 style vocabulary with only the 256 byte tokens (id = byte) and <|endoftext|>, no merges.
void write_byte_level_bpe(const TempDir& tmp, const std::string& dir) {
  std::vector<int> printable;
  for (int b = '!'; b <= '~'; ++b) printable.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) printable.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) printable.push_back(b);
  nlohmann::json vocab = nlohmann::json::object();
  int extra = 0;
  for (int b = 0; b < 256; ++b) {
    const bool direct = std::find(printable.begin(), printable.end(), b) != printable.end();
    const int cp = direct ? b : 256 + extra++;
    std::string utf8;
    if (cp < 0x80) {
      utf8 += static_cast<char>(cp);
    } else {
      utf8 += static_cast<char>(0xC0 | (cp >> 6));
      utf8 += static_cast<char>(0x80 | (cp & 0x3F));
    }
    vocab[utf8] = b;
  }
  vocab["<|endoftext|>"] = 256;
  tmp.file(dir + "/vocab.json", vocab.dump());
  tmp.file(dir + "/merges.txt", "#version: 0.2\n");
}

TEST(LoadTokenizer, MissingOrEmptyDirectoryNamesItAndWhatWasLookedFor) {
  TempDir tmp;
  const std::string missing = error_of(tmp.path("nope"));
  EXPECT_NE(missing.find("nope' does not exist"), std::string::npos) << missing;
  sfs::create_directories(tmp.path("empty"));
  const std::string empty = error_of(tmp.path("empty"));
  EXPECT_NE(empty.find("no tokenizer found in"), std::string::npos) << empty;
  EXPECT_NE(empty.find("vocab.json + merges.txt"), std::string::npos) << empty;
  EXPECT_NE(empty.find("vocab.txt"), std::string::npos) << empty;
  tmp.file("other/README", "hi");
  EXPECT_NE(error_of(tmp.path("other")).find("holds: README"), std::string::npos);
  EXPECT_NE(error_of(tmp.file("afile", "x")).find("is not a directory"), std::string::npos);
}

TEST(LoadTokenizer, HuggingFaceVocabTxtIsWordPiece) {
  TempDir tmp;
  tmp.file("bert/vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\nHello\n");
  tmp.file("bert/config.json", "{}");
  auto tok = load_tokenizer(tmp.path("bert"));
  EXPECT_EQ(tok->kind(), "wordpiece");
  EXPECT_EQ(tok->encode("Hello"), std::vector<int32_t>{5});  // uncased by default
  EXPECT_EQ(tok->eot_id(), 3);
  // Hugging Face's tokenizer_config.json (no "type") sets the case.
  tmp.file("bert/tokenizer_config.json", R"({"do_lower_case": false, "model_max_length": 512})");
  EXPECT_EQ(load_tokenizer(tmp.path("bert"))->encode("Hello"), std::vector<int32_t>{6});
}

TEST(LoadTokenizer, HuggingFaceVocabJsonAndMergesIsGpt2Bpe) {
  TempDir tmp;
  write_byte_level_bpe(tmp, "gpt2");
  auto tok = load_tokenizer(tmp.path("gpt2"));
  EXPECT_EQ(tok->kind(), "gpt2-bpe");
  EXPECT_EQ(tok->encode("hi"), (std::vector<int32_t>{'h', 'i'}));
  EXPECT_EQ(tok->eot_id(), 256);
}

TEST(LoadTokenizer, PtftDirectoriesByType) {
  TempDir tmp;
  // wordpiece, saved by ptft.
  WordPiece({"[PAD]", "[UNK]", "[SEP]", "a"}, WordPieceOptions{}).save(tmp.path("wp"));
  EXPECT_EQ(load_tokenizer(tmp.path("wp"))->kind(), "wordpiece");
  // sentencepiece, trained.
  SpmTrainOptions o;
  o.inputs = {"/usr/share/common-licenses/GPL-3"};
  o.out_dir = tmp.path("spm");
  o.vocab_size = 400;
  o.num_threads = 2;
  train_sentencepiece(o);
  auto spm = load_tokenizer(tmp.path("spm"));
  EXPECT_EQ(spm->kind(), "sentencepiece");
  EXPECT_EQ(spm->decode(spm->encode("  GNU\tGeneral\nPublic ")), "  GNU\tGeneral\nPublic ");
  // A checkpoint directory: its tokenizer/ is used.
  spm->save(tmp.path("ckpt/tokenizer"));
  tmp.file("ckpt/config.json", "{}");
  EXPECT_EQ(load_tokenizer(tmp.path("ckpt"))->content_hash(), spm->content_hash());
}

TEST(LoadTokenizer, BadConfigIsAUserErrorNamingTheFile) {
  TempDir tmp;
  tmp.file("t/tokenizer_config.json", R"({"type": "sentencepeice"})");
  const std::string typo = error_of(tmp.path("t"));
  EXPECT_NE(typo.find("unknown tokenizer type \"sentencepeice\""), std::string::npos) << typo;
  EXPECT_NE(typo.find("did you mean \"sentencepiece\""), std::string::npos) << typo;
  tmp.file("t/tokenizer_config.json", "{not json");
  EXPECT_NE(error_of(tmp.path("t")).find("tokenizer_config.json' is not valid JSON"), std::string::npos);
  // Declared sentencepiece without its model.
  tmp.file("t/tokenizer_config.json", R"({"type": "sentencepiece"})");
  const std::string no_model = error_of(tmp.path("t"));
  EXPECT_NE(no_model.find("spm.model"), std::string::npos) << no_model;
  EXPECT_NE(no_model.find("loading tokenizer"), std::string::npos) << no_model;
  // A malformed vocab.txt is reported with its file.
  tmp.file("w/vocab.txt", "just\nwords\n");
  EXPECT_NE(error_of(tmp.path("w")).find("has no [UNK]"), std::string::npos);
}

}  // namespace
}  // namespace ptft
