// tests/e2e/tiny_checkpoint.h — a small GPT checkpoint made the way a user makes one, for the
// inference commands' end-to-end tests: `ptft tokenizer train` (SentencePiece BPE, 400 pieces)
// and `ptft data prepare` on the GPL (one document per paragraph), then `ptft pretrain` of a
// one-block GPT with a context of 64 tokens for 30 steps (seconds on one thread).
//
//   e2e::TempDir tmp;
//   std::string ckpt;
//   ASSERT_NO_FATAL_FAILURE(e2e::make_tiny_gpt_checkpoint(tmp, &ckpt));   // tmp/run/checkpoints/last
//   e2e::run_ptft({"generate", "--model", ckpt, "--prompt", "This", "--threads", "1"});
#pragma once

#include <string>
#include <vector>

#include "run_ptft.h"

namespace e2e {

constexpr int kTinyContext = 64;
inline const std::string kGpl = "/usr/share/common-licenses/GPL-3";

// Sets *ckpt to the checkpoint directory; a failing step fails the test (wrap the call in
// ASSERT_NO_FATAL_FAILURE).
inline void make_tiny_gpt_checkpoint(const TempDir& tmp, std::string* ckpt) {
  auto tok = run_ptft({"tokenizer", "train", "--input", kGpl, "--vocab-size", "400", "--type", "bpe", "--out",
                       tmp.path("tok"), "--threads", "1"});
  ASSERT_EQ(tok.exit_code, 0) << tok.text();
  auto prep = run_ptft({"data", "prepare", "--tokenizer", tmp.path("tok"), "--input", kGpl, "--out",
                        tmp.path("shards"), "--val-fraction", "0.2", "--split-documents", "blank-lines",
                        "--threads", "1", "--quiet"});
  ASSERT_EQ(prep.exit_code, 0) << prep.text();
  write_text(tmp.path("gpt.yaml"),
             "model: {family: gpt, vocab_size: 400, n_positions: " + std::to_string(kTinyContext) +
                 ", n_embd: 32, n_layer: 1, n_head: 2}\n"
                 "data: {train: " + tmp.path("shards") + ", val: " + tmp.path("shards") + "}\n"
                 "train: {steps: 30, batch_size: 8, lr: 3.0e-3, warmup: 5, eval_every: 30, eval_batches: 2,\n"
                 "        save_every: 30, weight_decay: 0.0}\n");
  auto run = run_ptft({"pretrain", "--config", tmp.path("gpt.yaml"), "--out", tmp.path("run"), "--threads", "1",
                       "--quiet"});
  ASSERT_EQ(run.exit_code, 0) << run.text();
  *ckpt = tmp.path("run/checkpoints/last");
  // A run on token shards stores their tokenizer in its checkpoints: what generate reads.
  std::error_code ec;
  ASSERT_TRUE(sfs::is_directory(*ckpt + "/tokenizer", ec)) << *ckpt << " has no tokenizer/";
}

// A random-weight model of `model_yaml` (a YAML "model:" section; one step on synthetic tokens)
// exported as a Hugging Face directory *hf (tmp/hf) with the files `tokenizer_files` of
// `tokenizer_dir` copied in: a real model's layout and tokenizer, small enough for a test.
inline void make_hf_model(const TempDir& tmp, const std::string& model_yaml, const std::string& tokenizer_dir,
                          const std::vector<std::string>& tokenizer_files, std::string* hf) {
  write_text(tmp.path("base.yaml"), model_yaml + "data: {train: \"synthetic:tokens\"}\n" +
                                        "train: {steps: 1, batch_size: 2, eval_every: 0, save_every: 1}\n");
  auto base = run_ptft({"pretrain", "--config", tmp.path("base.yaml"), "--out", tmp.path("base"), "--threads", "1", "--quiet"});
  ASSERT_EQ(base.exit_code, 0) << base.text();
  *hf = tmp.path("hf");
  auto exported = run_ptft({"export", "--model", tmp.path("base"), "--format", "hf", "--out", *hf});
  ASSERT_EQ(exported.exit_code, 0) << exported.text();
  for (const auto& f : tokenizer_files) sfs::copy_file(tokenizer_dir + "/" + f, *hf + "/" + f);
}

}  // namespace e2e
