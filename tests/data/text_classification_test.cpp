// Tests for ptft/data/text_classification.h with a small WordPiece vocabulary whose special
// tokens sit at unusual ids (so that nothing hard-codes BERT's 0/101/102): the [CLS] a [SEP] and
// [CLS] a [SEP] b [SEP] encodings and their token types against hand-computed ids, HF's
// longest-first truncation, class numbering (sorted, numeric, DataContext::classes), every row
// error with its file:line, batch tensors (padding, attention_mask, y), deterministic and
// rank-aware training batches, the JSONL detection that keeps SFT rows out, the error for a
// vocabulary without [CLS], and the open_data_source dispatch.
#include "ptft/data/text_classification.h"

#include <gtest/gtest.h>

#include <set>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "../infer/tiny_lm.h"
#include "ptft/core/error.h"
#include "ptft/tokenizer/wordpiece.h"

namespace ptft {
namespace {

using Ids = std::vector<int64_t>;

// Ids are positions; the specials are not where BERT has them.
const std::vector<std::string> kVocab = {"[UNK]", "[MASK]", "[PAD]", "[SEP]", "[CLS]",      // 0-4
                                         "the", "court", "dismissed", "appeal", ".",       // 5-9
                                         "a", "man", "plays", "guitar", "someone",         // 10-14
                                         "makes", "music", "cheese", "is", "good",         // 15-19
                                         "one", "two", "three", "four", "five",            // 20-24
                                         "six", "seven", "eight"};                         // 25-27
constexpr int64_t kPad = 2, kSep = 3, kCls = 4;
constexpr int64_t kOne = 20;  // "one" .. "eight" = 20 .. 27

class TextClassificationTest : public ::testing::Test {
 protected:
  TextClassificationTest() : tok_(std::make_shared<WordPiece>(kVocab, WordPieceOptions{})) {}

  DataContext ctx(int64_t block_size = 32) const {
    DataContext c;
    c.seed = 7;
    c.block_size = block_size;
    c.tokenizer = tok_;
    return c;
  }
  std::string write(const std::string& name, const std::string& text) const { return dir_.write(name, text); }
  EncodedText encode(const std::string& a, const std::string* b, int64_t max_len) const {
    return encode_for_classification(*tok_, ClassificationSpecials::of(*tok_, "test"), a, b, max_len);
  }
  // "one two ... " with the first n number words.
  static std::string words(int n, int from = 0) {
    static const char* w[] = {"one", "two", "three", "four", "five", "six", "seven", "eight"};
    std::string s;
    for (int i = from; i < from + n; ++i) s += std::string(i > from ? " " : "") + w[i];
    return s;
  }
  // Eight one-word examples "one" .. "eight" with labels alternating x / y.
  std::string eight_rows() const {
    std::string rows;
    for (int i = 0; i < 8; ++i)
      rows += "{\"text\": \"" + words(1, i) + "\", \"label\": \"" + (i % 2 ? "y" : "x") + "\"}\n";
    return write("eight.jsonl", rows);
  }
  // Which of the eight examples each row of a batch holds (its one word token - "one").
  static std::vector<int64_t> which(const Batch& b) {
    std::vector<int64_t> out;
    const auto ids = b.data.at("input_ids");
    for (int64_t r = 0; r < ids.size(0); ++r) out.push_back(ids[r][1].item<int64_t>() - kOne);
    return out;
  }
  static Ids values(const torch::Tensor& t) {
    const auto c = t.contiguous();
    return {c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel()};
  }
  static Ids row(const torch::Tensor& t, int64_t r) { return values(t[r]); }

