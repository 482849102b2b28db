// tests/e2e/gpt_fixture.h — a tiny pre-trained GPT made once per test process by the real
// binary, for the end-to-end tests of fine-tuning, generation, evaluation and export.
//
// Real text from /usr/share/common-licenses: a 400-token BPE tokenizer; "general" shards from
// the non-GPL licences, "domain" shards from the GPL family; a 2-block, 32-wide GPT-2 with a
// 32-token context pre-trained for 60 steps on the general shards.
//
//   const e2e::TinyGpt& g = e2e::tiny_gpt();
//   run_ptft({"finetune", "--from", g.ckpt, ...});   // g.domain, g.general, g.tok
#pragma once

#include <memory>

#include "run_ptft.h"

namespace e2e {

struct TinyGpt {
  TempDir dir{"tiny-gpt"};
  std::string tok = dir.path("tok");          // tokenizer directory
  std::string general = dir.path("general");  // token shards (train + val)
  std::string domain = dir.path("domain");    // token shards (train + val)
  std::string run = dir.path("pre");          // the pre-training run
  std::string ckpt = run + "/checkpoints/last";
  std::string domain_text = dir.path("domain.txt");  // the GPL-3 text, for `ptft eval`
  bool ok = false;
};

// The model architecture of the fixture, for configs that train one from scratch.
inline std::string tiny_gpt_model_yaml() {
  return "model: {family: gpt, vocab_size: 400, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 2}\n";
}

inline std::vector<std::string> licence_files(bool gpl_family) {
  std::vector<std::string> out;
  for (const auto& e : sfs::directory_iterator("/usr/share/common-licenses")) {
    const std::string name = e.path().filename().string();
    const bool gpl = name.rfind("GPL", 0) == 0 || name.rfind("LGPL", 0) == 0;
    if (gpl == gpl_family && e.is_regular_file()) out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline const TinyGpt& tiny_gpt() {
  static std::unique_ptr<TinyGpt> g = [] {
    auto t = std::make_unique<TinyGpt>();
    const std::string lic = "/usr/share/common-licenses/";
    auto fail = [&](const char* what, const Result& r) {
      ADD_FAILURE() << "making the tiny GPT fixture: " << what << " failed: " << r.text();
      return std::move(t);
    };
    auto tok = run_ptft({"tokenizer", "train", "--input", lic + "GPL-3", lic + "Apache-2.0", lic + "MPL-2.0",
                         "--vocab-size", "400", "--type", "bpe", "--out", t->tok, "--threads", "1"});
    if (tok.exit_code != 0) return fail("tokenizer train", tok);
    // The GPL family is 6 distinct documents: a 0.3 val fraction gives its val split one.
    for (auto [out, gpl, val] : {std::tuple{t->general, false, "0.1"}, std::tuple{t->domain, true, "0.3"}}) {
      auto prep = run_ptft(concat(concat({"data", "prepare", "--tokenizer", t->tok, "--input"}, licence_files(gpl)),
                                  {"--out", out, "--val-fraction", val, "--threads", "1", "--quiet"}));
      if (prep.exit_code != 0) return fail("data prepare", prep);
    }
    write_text(t->domain_text, read_text(lic + "GPL-3"));
    write_text(t->dir.path("pre.yaml"),
               tiny_gpt_model_yaml() + "data: {train: " + t->general + ", val: " + t->general + "}\n" +
                   "train: {steps: 60, batch_size: 8, lr: 3.0e-3, warmup: 5, eval_every: 60, eval_batches: 4,\n"
                   "        save_every: 60, weight_decay: 0.0, seed: 7}\n");
    auto pre = run_ptft({"pretrain", "--config", t->dir.path("pre.yaml"), "--out", t->run, "--threads", "1", "--quiet"});
    if (pre.exit_code != 0) return fail("pretrain", pre);
    t->ok = true;
    return t;
  }();
  return *g;
}

}  // namespace e2e
