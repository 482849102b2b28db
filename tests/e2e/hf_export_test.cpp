// End-to-end: `ptft export --format hf` writes a Hugging Face GPT-2 directory from a run, and
// `ptft finetune --from` starts from such a directory (read_checkpoint's HF path). A tiny GPT is
// pre-trained for a few steps on licence texts first. Bad --out / --model are user errors.
#include <gtest/gtest.h>

#include "../common/python.h"
#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;
using e2e::contains;

const std::string kLicences = "/usr/share/common-licenses/";

// A tokenizer, token shards and a 4-step pre-training run, shared by the tests of this process.
struct Source {
  e2e::TempDir dir{"hf-export-source"};
  std::string shards = dir.path("shards");
  std::string run = dir.path("pre");
  bool ok = false;
};
const Source& source() {
  static Source* src = [] {
    auto* s = new Source;
    auto fail = [&](const e2e::Result& r) {
      ADD_FAILURE() << "making the source run failed: " << r.text();
      return s;
    };
    auto tok = e2e::run_ptft({"tokenizer", "train", "--input", kLicences + "GPL-3", "--vocab-size", "400", "--type",
                              "bpe", "--out", s->dir.path("tok"), "--threads", "1"});
    if (tok.exit_code != 0) return fail(tok);
    auto prep = e2e::run_ptft({"data", "prepare", "--tokenizer", s->dir.path("tok"), "--input", kLicences + "GPL-3",
                               "--out", s->shards, "--threads", "1", "--quiet"});
    if (prep.exit_code != 0) return fail(prep);
    e2e::write_text(s->dir.path("gpt.yaml"),
                    "model: {family: gpt, vocab_size: 400, n_positions: 32, n_embd: 32, n_layer: 1, n_head: 2}\n"
                    "data: {train: " + s->shards + "}\n"
                    "train: {steps: 4, batch_size: 4, lr: 1.0e-3, warmup: 0}\n");
    auto run = e2e::run_ptft({"pretrain", "--config", s->dir.path("gpt.yaml"), "--out", s->run, "--threads", "1",
                              "--quiet"});
    if (run.exit_code != 0) return fail(run);
    s->ok = true;
    return s;
  }();
  static const std::unique_ptr<Source> cleanup(src);
  return *src;
}

TEST(HfExportE2E, RunExportsAsHfGpt2AndFinetunesFromIt) {
  const Source& src = source();
  ASSERT_TRUE(src.ok);
  e2e::TempDir tmp;
  const std::string hf = tmp.path("hf");
  auto exp = e2e::run_ptft({"export", "--model", src.run, "--format", "hf", "--out", hf});
  ASSERT_EQ(exp.exit_code, 0) << exp.text();
  EXPECT_TRUE(contains(exp.err, "exported")) << exp.err;

  auto cfg = e2e::read_json(hf + "/config.json");
  EXPECT_EQ(cfg["model_type"], "gpt2");
  EXPECT_EQ(cfg["architectures"], nlohmann::json::array({"GPT2LMHeadModel"}));
  EXPECT_EQ(cfg["n_embd"], 32);
  EXPECT_EQ(cfg["n_ctx"], 32);
  EXPECT_FALSE(cfg.contains("ptft"));
  auto f = ptft::safetensors::File::open(hf + "/model.safetensors");
  EXPECT_EQ(f->at("transformer.h.0.attn.c_attn.weight").shape, (std::vector<int64_t>{32, 96}));  // (n_embd, 3 n_embd)
  EXPECT_EQ(f->at("transformer.h.0.mlp.c_proj.weight").shape, (std::vector<int64_t>{128, 32}));
  EXPECT_EQ(f->find("lm_head.weight"), nullptr) << "the head is tied to wte, as HF writes it";
  EXPECT_EQ(f->metadata().at("format"), "pt");

  // The exported directory is a checkpoint for fine-tuning.
  e2e::write_text(tmp.path("ft.yaml"), "data: {train: " + src.shards + "}\ntrain: {steps: 2, batch_size: 2}\n");
  auto ft = e2e::run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", hf, "--out", tmp.path("ft"),
                           "--threads", "1", "--quiet"});
  ASSERT_EQ(ft.exit_code, 0) << ft.text();
  auto ft_cfg = e2e::read_json(tmp.path("ft") + "/checkpoints/last/config.json");
  EXPECT_EQ(ft_cfg["ptft"]["family"], "gpt");
  EXPECT_EQ(ft_cfg["ptft"]["finetuned_from"], hf);
  EXPECT_EQ(e2e::read_json(tmp.path("ft") + "/checkpoints/last/trainer_state.json")["step"], 2);

  // An HF directory exports again (HF -> HF) to the same tensors.
  auto again = e2e::run_ptft({"export", "--model", hf, "--out", tmp.path("hf2")});
  ASSERT_EQ(again.exit_code, 0) << again.text();
  auto a = e2e::read_tensors(hf + "/model.safetensors"), b = e2e::read_tensors(tmp.path("hf2") + "/model.safetensors");
  EXPECT_TRUE(e2e::same_tensors(a, b));
}

