// Tests for ptft/data/sft_jsonl.h with a small SentencePiece tokenizer trained on licence texts
// (gpt family: <|endoftext|> is the end-of-text id): the learnt tokens decode to exactly the
// answers + "<|endoftext|>\n" (prompt/response rows, and messages rows with two assistant turns),
// inputs/targets are the example shifted by one, padding and Batch.weight, truncation and drop
// counts, deterministic epoch-wise shuffling, every row error with its file:line, and the
// *.jsonl dispatch of open_data_source.
#include "ptft/data/sft_jsonl.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <set>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/core/error.h"
#include "ptft/tokenizer/sentencepiece_tokenizer.h"

namespace ptft {
namespace {

using test::user_error;

constexpr int64_t kIgnore = -100;
const std::string kEnd = "<|endoftext|>\n";

class SftJsonlTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    tok_dir_ = new test::TempDir("sft_tok");
    SpmTrainOptions o;
    const std::string lic = "/usr/share/common-licenses/";
    o.inputs = {lic + "GPL-3", lic + "Apache-2.0"};
    o.out_dir = tok_dir_->path + "/tok";
    o.vocab_size = 400;
    o.num_threads = 1;
    train_sentencepiece(o);
    tok_ = SentencePieceTokenizer::from_dir(o.out_dir);
  }
  static void TearDownTestSuite() {
    tok_.reset();
    delete tok_dir_;
  }

