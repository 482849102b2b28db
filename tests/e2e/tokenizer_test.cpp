// ptft tokenizer train | encode | decode, end to end on licence texts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "run_ptft.h"

namespace {

const std::string kLicences = "/usr/share/common-licenses/";

// A file no tokenizer may change: spaces, newlines, tabs, CJK, emoji, accents, U+2581, a
// special token.
const std::string kHardText =
    "  Copyright (C) 2024  Jos\u00e9 M\u00fcller <jose@example.org>\n\n"
    "\tLicensed under the Apache License, Version 2.0;\r\n"
    "\u65e5\u672c\u8a9e \u4e2d\u6587 \ud55c\uad6d\uc5b4 \U0001F600\U0001F44D\U0001F3FD  a\u2581b\n"
    "<|endoftext|>next document    with   runs of spaces\n\n\n";

std::vector<std::string> train_args(const std::string& out, const std::string& type = "bpe") {
  return {"tokenizer", "train", "--input", kLicences + "GPL-3", kLicences + "Apache-2.0",
          "--vocab-size", "600", "--type", type, "--out", out, "--threads", "2"};
}

TEST(TokenizerCli, TrainEncodeDecodeRoundTripsAFileByteForByte) {
  e2e::TempDir tmp;
  auto r = e2e::run_ptft(e2e::concat(train_args(tmp.path("tok")), {"--json"}));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const auto summary = nlohmann::json::parse(r.out);
  EXPECT_EQ(summary["vocab_size"], 600);
  EXPECT_EQ(summary["files"], 2);
  EXPECT_NE(r.err.find("600 pieces"), std::string::npos) << r.err;
  const auto config = e2e::read_json(tmp.path("tok/tokenizer_config.json"));
  EXPECT_EQ(config["type"], "sentencepiece");
  EXPECT_EQ(config["special_tokens"], nlohmann::json({"<|endoftext|>"}));

  e2e::write_text(tmp.path("hard.txt"), kHardText);
  r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("tok"), "--input", tmp.path("hard.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  ASSERT_FALSE(r.out.empty());
  EXPECT_EQ(r.out.back(), '\n');
  e2e::write_text(tmp.path("ids.txt"), r.out);
  // The <|endoftext|> in the text is one id, 1.
  EXPECT_NE((" " + r.out).find(" 1 "), std::string::npos) << r.out;

  r = e2e::run_ptft({"tokenizer", "decode", "--tokenizer", tmp.path("tok"), "--input", tmp.path("ids.txt")});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(r.out, kHardText);

  // --json: ids, tokens and count agree; decode accepts that JSON as its input.
  r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("tok"), "--input", tmp.path("hard.txt"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const auto enc = nlohmann::json::parse(r.out);
  EXPECT_EQ(enc["count"], enc["ids"].size());
  EXPECT_EQ(enc["tokens"].size(), enc["ids"].size());
  EXPECT_EQ(enc["tokens"][0], "\u2581\u2581");  // the two leading spaces, one piece
  e2e::write_text(tmp.path("enc.json"), r.out);
  r = e2e::run_ptft({"tokenizer", "decode", "--tokenizer", tmp.path("tok"), "--input", tmp.path("enc.json"), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(nlohmann::json::parse(r.out)["text"], kHardText);

  // Standard input: piped in (`encode ... | decode ...`), or named with --input -.
  r = e2e::run_ptft_with_stdin({"tokenizer", "decode", "--tokenizer", tmp.path("tok")}, tmp.path("ids.txt"), tmp);
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(r.out, kHardText);
  r = e2e::run_ptft_with_stdin({"tokenizer", "encode", "--tokenizer", tmp.path("tok"), "--input", "-"},
                               tmp.path("hard.txt"), tmp);
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(r.out, e2e::read_text(tmp.path("ids.txt")));
}

TEST(TokenizerCli, EncodeTextArgumentsAndDecodeIdArguments) {
  e2e::TempDir tmp;
  ASSERT_EQ(e2e::run_ptft(train_args(tmp.path("tok"), "unigram")).exit_code, 0);
  auto r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("tok"), "the General Public License"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  std::vector<std::string> ids;
  std::string id;
  for (char c : r.out) {
    if (c == ' ' || c == '\n') {
      if (!id.empty()) ids.push_back(id);
      id.clear();
    } else {
      id += c;
    }
  }
  ASSERT_FALSE(ids.empty());
  r = e2e::run_ptft(e2e::concat({"tokenizer", "decode", "--tokenizer", tmp.path("tok")}, ids));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(r.out, "the General Public License");
  // Text that starts with '-' goes after "--".
  r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("tok"), "--", "-v, --verbose"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  e2e::write_text(tmp.path("dash-ids.txt"), r.out);
  r = e2e::run_ptft({"tokenizer", "decode", "--tokenizer", tmp.path("tok"), "--input", tmp.path("dash-ids.txt")});
  EXPECT_EQ(r.out, "-v, --verbose") << r.text();
  // Commas work as separators too.
  std::string csv;
  for (const auto& i : ids) csv += (csv.empty() ? "" : ",") + i;
  r = e2e::run_ptft({"tokenizer", "decode", "--tokenizer", tmp.path("tok"), csv});
  EXPECT_EQ(r.out, "the General Public License") << r.text();
}

// The first `n` pieces of spm.vocab ("piece<TAB>score" lines).
std::vector<std::string> first_pieces(const std::string& vocab_file, std::size_t n) {
  std::vector<std::string> out;
  std::istringstream in(e2e::read_text(vocab_file));
  for (std::string line; out.size() < n && std::getline(in, line);) out.push_back(line.substr(0, line.find('\t')));
  return out;
}

// --family NAME: the special tokens model family NAME declares come first, with today's ids, and
// tokenizer_config.json records them in full.
TEST(TokenizerCli, FamilyGivesTheSpecialTokensTheModelFamilyDeclares) {
  e2e::TempDir tmp;
  const std::string text = "[CLS] a [SEP]<|endoftext|>[MASK][PAD][UNK]";
  struct Case {
    std::string family;
    std::vector<std::string> pieces;  // ids 0.. up to the first byte piece
    std::string eot, unk, pad;
    std::vector<std::pair<std::string, int>> ids;  // special -> id
  };
  const std::vector<Case> cases = {
      {"gpt", {"<unk>", "<|endoftext|>", "<0x00>"}, "<|endoftext|>", "<unk>", "", {{"<|endoftext|>", 1}}},
      {"bert",
       {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<0x00>"},
       "[SEP]",
       "[UNK]",
       "[PAD]",
       {{"[PAD]", 0}, {"[UNK]", 1}, {"[CLS]", 2}, {"[SEP]", 3}, {"[MASK]", 4}}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.family);
    const std::string dir = tmp.path(c.family);
    auto r = e2e::run_ptft(e2e::concat(train_args(dir), {"--family", c.family, "--json"}));
    ASSERT_EQ(r.exit_code, 0) << r.text();
    EXPECT_EQ(nlohmann::json::parse(r.out)["family"], c.family);
    EXPECT_EQ(first_pieces(dir + "/spm.vocab", c.pieces.size()), c.pieces);
    const auto config = e2e::read_json(dir + "/tokenizer_config.json");
    std::vector<std::string> specials(c.pieces.begin() + (c.unk == "<unk>" ? 1 : 0), c.pieces.end() - 1);
    EXPECT_EQ(config["special_tokens"], nlohmann::json(specials));
    EXPECT_EQ(config["eot_token"], c.eot);
    EXPECT_EQ(config["unk_token"], c.unk);
    EXPECT_EQ(config["pad_token"], c.pad);
    EXPECT_FALSE(config.contains("family"));
    r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", dir, "--json", text});
    ASSERT_EQ(r.exit_code, 0) << r.text();
    const auto enc = nlohmann::json::parse(r.out);
    for (const auto& [tok, id] : c.ids) {
      const auto at = std::find(enc["tokens"].begin(), enc["tokens"].end(), tok);
      ASSERT_NE(at, enc["tokens"].end()) << tok << " in " << enc.dump();
      EXPECT_EQ(enc["ids"][static_cast<std::size_t>(at - enc["tokens"].begin())], id) << tok;
    }
  }
  // A family that reads no text, and a typo.
  auto r = e2e::run_ptft(e2e::concat(train_args(tmp.path("x")), {"--family", "resnet"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, "the 'resnet' model family reads no text")) << r.err;
  EXPECT_TRUE(e2e::contains(r.err, "bert: [PAD] [UNK] [CLS] [SEP] [MASK]")) << r.err;
  r = e2e::run_ptft(e2e::concat(train_args(tmp.path("x")), {"--family", "brt"}));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, "did you mean 'bert'?")) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path("x")));
}

TEST(TokenizerCli, HuggingFaceBertDirectory) {
  e2e::TempDir tmp;
  e2e::write_text(tmp.path("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n,\nworld\n!\nun\n##aff\n##able\n");
  auto r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.root(), "--json", "[CLS] H\u00e9llo, World! unaffable [SEP]"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ids"], nlohmann::json({2, 5, 6, 7, 8, 9, 10, 11, 3}));
  EXPECT_EQ(j["tokens"], nlohmann::json({"[CLS]", "hello", ",", "world", "!", "un", "##aff", "##able", "[SEP]"}));
  r = e2e::run_ptft({"tokenizer", "decode", "--tokenizer", tmp.root(), "2 5 6 7 8 9 10 11 3 0 0"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_EQ(r.out, "[CLS] hello , world ! unaffable [SEP]");
}

TEST(TokenizerCli, BadInputExitsWithOneAndSaysWhy) {
  e2e::TempDir tmp;
  // Missing input: named, nothing written.
  auto r = e2e::run_ptft({"tokenizer", "train", "--input", tmp.path("missing.txt"), "--vocab-size", "500", "--out",
                          tmp.path("tok")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("missing.txt' does not exist"), std::string::npos) << r.err;
  EXPECT_TRUE(e2e::list_tree(tmp.root()).empty());
  // Only a binary file: skipped and counted, so no text.
  e2e::write_text(tmp.path("blob.bin"), std::string("\x7f" "ELF\0\0\0\x01", 8));
  r = e2e::run_ptft({"tokenizer", "train", "--input", tmp.path("blob.bin"), "--vocab-size", "500", "--out", tmp.path("tok")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("1 skipped as not text"), std::string::npos) << r.err;
  // vocab too large for the corpus: the numbers and the fix.
  e2e::write_text(tmp.path("tiny.txt"), "hello world\nfoo bar\n");
  r = e2e::run_ptft({"tokenizer", "train", "--input", tmp.path("tiny.txt"), "--vocab-size", "5000", "--out", tmp.path("tok")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("vocab_size 5000 is too large"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("hint: use --vocab-size"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(tmp.path("tok")));
  // Bad --type.
  r = e2e::run_ptft({"tokenizer", "train", "--input", tmp.path("tiny.txt"), "--vocab-size", "500", "--type", "wordpiece",
                     "--out", tmp.path("tok")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("--type bpe or --type unigram"), std::string::npos) << r.err;

  ASSERT_EQ(e2e::run_ptft(train_args(tmp.path("tok"))).exit_code, 0);
  // A second training into the same --out: refused before training, the first one untouched.
  const std::string config = e2e::read_text(tmp.path("tok/tokenizer_config.json"));
  r = e2e::run_ptft(train_args(tmp.path("tok")));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(e2e::contains(r.err, "--out '" + tmp.path("tok") + "' exists and is not empty")) << r.err;
  EXPECT_FALSE(e2e::contains(r.err, "training a")) << r.err;
  EXPECT_EQ(e2e::read_text(tmp.path("tok/tokenizer_config.json")), config);
  // No tokenizer there.
  r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("nowhere"), "hi"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("nowhere' does not exist"), std::string::npos) << r.err;
  // Both --input and TEXT, or neither.
  r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("tok"), "--input", tmp.path("tiny.txt"), "hi"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("tok")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  // Invalid UTF-8 in the file to encode.
  e2e::write_text(tmp.path("latin1.txt"), "caf\xe9\n");
  r = e2e::run_ptft({"tokenizer", "encode", "--tokenizer", tmp.path("tok"), "--input", tmp.path("latin1.txt")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("latin1.txt"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not valid UTF-8: byte 0xE9 at offset 3"), std::string::npos) << r.err;
  // Ids that are not numbers, or out of range.
  r = e2e::run_ptft({"tokenizer", "decode", "--tokenizer", tmp.path("tok"), "12", "abc"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("'abc' (item 2) is not a token id"), std::string::npos) << r.err;
  r = e2e::run_ptft({"tokenizer", "decode", "--tokenizer", tmp.path("tok"), "600"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("out of range"), std::string::npos) << r.err;
}

}  // namespace