  std::shared_ptr<WordPiece> tok_;
  test::TempDir dir_{"textcls"};
};

TEST_F(TextClassificationTest, EncodesOneTextAsClsTextSep) {
  const EncodedText e = encode("The court dismissed the appeal.", nullptr, 32);
  EXPECT_EQ(e.ids, (Ids{kCls, 5, 6, 7, 5, 8, 9, kSep}));
  EXPECT_EQ(e.types, Ids(8, 0));
  EXPECT_FALSE(e.truncated);
}

TEST_F(TextClassificationTest, EncodesAPairWithTokenTypesOneForTheSecondText) {
  const std::string b = "Someone makes music.";
  const EncodedText e = encode("A man plays a guitar.", &b, 32);
  //                 [CLS]  a  man plays a guitar .  [SEP] someone makes music . [SEP]
  EXPECT_EQ(e.ids, (Ids{kCls, 10, 11, 12, 10, 13, 9, kSep, 14, 15, 16, 9, kSep}));
  EXPECT_EQ(e.types, (Ids{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_FALSE(e.truncated);
}

TEST_F(TextClassificationTest, TruncatesLongestFirstLikeHuggingFace) {
  // a = 6 tokens, b = 4, max_len 9: 6 text tokens fit, 4 go: a (6>4), a (5>4), b (4=4: b), a (4>3).
  std::string b = words(4);
  EncodedText e = encode(words(6), &b, 9);
  EXPECT_EQ(e.ids, (Ids{kCls, 20, 21, 22, kSep, 20, 21, 22, kSep}));
  EXPECT_EQ(e.types, (Ids{0, 0, 0, 0, 0, 1, 1, 1, 1}));
  EXPECT_TRUE(e.truncated);
  // The shorter text is kept whole while the longer one is longer: a = 2, b = 7 -> 2 + 3.
  b = words(7);
  e = encode(words(2), &b, 8);
  EXPECT_EQ(e.ids, (Ids{kCls, 20, 21, kSep, 20, 21, 22, kSep}));
  // Equally long: b gives first. a = b = 3 tokens, max_len 7: b, then a.
  b = words(3, 3);
  e = encode(words(3), &b, 7);
  EXPECT_EQ(e.ids, (Ids{kCls, 20, 21, kSep, 23, 24, kSep}));
  // One text: cut at the end; an exact fit is not truncated.
  e = encode(words(5), nullptr, 4);
  EXPECT_EQ(e.ids, (Ids{kCls, 20, 21, kSep}));
  EXPECT_TRUE(e.truncated);
  e = encode(words(5), nullptr, 7);
  EXPECT_EQ(e.ids.size(), 7u);
  EXPECT_FALSE(e.truncated);
  // Nothing left of the texts: only the special tokens.
  e = encode(words(2), &b, 3);
  EXPECT_EQ(e.ids, (Ids{kCls, kSep, kSep}));
  EXPECT_EQ(e.types, (Ids{0, 0, 1}));
}

TEST_F(TextClassificationTest, ClassesAreTheSortedLabels) {
  TextClassificationJsonl s(write("t.jsonl",
                                  "{\"text\": \"cheese is good\", \"label\": \"food\"}\n"
                                  "\n"
                                  "{\"text\": \"the court\", \"label\": \"law\", \"source\": \"ignored\"}\n"
                                  "{\"text\": \"the man plays\", \"label\": \"art\"}\n"
                                  "{\"text\": \"cheese\", \"label\": \"food\"}\n"),
                            "train", ctx());
  EXPECT_EQ(s.size(), 4);
  EXPECT_EQ(s.class_names(), (std::vector<std::string>{"art", "food", "law"}));
  EXPECT_EQ(s.label(0), 1);
  EXPECT_EQ(s.label(1), 2);
  EXPECT_EQ(s.label(2), 0);
  EXPECT_EQ(s.class_counts(), (std::vector<int64_t>{1, 2, 1}));
  EXPECT_EQ(s.example(1).ids, (Ids{kCls, 5, 6, kSep}));
}

TEST_F(TextClassificationTest, IntegerLabelsAreSortedByValue) {
  TextClassificationJsonl s(write("n.jsonl",
                                  "{\"text\": \"one\", \"label\": 10}\n"
                                  "{\"text\": \"two\", \"label\": 2}\n"
                                  "{\"text\": \"three\", \"label\": \"1\"}\n"  // a string that is an integer
                                  "{\"text\": \"four\", \"label\": -3}\n"),
                            "train", ctx());
  EXPECT_EQ(s.class_names(), (std::vector<std::string>{"-3", "1", "2", "10"}));
  EXPECT_EQ(s.label(0), 3);
  EXPECT_EQ(s.label(3), 0);
  // One name that is not an integer: all sort by bytes.
  TextClassificationJsonl m(write("m.jsonl", "{\"text\": \"one\", \"label\": 10}\n{\"text\": \"two\", \"label\": 2}\n"
                                             "{\"text\": \"two\", \"label\": \"b\"}\n"),
                            "train", ctx());
  EXPECT_EQ(m.class_names(), (std::vector<std::string>{"10", "2", "b"}));
}

TEST_F(TextClassificationTest, ContextClassesNumberTheLabels) {
  DataContext c = ctx();
  c.classes = {"law", "food", "art", "sports"};  // the training data's, in its order
  TextClassificationJsonl s(write("v.jsonl", "{\"text\": \"cheese\", \"label\": \"food\"}\n"
                                             "{\"text\": \"the court\", \"label\": \"law\"}\n"),
                            "val", c);
  EXPECT_EQ(s.class_names(), c.classes);
  EXPECT_EQ(s.label(0), 1);
  EXPECT_EQ(s.label(1), 0);
  EXPECT_EQ(s.class_counts(), (std::vector<int64_t>{1, 1, 0, 0}));

  const std::string path = write("bad_val.jsonl", "{\"text\": \"cheese\", \"label\": \"food\"}\n\n"
                                                  "{\"text\": \"the court\", \"label\": \"lwa\"}\n");
  const std::string e = test::user_error([&] { TextClassificationJsonl(path, "val", c); });
  EXPECT_NE(e.find(path + ":3: label 'lwa' is not a class of the training data (4 classes: law, food, art, sports)"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("did you mean 'law'?"), std::string::npos) << e;
  EXPECT_NE(e.find("the validation data must use the training data's labels"), std::string::npos) << e;
}

TEST_F(TextClassificationTest, RowErrorsNameTheFileAndLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{\"text\": \"a\", \"label\": \"x\"", ": not valid JSON (parse error"},
      {"{\"text\": \"a\", \"label\": 7777e777}", ": not valid JSON (number overflow"},
      {"[1, 2]", ": expected a JSON object, got array"},
      {"{\"label\": \"x\"}", ": no 'text' field"},
      {"{\"text\": \"a\"}", ": no 'label' field"},
      {"{\"text\": 3, \"label\": \"x\"}", ": 'text' is number, expected a string"},
      {"{\"text_a\": \"a\", \"label\": \"x\"}", ": no 'text_b' field"},
      {"{\"text\": \"a\", \"text_a\": \"a\", \"text_b\": \"b\", \"label\": \"x\"}", ": the row has both 'text' and"},
      {"{\"text\": \"a\", \"label\": 1.5}", ": 'label' is a fraction (1.5), expected a string or an integer"},
      {"{\"text\": \"a\", \"label\": true}", ": 'label' is boolean, expected a string or an integer"},
      {"{\"text\": \"a\", \"label\": null}", ": 'label' is null, expected a string or an integer"},
      {"{\"text\": \"a\", \"label\": \"\"}", ": 'label' is an empty string"},
  };
  for (const auto& [bad, expected] : cases) {
    const std::string path = write("bad.jsonl", "{\"text\": \"one\", \"label\": \"x\"}\n\n" + bad + "\n");
    const std::string e = test::user_error([&] { TextClassificationJsonl(path, "train", ctx()); });
    EXPECT_NE(e.find(path + ":3" + expected), std::string::npos) << bad << "\n" << e;
    EXPECT_NE(e.find("hint: "), std::string::npos) << e;
  }
}

TEST_F(TextClassificationTest, FileErrorsSayWhatIsMissing) {
  std::string e = test::user_error([&] { TextClassificationJsonl(write("e.jsonl", "\n  \n"), "train", ctx()); });
  EXPECT_NE(e.find("has no examples: the file is empty or only blank lines"), std::string::npos) << e;
  const std::string one = write("one.jsonl", "{\"text\": \"one\", \"label\": \"x\"}\n{\"text\": \"two\", \"label\": \"x\"}\n");
  e = test::user_error([&] { TextClassificationJsonl(one, "train", ctx()); });
  EXPECT_NE(e.find("every example has the label 'x'; a classifier needs at least 2 classes"), std::string::npos) << e;
  EXPECT_EQ(TextClassificationJsonl(one, "val", ctx()).class_names(), std::vector<std::string>{"x"});  // val: fine

  DataContext c = ctx();
  c.tokenizer = nullptr;
  e = test::user_error([&] { TextClassificationJsonl(one, "train", c); });
  EXPECT_NE(e.find("needs the model's tokenizer: fine-tune from a checkpoint that has tokenizer/"), std::string::npos)
      << e;
  e = test::user_error([&] { TextClassificationJsonl(one, "train", ctx(3)); });
  EXPECT_NE(e.find("context of 3 tokens is too short"), std::string::npos) << e;
  e = test::user_error([&] { TextClassificationJsonl(one, "train", ctx(0)); });
  EXPECT_NE(e.find("this model does not read token sequences"), std::string::npos) << e;
}

TEST_F(TextClassificationTest, InvalidUtf8BecomesReplacementCharacters) {
  // BERT's basic tokenizer drops U+FFFD: "good\xFF" encodes as "good".
  TextClassificationJsonl s(write("u.jsonl", "{\"text\": \"good\xFF\", \"label\": \"x\"}\n"
                                             "{\"text\": \"the\", \"label\": \"y\"}\n"),
                            "train", ctx());
  EXPECT_EQ(s.example(0).ids, (Ids{kCls, 19, kSep}));
}

TEST_F(TextClassificationTest, BatchesArePaddedWithMaskTypesAndLabels) {
  TextClassificationJsonl s(write("b.jsonl",
                                  "{\"text\": \"cheese is good\", \"label\": \"food\"}\n"
                                  "{\"text_a\": \"the man\", \"text_b\": \"plays\", \"label\": \"art\"}\n"
                                  "{\"text\": \"the court dismissed the appeal .\", \"label\": \"law\"}\n"),
                            "val", ctx(7));
  EXPECT_EQ(s.pairs(), 1);
  EXPECT_EQ(s.truncated(), 1);  // the third: 6 tokens in a context of 7 - 2
  ASSERT_EQ(s.eval_batches(2), 2);
  Batch b = s.eval_batch(0, 2);
  EXPECT_EQ(b.weight, 2);
  ASSERT_EQ(b.data.at("input_ids").sizes(), (torch::IntArrayRef{2, 6}));  // the longest: the pair
  EXPECT_EQ(b.data.at("input_ids").dtype(), torch::kLong);
  EXPECT_EQ(row(b.data.at("input_ids"), 0), (Ids{kCls, 17, 18, 19, kSep, kPad}));
  EXPECT_EQ(row(b.data.at("input_ids"), 1), (Ids{kCls, 5, 11, kSep, 12, kSep}));
  EXPECT_EQ(row(b.data.at("token_type_ids"), 0), (Ids{0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(row(b.data.at("token_type_ids"), 1), (Ids{0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(row(b.data.at("attention_mask"), 0), (Ids{1, 1, 1, 1, 1, 0}));
  EXPECT_EQ(row(b.data.at("attention_mask"), 1), (Ids{1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(values(b.data.at("y")), (Ids{1, 0}));  // art, food, law
  b = s.eval_batch(1, 2);  // the last, partial
  EXPECT_EQ(b.weight, 1);
  EXPECT_EQ(row(b.data.at("input_ids"), 0), (Ids{kCls, 5, 6, 7, 5, 8, kSep}));
  EXPECT_EQ(values(b.data.at("y")), (Ids{2}));
  EXPECT_NE(s.describe().find("3 examples (1 of them text pairs), 3 classes: art, food, law; 1 truncated to 7 tokens"),
            std::string::npos)
      << s.describe();
}

TEST_F(TextClassificationTest, TrainingBatchesAreAFunctionOfTheAddress) {
  const std::string path = eight_rows();
  TextClassificationJsonl s(path, "train", ctx()), again(path, "train", ctx());
  ASSERT_EQ(s.size(), 8);
  // Steps 0 and 1 of 4 examples are epoch 0: every example once.
  const auto e0 = which(s.train_batch({0, 0, 4, 1})), e0b = which(s.train_batch({1, 0, 4, 1}));
  std::set<int64_t> seen(e0.begin(), e0.end());
  seen.insert(e0b.begin(), e0b.end());
  EXPECT_EQ(seen.size(), 8u);
  // The same address, the same batch (another object, other calls in between); labels follow.
  EXPECT_EQ(which(again.train_batch({1, 0, 4, 1})), e0b);
  const Batch b = s.train_batch({0, 0, 4, 1});
  EXPECT_EQ(which(b), e0);
  for (int64_t r = 0; r < 4; ++r) EXPECT_EQ(b.data.at("y")[r].item<int64_t>(), e0[r] % 2);
  // Epoch 1 (steps 2, 3) is another order of the same examples.
  const auto e1 = which(s.train_batch({2, 0, 4, 1})), e1b = which(s.train_batch({3, 0, 4, 1}));
  std::vector<int64_t> epoch0 = e0, epoch1 = e1;
  epoch0.insert(epoch0.end(), e0b.begin(), e0b.end());
  epoch1.insert(epoch1.end(), e1b.begin(), e1b.end());
  EXPECT_NE(epoch0, epoch1);
  EXPECT_EQ(std::set<int64_t>(epoch1.begin(), epoch1.end()).size(), 8u);
  // Another split name shuffles differently.
  TextClassificationJsonl val(path, "val", ctx());
  std::vector<int64_t> other = which(val.train_batch({0, 0, 4, 1}));
  const auto other_b = which(val.train_batch({1, 0, 4, 1}));
  other.insert(other.end(), other_b.begin(), other_b.end());
  EXPECT_NE(other, epoch0);
}

TEST_F(TextClassificationTest, RanksReadTheirSliceOfTheStep) {
  const std::string path = eight_rows();
  TextClassificationJsonl one(path, "train", ctx());
  DataContext c0 = ctx(), c1 = ctx();
  c0.world_size = c1.world_size = 2;
  c1.rank = 1;
  TextClassificationJsonl r0(path, "train", c0), r1(path, "train", c1);
  for (int64_t step = 0; step < 3; ++step) {
    std::vector<int64_t> both = which(r0.train_batch({step, 0, 2, 1}));
    const auto second = which(r1.train_batch({step, 0, 2, 1}));
    both.insert(both.end(), second.begin(), second.end());
    EXPECT_EQ(both, which(one.train_batch({step, 0, 4, 1}))) << "step " << step;
  }
}

TEST_F(TextClassificationTest, DetectsClassificationRowsNotSftRows) {
  EXPECT_TRUE(is_text_classification_jsonl(write("c.jsonl", "\n{\"text\": \"a\", \"label\": 1}\n")));
  EXPECT_TRUE(is_text_classification_jsonl(write("p.jsonl", "{\"text_a\": \"a\", \"text_b\": \"b\", \"label\": \"x\"}\n")));
  EXPECT_FALSE(is_text_classification_jsonl(write("s.jsonl", "{\"prompt\": \"q\", \"response\": \"a\"}\n")));
  EXPECT_FALSE(is_text_classification_jsonl(
      write("m.jsonl", "{\"messages\": [{\"role\": \"user\", \"content\": \"q\"}]}\n{\"text\": \"a\", \"label\": 1}\n")));
  EXPECT_FALSE(is_text_classification_jsonl(write("c.txt", "{\"text\": \"a\", \"label\": 1}\n")));  // by name
  EXPECT_FALSE(is_text_classification_jsonl(write("bad.jsonl", "not json\n")));
  EXPECT_FALSE(is_text_classification_jsonl(write("empty.jsonl", "")));
  EXPECT_FALSE(is_text_classification_jsonl(dir_.path + "/missing.jsonl"));
}

TEST_F(TextClassificationTest, OpenDataSourceReadsClassificationJsonl) {
  const std::string path = eight_rows();
  const auto src = open_data_source(path, "train", ctx(), "data.train");
  EXPECT_NE(src->describe().find("text classification JSONL"), std::string::npos) << src->describe();
  EXPECT_EQ(src->class_names(), (std::vector<std::string>{"x", "y"}));
  // Errors carry the config key.
  DataContext c = ctx();
  c.classes = {"x"};
  const std::string e = test::user_error([&] { open_data_source(path, "val", c, "data.val"); });
  EXPECT_EQ(e.rfind("data.val: " + path + ":2: label 'y'", 0), 0u) << e;
  // SFT rows still go to the SFT reader.
  const auto sft = open_data_source(write("sft.jsonl", "{\"prompt\": \"the\", \"response\": \"court\"}\n"), "train",
                                    ctx(), "data.train");
  EXPECT_NE(sft->describe().find("SFT JSONL"), std::string::npos) << sft->describe();
}

TEST_F(TextClassificationTest, AVocabularyWithoutClsIsAClearError) {
  // A gpt-family SentencePiece model: <|endoftext|>, no [CLS] / [SEP] / [PAD].
  DataContext c = ctx();
  c.tokenizer = test::tiny_tokenizer();
  const std::string e = test::user_error([&] { TextClassificationJsonl(eight_rows(), "train", c); });
  EXPECT_NE(e.find("text classification needs a BERT vocabulary, but the model's sentencepiece tokenizer has no "
                   "[CLS], [SEP], [PAD]"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("--family bert"), std::string::npos) << e;
}

}  // namespace
}  // namespace ptft