// A LoRA run exported to Hugging Face without --merge-lora: the PEFT adapter directory and the
// base model it names, beside it in OUT/base; PEFT's loading rules (tests/io/peft_adapter_check.py)
// accept the pair.
TEST(HfExportE2E, LoraRunExportsAsAPeftAdapterAndItsBase) {
  const Source& src = source();
  ASSERT_TRUE(src.ok);
  e2e::TempDir tmp;
  e2e::write_text(tmp.path("ft.yaml"), "data: {train: " + src.shards + "}\ntrain: {steps: 2, batch_size: 2}\n"
                                       "finetune: {strategy: lora, lora: {r: 4, alpha: 8}, general_val: none}\n");
  auto ft = e2e::run_ptft({"finetune", "--config", tmp.path("ft.yaml"), "--from", src.run, "--out", tmp.path("ft"),
                           "--threads", "1", "--quiet"});
  ASSERT_EQ(ft.exit_code, 0) << ft.text();
  const std::string out = tmp.path("peft");
  auto exp = e2e::run_ptft({"export", "--model", tmp.path("ft"), "--format", "hf", "--out", out});
  ASSERT_EQ(exp.exit_code, 0) << exp.text();
  EXPECT_TRUE(contains(exp.err, "PEFT adapter directory")) << exp.err;
  const auto config = e2e::read_json(out + "/adapter_config.json");
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["r"], 4);
  EXPECT_EQ(config["base_model_name_or_path"], out + "/base");
  EXPECT_EQ(e2e::read_json(out + "/base/config.json")["model_type"], "gpt2");
  const auto base = e2e::read_tensors(out + "/base/model.safetensors");
  for (const auto& [name, t] : base) EXPECT_EQ(name.find("lora"), std::string::npos) << name;
  // The base is the model the LoRA run started from: its weights are the pre-trained run's.
  auto pre = e2e::run_ptft({"export", "--model", src.run, "--format", "hf", "--out", tmp.path("pre-hf")});
  ASSERT_EQ(pre.exit_code, 0) << pre.text();
  EXPECT_TRUE(e2e::same_tensors(base, e2e::read_tensors(tmp.path("pre-hf/model.safetensors"))));
  if (!ptft::test::python_with_numpy().empty()) {
    auto check = e2e::run_program("/bin/sh", {"-c", ptft::test::python_with_numpy() + " " PTFT_SOURCE_DIR
                                                    "/tests/io/peft_adapter_check.py " + out + " " + out + "/base"});
    EXPECT_EQ(check.exit_code, 0) << check.text();
    EXPECT_TRUE(contains(check.out, "ok: ")) << check.out;
  }
}

TEST(HfExportE2E, ExistingOutputAndMissingModelAreUserErrors) {
  const Source& src = source();
  ASSERT_TRUE(src.ok);
  e2e::TempDir tmp;
  const std::string out = tmp.path("taken");
  sfs::create_directories(out);
  e2e::write_text(out + "/notes.txt", "keep me");
  auto taken = e2e::run_ptft({"export", "--model", src.run, "--format", "hf", "--out", out});
  EXPECT_EQ(taken.exit_code, 1) << taken.text();
  EXPECT_TRUE(contains(taken.err, out)) << taken.err;
  EXPECT_EQ(e2e::read_text(out + "/notes.txt"), "keep me");

  auto no_model = e2e::run_ptft({"export", "--format", "hf", "--out", tmp.path("x")});
  EXPECT_EQ(no_model.exit_code, 1) << no_model.text();
  EXPECT_TRUE(contains(no_model.err, "--model")) << no_model.err;

  auto missing = e2e::run_ptft({"export", "--model", tmp.path("nope"), "--out", tmp.path("y")});
  EXPECT_EQ(missing.exit_code, 1) << missing.text();
  EXPECT_TRUE(contains(missing.err, tmp.path("nope"))) << missing.err;

  auto format = e2e::run_ptft({"export", "--model", src.run, "--format", "onnx", "--out", tmp.path("z")});
  EXPECT_EQ(format.exit_code, 1) << format.text();
  EXPECT_FALSE(sfs::exists(tmp.path("x")) || sfs::exists(tmp.path("y")) || sfs::exists(tmp.path("z")));
}

}  // namespace