  DataContext ctx(int64_t block_size = 512) const {
    DataContext c;
    c.seed = 7;
    c.block_size = block_size;
    c.tokenizer = tok_;
    return c;
  }
  std::string write(const std::string& name, const std::string& text) const {
    const std::string path = dir_.path + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  // Text of the learnt tokens of example i (tokens marked trained).
  static std::string trained_text(const SftJsonl& s, int64_t i) {
    const auto ids = s.example_ids(i);
    const auto trained = s.example_trained(i);
    std::vector<int32_t> out;
    for (std::size_t t = 0; t < ids.size(); ++t)
      if (trained[t]) out.push_back(ids[t]);
    return tok_->decode(out);
  }
  // Text of the counted targets of row b of a batch.
  static std::string target_text(const Batch& b, int64_t row) {
    auto t = b.data.at("targets")[row];
    std::vector<int32_t> out;
    for (int64_t j = 0; j < t.size(0); ++j)
      if (t[j].item<int64_t>() != kIgnore) out.push_back(static_cast<int32_t>(t[j].item<int64_t>()));
    return tok_->decode(out);
  }
  static test::TempDir* tok_dir_;
  static std::shared_ptr<const Tokenizer> tok_;
  test::TempDir dir_{"sft_jsonl"};
};
test::TempDir* SftJsonlTest::tok_dir_ = nullptr;
std::shared_ptr<const Tokenizer> SftJsonlTest::tok_;

TEST_F(SftJsonlTest, PromptResponseLearnsExactlyTheResponse) {
  const std::string path = write("a.jsonl",
                                 "{\"prompt\": \"What is a licence?\", \"response\": \"Permission to copy.\"}\n"
                                 "\n"
                                 "{\"system\": \"Be brief.\", \"prompt\": \"Who holds copyright?\", "
                                 "\"response\": \"The author, unless\\nassigned.\"}\n");
  SftJsonl s(path, "train", ctx());
  ASSERT_EQ(s.size(), 2);
  EXPECT_EQ(s.stats().rows, 2);
  EXPECT_EQ(tok_->decode(s.example_ids(0)),
            "<|user|>\nWhat is a licence?\n<|assistant|>\nPermission to copy." + kEnd);
  EXPECT_EQ(trained_text(s, 0), "Permission to copy." + kEnd);
  EXPECT_EQ(tok_->decode(s.example_ids(1)),
            "<|system|>\nBe brief.\n<|user|>\nWho holds copyright?\n<|assistant|>\nThe author, unless\nassigned." + kEnd);
  EXPECT_EQ(trained_text(s, 1), "The author, unless\nassigned." + kEnd);
  // The end-of-text token itself is learnt (the model learns to stop).
  const auto ids = s.example_ids(0);
  EXPECT_NE(std::find(ids.begin(), ids.end(), tok_->eot_id()), ids.end());

  // Inputs are the example without its last token; targets without its first, masked.
  const Batch b = s.eval_batch(0, 2);
  for (int64_t row = 0; row < 2; ++row) {
    const auto ex = s.example_ids(row);
    const auto trained = s.example_trained(row);
    const auto in = b.data.at("input_ids")[row];
    const auto tg = b.data.at("targets")[row];
    for (std::size_t t = 0; t + 1 < ex.size(); ++t) {
      EXPECT_EQ(in[t].item<int64_t>(), ex[t]);
      EXPECT_EQ(tg[t].item<int64_t>(), trained[t + 1] ? ex[t + 1] : kIgnore);
    }
  }
  EXPECT_EQ(target_text(b, 0), "Permission to copy." + kEnd);
  EXPECT_EQ(target_text(b, 1), "The author, unless\nassigned." + kEnd);
}

TEST_F(SftJsonlTest, MessagesLearnEveryAssistantTurn) {
  const std::string path = write(
      "m.jsonl",
      R"({"messages": [{"role": "system", "content": "You answer licence questions."}, )"
      R"({"role": "user", "content": "Can I copy it?"}, {"role": "assistant", "content": "Yes, verbatim."}, )"
      R"({"role": "user", "content": "And change it?"}, )"
      R"({"role": "assistant", "content": "Yes, under the same terms."}], "id": 3})"
      "\n");
  SftJsonl s(path, "train", ctx());
  ASSERT_EQ(s.size(), 1);
  EXPECT_EQ(trained_text(s, 0), "Yes, verbatim." + kEnd + "Yes, under the same terms." + kEnd);
  EXPECT_EQ(tok_->decode(s.example_ids(0)),
            "<|system|>\nYou answer licence questions.\n<|user|>\nCan I copy it?\n<|assistant|>\nYes, verbatim." + kEnd +
                "<|user|>\nAnd change it?\n<|assistant|>\nYes, under the same terms." + kEnd);
  const Batch b = s.eval_batch(0, 1);
  EXPECT_EQ(target_text(b, 0), "Yes, verbatim." + kEnd + "Yes, under the same terms." + kEnd);
}

TEST_F(SftJsonlTest, PadsToTheLongestExampleAndWeighsCountedTargets) {
  const std::string path = write("p.jsonl",
                                 "{\"prompt\": \"a\", \"response\": \"b\"}\n"
                                 "{\"prompt\": \"A much longer question about the licence terms?\", "
                                 "\"response\": \"And a much longer answer about them.\"}\n");
  SftJsonl s(path, "val", ctx());
  const auto n0 = static_cast<int64_t>(s.example_ids(0).size());
  const auto n1 = static_cast<int64_t>(s.example_ids(1).size());
  ASSERT_LT(n0, n1);
  const Batch b = s.eval_batch(0, 2);
  const auto in = b.data.at("input_ids");
  const auto tg = b.data.at("targets");
  ASSERT_EQ(in.sizes(), (std::vector<int64_t>{2, n1 - 1}));
  ASSERT_EQ(tg.sizes(), (std::vector<int64_t>{2, n1 - 1}));
  EXPECT_EQ(in.dtype(), torch::kLong);
  EXPECT_EQ(tg.dtype(), torch::kLong);
  // Row 0 is padded after its n0 - 1 inputs: end-of-text inputs, ignored targets.
  EXPECT_TRUE(in[0].slice(0, n0 - 1).eq(tok_->eot_id()).all().item<bool>());
  EXPECT_TRUE(tg[0].slice(0, n0 - 1).eq(kIgnore).all().item<bool>());
  // Weight = targets that count = learnt tokens after each example's first.
  int64_t learnt = 0;
  for (int64_t i = 0; i < 2; ++i) {
    const auto tr = s.example_trained(i);
    learnt += std::count(tr.begin() + 1, tr.end(), true);
  }
  EXPECT_EQ(b.weight, learnt);
  EXPECT_EQ(b.weight, tg.ne(kIgnore).sum().item<int64_t>());
  EXPECT_EQ(s.stats().trained, learnt);
  EXPECT_EQ(s.stats().tokens, n0 + n1);
  EXPECT_EQ(s.eval_batches(2), 1);
  EXPECT_EQ(s.eval_batches(1), 2);
  EXPECT_EQ(s.eval_batch(1, 1).data.at("input_ids").size(1), n1 - 1);
}

TEST_F(SftJsonlTest, TruncatesToTheContextAndDropsExamplesWithoutAnswer) {
  const std::string long_prompt(400, 'x'), long_answer = "word after word after word after word after word";
  const std::string path = write("t.jsonl",
                                 "{\"prompt\": \"" + long_prompt + "\", \"response\": \"lost\"}\n"
                                 "{\"prompt\": \"q\", \"response\": \"" + long_answer + "\"}\n"
                                 "{\"prompt\": \"q\", \"response\": \"ok\"}\n");
  // Context: room for the short examples, not for the long answer or the long prompt.
  const int64_t full_short = static_cast<int64_t>(
      tok_->encode("<|user|>\nq\n<|assistant|>\nok" + kEnd).size());
  const int64_t T = full_short + 2;
  ASSERT_GT(static_cast<int64_t>(tok_->encode("<|user|>\nq\n<|assistant|>\n" + long_answer + kEnd).size()), T + 1);
  SftJsonl s(path, "train", ctx(T));
  EXPECT_EQ(s.stats().rows, 3);
  EXPECT_EQ(s.stats().truncated, 2);
  EXPECT_EQ(s.stats().dropped, 1);
  ASSERT_EQ(s.size(), 2);
  EXPECT_EQ(static_cast<int64_t>(s.example_ids(0).size()), T + 1);  // cut to T inputs + 1
  const std::string kept = trained_text(s, 0);
  EXPECT_EQ(long_answer.rfind(kept, 0), 0u) << kept;  // a prefix of the answer, no end token
  EXPECT_LT(kept.size(), long_answer.size());
  EXPECT_EQ(trained_text(s, 1), "ok" + kEnd);
  EXPECT_EQ(s.train_batch({0, 0, 2, 1}).data.at("input_ids").size(1), T);
  const std::string d = s.describe();
  EXPECT_NE(d.find("2 of 3 truncated to " + std::to_string(T) + " tokens, 1 dropped (no response tokens left)"),
            std::string::npos) << d;

  // Nothing left at all: a UserError with the numbers.
  const std::string e = user_error([&] { SftJsonl(write("d.jsonl", "{\"prompt\": \"" + long_prompt +
                                                                     "\", \"response\": \"r\"}\n"),
                                                  "train", ctx(8)); });
  EXPECT_NE(e.find("all 1 examples were dropped"), std::string::npos) << e;
  EXPECT_NE(e.find("context of 8 tokens"), std::string::npos) << e;
}

TEST_F(SftJsonlTest, TrainBatchesAreAddressedAndShuffledPerEpoch) {
  std::string rows;
  for (int i = 0; i < 10; ++i)
    rows += "{\"prompt\": \"question " + std::to_string(i) + "\", \"response\": \"" + std::string(i + 1, 'a') + "\"}\n";
  const std::string path = write("s.jsonl", rows);
  SftJsonl a(path, "train", ctx()), b(path, "train", ctx());
  // Same address, same batch, whatever was read before.
  b.train_batch({5, 0, 3, 1});
  const Batch x = a.train_batch({2, 1, 3, 2}), y = b.train_batch({2, 1, 3, 2});
  EXPECT_TRUE(torch::equal(x.data.at("input_ids"), y.data.at("input_ids")));
  EXPECT_TRUE(torch::equal(x.data.at("targets"), y.data.at("targets")));
  EXPECT_EQ(x.weight, y.weight);

  // Each epoch (10 stream positions) visits every example once, in a new order.
  auto first_ids = [&](SftJsonl& s, int64_t step) {
    const auto in = s.train_batch({step, 0, 1, 1}).data.at("input_ids");
    std::vector<int64_t> v(in.data_ptr<int64_t>(), in.data_ptr<int64_t>() + in.numel());
    return v;
  };
  std::vector<std::vector<int64_t>> epoch0, epoch1;
  for (int64_t step = 0; step < 10; ++step) epoch0.push_back(first_ids(a, step));
  for (int64_t step = 10; step < 20; ++step) epoch1.push_back(first_ids(a, step));
  EXPECT_EQ(std::set<std::vector<int64_t>>(epoch0.begin(), epoch0.end()).size(), 10u);
  EXPECT_EQ(std::set<std::vector<int64_t>>(epoch0.begin(), epoch0.end()),
            std::set<std::vector<int64_t>>(epoch1.begin(), epoch1.end()));
  EXPECT_NE(epoch0, epoch1);

  // Another seed, another order; micro-batches of one step split differently read the same examples.
  DataContext other = ctx();
  other.seed = 8;
  SftJsonl c(path, "train", other);
  std::vector<std::vector<int64_t>> seeded;
  for (int64_t step = 0; step < 10; ++step) seeded.push_back(first_ids(c, step));
  EXPECT_NE(epoch0, seeded);
  const Batch whole = a.train_batch({1, 0, 4, 1});
  const Batch half0 = a.train_batch({1, 0, 2, 2}), half1 = a.train_batch({1, 1, 2, 2});
  EXPECT_EQ(whole.weight, half0.weight + half1.weight);
}

TEST_F(SftJsonlTest, RowErrorsNameFileAndLine) {
  struct Case {
    std::string second_line, expected;
  };
  const std::string good = "{\"prompt\": \"p\", \"response\": \"r\"}\n";
  const std::vector<Case> cases = {
      {"{\"prompt\": \"p\", \"response\": ", ": not valid JSON (parse error"},
      {"{\"prompt\": \"p\", \"response\": \"r\", \"n\": 1e999}", ": not valid JSON (number overflow"},
      {"[1, 2]", ": expected a JSON object, got array"},
      {"{\"prompt\": \"p\"}", ": no 'response' field"},
      {"{\"prompt\": 3, \"response\": \"r\"}", ": 'prompt' is number, expected a string"},
      {"{\"prompt\": \"p\", \"response\": \"r\", \"system\": null}", ": 'system' is null, expected a string"},
      {"{\"text\": \"p\"}", ": the row has neither 'prompt'/'response' nor 'messages'"},
      {"{\"messages\": {\"role\": \"user\"}}", ": 'messages' is object, expected a list"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", ": no assistant message"},
      {"{\"messages\": [{\"role\": \"asistant\", \"content\": \"hi\"}]}", ": message 1: unknown role 'asistant'"},
      {"{\"messages\": [{\"role\": \"user\", \"content\": 1}]}", ": message 1: 'content' is number"},
      {"{\"messages\": [\"hi\"]}", ": message 1 is string, expected an object"},
      {"{\"messages\": [], \"prompt\": \"p\"}", ": the row has both 'messages' and 'prompt'/'response'"},
  };
  for (const auto& c : cases) {
    // Line 3: a good row, a blank line (counted), then the bad row.
    const std::string path = write("bad.jsonl", good + "\n" + c.second_line + "\n" + good);
    const std::string e = user_error([&] { SftJsonl(path, "train", ctx()); });
    EXPECT_NE(e.find(path + ":3" + c.expected), std::string::npos) << c.second_line << "\n" << e;
  }
  std::string e = user_error([&] { SftJsonl(write("bad.jsonl", "{\"messages\": [{\"role\": \"asistant\", \"content\": \"\"}]}"),
                                            "train", ctx()); });
  EXPECT_NE(e.find("did you mean 'assistant'?"), std::string::npos) << e;

  for (const std::string text : {"", "\n  \n\t\n"}) {
    e = user_error([&] { SftJsonl(write("empty.jsonl", text), "val", ctx()); });
    EXPECT_NE(e.find("SFT data '" + dir_.path + "/empty.jsonl' (val) has no examples"), std::string::npos) << e;
  }
}

TEST_F(SftJsonlTest, NeedsTheTokenizerAndASequenceModel) {
  const std::string path = write("a.jsonl", "{\"prompt\": \"p\", \"response\": \"r\"}\n");
  DataContext c = ctx();
  c.tokenizer.reset();
  std::string e = user_error([&] { SftJsonl(path, "train", c); });
  EXPECT_NE(e.find("SFT data needs the model's tokenizer: fine-tune from a checkpoint that has tokenizer/"),
            std::string::npos) << e;
  e = user_error([&] { SftJsonl(path, "train", ctx(0)); });
  EXPECT_NE(e.find("does not read token sequences"), std::string::npos) << e;
}

TEST_F(SftJsonlTest, UsesTheContextsChatTemplate) {
  const std::string path = write("a.jsonl", "{\"prompt\": \"p\", \"response\": \"r\"}\n");
  DataContext c = ctx();
  c.chat_template = std::make_shared<ChatTemplate>(ChatTemplate::from_json(
      {{"name", "plain"}, {"system", "{content}\n"}, {"user", "Q: {content}\n"}, {"assistant", "A: {content}"},
       {"assistant_end", "<|endoftext|>"}},
      "test"));
  SftJsonl s(path, "train", c);
  EXPECT_EQ(tok_->decode(s.example_ids(0)), "Q: p\nA: r<|endoftext|>");
  EXPECT_EQ(trained_text(s, 0), "r<|endoftext|>");
  EXPECT_NE(s.describe().find("template plain"), std::string::npos) << s.describe();
}

TEST_F(SftJsonlTest, OpenDataSourceDispatchesJsonl) {
  const std::string path = write("chat.jsonl", "{\"prompt\": \"p\", \"response\": \"r\"}\n");
  auto src = open_data_source(path, "train", ctx(), "data.train");
  EXPECT_EQ(src->describe().rfind("SFT JSONL '" + path + "' (train: 1 examples", 0), 0u) << src->describe();
  EXPECT_EQ(src->size(), 1);
  DataContext c = ctx();
  c.tokenizer.reset();
  const std::string e = user_error([&] { open_data_source(path, "train", c, "data.train"); });
  EXPECT_EQ(e.rfind("data.train: SFT data needs the model's tokenizer", 0), 0u) << e;
}

}  // namespace
}  // namespace ptft
