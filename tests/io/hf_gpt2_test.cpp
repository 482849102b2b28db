// Tests for the gpt family's Hugging Face format (src/models/gpt2_hf.cpp): GPT-2 directories in and out.
//
// Golden check against an independent numpy GPT-2 (tests/io/hf_gpt2_reference.py): it writes a
// small HF-layout model by hand (Conv1D (in, out) weights, mask buffers, lm_head = wte), ptft
// reads it through read_checkpoint and must give the reference's logits (max abs diff <= 1e-4)
// and loss (<= 1e-5 relative); the export of that model must give the same logits when the
// reference reads it back, with HF's names, shapes and config keys. Without python3 + numpy
// those tests skip (scripts/setup.sh installs python3-numpy). Error cases and the export's
// tokenizer files are tested on directories made here, without Python.
#include "ptft/io/hf_files.h"
#include "ptft/models/model_files.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "../common/files.h"
#include "../common/golden.h"
#include "../common/python.h"
#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/core/error.h"
#include "ptft/io/safetensors.h"
#include "ptft/models/gpt.h"
#include "ptft/models/mlp.h"
#include "ptft/tokenizer/gpt2_bpe.h"
#include "ptft/tokenizer/hf_tokenizer.h"
#include "ptft/tokenizer/sentencepiece_tokenizer.h"
#include "ptft/train/causal_lm_task.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;
using test::TempDir;

const std::string kReference = PTFT_SOURCE_DIR "/tests/io/hf_gpt2_reference.py";
const std::vector<int64_t> kIds = {1, 5, 9, 96, 3, 3, 40, 77, 12, 0, 95, 60, 7, 21};

using test::contains;
using test::max_abs_diff;
using test::read_json;
using test::read_text;
using test::user_error_of;
using test::write_json;
using test::write_text;

#define REQUIRE_NUMPY_REFERENCE() PTFT_REQUIRE_NUMPY("the reference GPT-2")

void reference_make(const std::string& dir, const std::string& options = "") {
  test::run_reference(kReference, "make " + dir + " " + options);
}

struct Reference {
  torch::Tensor logits;  // (T,V) float64
  double loss = 0;
};

Reference reference_logits(const std::string& dir, const std::vector<int64_t>& ids) {
  std::string args = "logits " + dir;
  for (int64_t id : ids) args += " " + std::to_string(id);
  const std::string out = test::run_reference(kReference, args);
  Reference r;
  if (out.empty()) return r;
  const auto j = nlohmann::json::parse(out);
  r.logits = test::json_tensor(j["logits"]);
  r.loss = j["loss"].get<double>();
  return r;
}

// The model of a checkpoint or HF directory, as `ptft finetune --from` / `eval --model` build it.
ModelPtr load_model(const std::string& dir) {
  Checkpoint c = read_checkpoint(dir, /*with_training_state=*/false);
  ModelPtr m = model_from_config_json(c.config, dir + "/config.json");
  load_into(*m, c.model, dir + "/model.safetensors", /*strict=*/true);
  m->eval();
  return m;
}

torch::Tensor ids_tensor(const std::vector<int64_t>& ids) { return torch::tensor(ids, torch::kLong).unsqueeze(0); }

torch::Tensor ptft_logits(ModelImpl& m, const std::vector<int64_t>& ids) {
  torch::NoGradGuard ng;
  return m.forward({{"input_ids", ids_tensor(ids)}}).at("logits")[0].to(torch::kFloat64);  // (T,V)
}

// Mean next-token cross-entropy through the training task's loss.
double ptft_loss(ModelImpl& m, const std::vector<int64_t>& ids) {
  torch::NoGradGuard ng;
  const auto t = ids_tensor(ids);
  const int64_t T = t.size(1);
  Batch b;
  b.data = {{"input_ids", t.slice(1, 0, T - 1)}, {"targets", t.slice(1, 1, T)}};
  CausalLmTask task;
  return task.loss_sum(m, b).item<double>() / static_cast<double>(T - 1);
}

bool ends_with(const std::string& s, const std::string& end) {
  return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

// A small random GPT (HF name layout), for tests that need no reference.
std::shared_ptr<GptImpl> small_gpt(int64_t vocab = 97) {
  GptConfig c;
  c.vocab_size = vocab;
  c.n_positions = 16;
  c.n_embd = 16;
  c.n_layer = 2;
  c.n_head = 2;
  torch::manual_seed(7);
  auto m = std::make_shared<GptImpl>(c);
  torch::NoGradGuard ng;
  for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.1);  // non-trivial biases/LayerNorms
  m->eval();
  return m;
}

// ------------------------------------------------------------------------------------------------
// Golden: an HF directory written by the independent reference.

TEST(HfGpt2Golden, ReadsReferenceModelWithSameLogitsAndLoss) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_golden");
  const std::string hf = tmp.path + "/hf";
  reference_make(hf);
  ASSERT_TRUE(is_hf_model_dir(hf));
  const Reference ref = reference_logits(hf, kIds);

  Checkpoint c = read_checkpoint(hf);
  EXPECT_EQ(c.config["ptft"]["family"], "gpt");
  EXPECT_EQ(c.config["ptft"]["task"], "causal_lm");
  EXPECT_EQ(c.config["ptft"]["source"], "huggingface:" + hf);
  EXPECT_TRUE(c.optimizer.empty());
  EXPECT_EQ(c.model.count("lm_head.weight"), 0u);
  EXPECT_EQ(c.model.at("transformer.h.0.attn.c_attn.weight").sizes(), (std::vector<int64_t>{96, 32}));  // (out, in)

  ModelPtr m = load_model(hf);
  const torch::Tensor logits = ptft_logits(*m, kIds);
  ASSERT_EQ(logits.sizes(), ref.logits.sizes());
  EXPECT_LE(max_abs_diff(logits, ref.logits), 1e-4);
  EXPECT_GT(ref.logits.abs().max().item<double>(), 1.0) << "logits too small to test anything";
  const double loss = ptft_loss(*m, kIds);
  EXPECT_LE(std::abs(loss - ref.loss) / ref.loss, 1e-5) << loss << " vs reference " << ref.loss;
}

TEST(HfGpt2Golden, ExportReadsBackInTheReferenceWithHfNamesShapesAndConfig) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_golden_export");
  const std::string hf = tmp.path + "/hf", out = tmp.path + "/export";
  reference_make(hf);
  ModelPtr m = load_model(hf);
  const torch::Tensor logits = ptft_logits(*m, kIds);
  export_model(*m, nullptr, "hf", out);

  // The reference GPT-2 computes the same logits from the exported files.
  const Reference again = reference_logits(out, kIds);
  EXPECT_LE(max_abs_diff(again.logits, logits), 1e-4);
  EXPECT_LE(max_abs_diff(again.logits, reference_logits(hf, kIds).logits), 1e-9) << "export changed the weights";

  // Every tensor HF's own file has (but the mask buffers and the tied head) under the same name
  // and shape, and nothing else.
  test::expect_same_tensors(hf + "/model.safetensors", out + "/model.safetensors", [](const std::string& name) {
    return name == "lm_head.weight" || ends_with(name, ".attn.bias") || ends_with(name, ".attn.masked_bias");
  });
  EXPECT_EQ(safetensors::File::open(out + "/model.safetensors")->at("transformer.h.0.attn.c_attn.weight").shape,
            (std::vector<int64_t>{32, 96}));  // (in, out)

  // config.json: HF's keys with the reference's architecture values.
  const auto ref_cfg = read_json(hf + "/config.json"), cfg = read_json(out + "/config.json");
  for (const char* key : {"model_type", "vocab_size", "n_positions", "n_ctx", "n_embd", "n_layer", "n_head", "n_inner",
                          "activation_function", "layer_norm_epsilon", "scale_attn_weights", "summary_type"})
    EXPECT_EQ(cfg.at(key), ref_cfg.at(key)) << key;
  EXPECT_EQ(cfg["architectures"], nlohmann::json::array({"GPT2LMHeadModel"}));
  EXPECT_EQ(cfg["torch_dtype"], "float32");
  EXPECT_EQ(cfg["tie_word_embeddings"], true);
  EXPECT_EQ(cfg["reorder_and_upcast_attn"], false);
  EXPECT_EQ(cfg["scale_attn_by_inverse_layer_idx"], false);
  EXPECT_FALSE(cfg.contains("ptft"));
  EXPECT_TRUE(cfg["transformers_version"].is_string());
  EXPECT_TRUE(cfg["bos_token_id"].is_null()) << "vocab 97 and no tokenizer: no end-of-text id to name";
}

TEST(HfGpt2Golden, ReadsPlainNamesAndFloat16) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_golden_f16");
  const std::string hf = tmp.path + "/hf";
  reference_make(hf, "--plain-names --dtype f16 --seed 99");
  auto f = safetensors::File::open(hf + "/model.safetensors");
  ASSERT_EQ(f->at("wte.weight").dtype, safetensors::DType::F16);
  ModelPtr m = load_model(hf);
  EXPECT_EQ(state_dict(*m).at("transformer.wte.weight").scalar_type(), torch::kFloat32);
  EXPECT_LE(max_abs_diff(ptft_logits(*m, kIds), reference_logits(hf, kIds).logits), 1e-4);
}

// ------------------------------------------------------------------------------------------------
// Round trip and errors on directories made here.

TEST(HfGpt2, ExportThenReadGivesTheSameModel) {
  TempDir tmp("hf_roundtrip");
  auto m = small_gpt();
  const std::string out = tmp.path + "/out";
  sfs::create_directories(out);  // an existing empty directory is fine
  export_model(*m, nullptr, "hf", out);
  ModelPtr back = load_model(out);
  EXPECT_EQ(max_abs_diff(ptft_logits(*m, kIds), ptft_logits(*back, kIds)), 0.0);
  for (const auto& [name, t] : state_dict(*m)) EXPECT_TRUE(torch::equal(t, state_dict(*back).at(name))) << name;
  EXPECT_TRUE(sfs::exists(out + "/generation_config.json"));
  // Nothing but the export is left next to it.
  EXPECT_EQ(std::distance(sfs::directory_iterator(tmp.path), sfs::directory_iterator()), 1);
}

TEST(HfGpt2, ModelTypeT5IsUnsupported) {
  TempDir tmp("hf_t5");
  write_json(tmp.path + "/config.json", {{"model_type", "t5"}, {"d_model", 512}});
  EXPECT_TRUE(is_hf_model_dir(tmp.path));
  const std::string err = user_error_of([&] { read_checkpoint(tmp.path); });
  EXPECT_TRUE(contains(err, "model_type \"t5\" is not supported")) << err;
  EXPECT_TRUE(contains(err, "gpt2")) << err;
  EXPECT_TRUE(contains(err, "bert")) << err;
}

TEST(HfGpt2, PickleOnlyDirectoryIsRefused) {
  TempDir tmp("hf_pickle");
  const std::string dir = tmp.path + "/hf";
  export_model(*small_gpt(), nullptr, "hf", dir);
  sfs::remove(dir + "/model.safetensors");
  write_text(dir + "/pytorch_model.bin", "PK\x03\x04 not really a pickle");
  const std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "ptft reads safetensors only (pickle files can run code")) << err;
  EXPECT_TRUE(contains(err, "save_pretrained")) << err;
}

TEST(HfGpt2, ShapeMismatchNamesTheTensorAndBothShapes) {
  TempDir tmp("hf_shape");
  const std::string dir = tmp.path + "/hf";
  export_model(*small_gpt(), nullptr, "hf", dir);
  auto cfg = read_json(dir + "/config.json");
  cfg["n_inner"] = 32;  // the file's MLP is 4 * 16 = 64 wide
  write_json(dir + "/config.json", cfg);
  const std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "'transformer.h.0.mlp.c_fc.weight' is [16, 64], config.json says [16, 32]")) << err;
}

TEST(HfGpt2, LmHeadMustBeTiedToWte) {
  TempDir tmp("hf_untied");
  const std::string dir = tmp.path + "/hf";
  export_model(*small_gpt(), nullptr, "hf", dir);
  TensorMap t = load_tensors(dir + "/model.safetensors");
  TensorMap owned;
  for (auto& [k, v] : t) owned[k] = v.clone();
  t.clear();
  owned["lm_head.weight"] = owned.at("transformer.wte.weight").clone();
  save_tensors(dir + "/model.safetensors", owned, {{"format", "pt"}});
  EXPECT_NO_THROW(read_checkpoint(dir)) << "an lm_head equal to wte is the tied head";

  owned["lm_head.weight"][0][0] += 1.0f;
  save_tensors(dir + "/model.safetensors", owned, {{"format", "pt"}});
  const std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "lm_head.weight differs from transformer.wte.weight")) << err;
  EXPECT_TRUE(contains(err, "ties")) << err;
}

TEST(HfGpt2, UnsupportedOptionsAndMissingTensorsAreUserErrors) {
  TempDir tmp("hf_options");
  const std::string dir = tmp.path + "/hf";
  export_model(*small_gpt(), nullptr, "hf", dir);
  const auto good = read_json(dir + "/config.json");
  for (auto [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"reorder_and_upcast_attn", true}, {"scale_attn_by_inverse_layer_idx", true},
           {"activation_function", "relu"}, {"tie_word_embeddings", false}}) {
    auto cfg = good;
    cfg[key] = value;
    write_json(dir + "/config.json", cfg);
    const std::string err = user_error_of([&] { read_checkpoint(dir); });
    EXPECT_TRUE(contains(err, key)) << err;
  }
  auto cfg = good;
  cfg["n_layer"] = 3;  // the file has two blocks
  write_json(dir + "/config.json", cfg);
  const std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "lacks tensor(s) transformer.h.2.")) << err;
  EXPECT_TRUE(contains(err, "transformer.h.2.ln_1.weight")) << err;
}

TEST(HfGpt2, PtftCheckpointsKeepTheirOwnPath) {
  TempDir tmp("hf_ptft");
  auto m = small_gpt();
  Checkpoint c;
  c.config = m->config_json();
  c.model = state_dict(*m);
  write_checkpoint(tmp.path + "/ckpt", c);
  EXPECT_FALSE(is_hf_model_dir(tmp.path + "/ckpt"));
  const Checkpoint back = read_checkpoint(tmp.path + "/ckpt");
  EXPECT_FALSE(back.config["ptft"].contains("source"));
  EXPECT_EQ(back.model.at("transformer.h.0.attn.c_attn.weight").sizes(), (std::vector<int64_t>{48, 16}));
}

TEST(HfGpt2, ExportRefusesOtherFamiliesLoraAndNonEmptyOutput) {
  TempDir tmp("hf_export_errors");
  MlpConfig mc;
  MlpImpl mlp(mc);
  std::string err = user_error_of([&] { export_model(mlp, nullptr, "hf", tmp.path + "/mlp"); });
  EXPECT_TRUE(contains(err, "'mlp' model")) << err;

  auto m = small_gpt();
  m->transformer->h[0]->as<GptBlock>()->attn->c_attn->add_lora(2, 4, 0.0);
  err = user_error_of([&] { export_model(*m, nullptr, "hf", tmp.path + "/lora"); });
  EXPECT_TRUE(contains(err, "merge the adapters first: ptft export --merge-lora")) << err;
  EXPECT_FALSE(sfs::exists(tmp.path + "/lora"));

  const std::string full = tmp.path + "/full";
  sfs::create_directories(full);
  write_text(full + "/keep.txt", "mine");
  err = user_error_of([&] { export_model(*small_gpt(), nullptr, "hf", full); });
  EXPECT_TRUE(contains(err, full)) << err;
  EXPECT_EQ(read_text(full + "/keep.txt"), "mine");
}

// ------------------------------------------------------------------------------------------------
// Tokenizer files of the export.

// GPT-2's byte -> printable-character map (bytes_to_unicode), as UTF-8 strings.
std::vector<std::string> gpt2_byte_tokens() {
  std::vector<std::string> out(256);
  auto utf8 = [](uint32_t cp) {
    std::string s;
    if (cp < 0x80) s += static_cast<char>(cp);
    else {
      s += static_cast<char>(0xC0 | (cp >> 6));
      s += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return s;
  };
  uint32_t next = 256;
  for (uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
    out[b] = utf8(printable ? b : next++);
  }
  return out;
}

// A tiny GPT-2 BPE vocabulary: the 256 byte tokens, two merges, <|endoftext|> and <|im_end|>.
TokenizerPtr tiny_gpt2_tokenizer(const std::string& dir) {
  sfs::create_directories(dir);
  nlohmann::json vocab = nlohmann::json::object();
  const auto bytes = gpt2_byte_tokens();
  for (int i = 0; i < 256; ++i) vocab[bytes[i]] = i;
  vocab["\xC4\xA0t"] = 256;  // "Ġt"
  vocab["he"] = 257;
  vocab["<|endoftext|>"] = 258;
  write_text(dir + "/vocab.json", vocab.dump());
  write_text(dir + "/merges.txt", "#version: 0.2\n\xC4\xA0 t\nh e\n");
  write_json(dir + "/added_tokens.json", {{"<|im_end|>", 259}});
  return load_tokenizer(dir);
}

TEST(HfGpt2Tokenizer, Gpt2BpeIsWrittenInHfLayoutAndReadsBack) {
  TempDir tmp("hf_tok");
  TokenizerPtr tok = tiny_gpt2_tokenizer(tmp.path + "/tok");
  ASSERT_EQ(tok->vocab_size(), 260);
  const std::string out = tmp.path + "/out";
  export_model(*small_gpt(300), tok.get(), "hf", out);

  const auto tc = read_json(out + "/tokenizer_config.json");
  EXPECT_EQ(tc["tokenizer_class"], "GPT2Tokenizer");
  EXPECT_EQ(tc["model_max_length"], 16);
  EXPECT_EQ(tc["eos_token"], "<|endoftext|>");
  EXPECT_EQ(tc["additional_special_tokens"], nlohmann::json::array({"<|im_end|>"}));
  EXPECT_FALSE(tc.contains("type")) << "a ptft \"type\" would hide HF's config";
  EXPECT_EQ(read_json(out + "/added_tokens.json")["<|im_end|>"], 259);
  const auto cfg = read_json(out + "/config.json");
  EXPECT_EQ(cfg["eos_token_id"], 258);
  EXPECT_EQ(cfg["bos_token_id"], 258);
  EXPECT_EQ(read_json(out + "/generation_config.json")["eos_token_id"], 258);

  TokenizerPtr back = load_tokenizer(out);
  EXPECT_EQ(back->kind(), "gpt2-bpe");
  EXPECT_EQ(back->content_hash(), tok->content_hash());
  EXPECT_EQ(back->encode("the<|im_end|>"), tok->encode("the<|im_end|>"));
  EXPECT_EQ(back->encode("the<|im_end|>").back(), 259);

  // A tokenizer larger than the model's vocabulary cannot belong to it.
  const std::string err = user_error_of([&] { export_model(*small_gpt(200), tok.get(), "hf", tmp.path + "/small"); });
  EXPECT_TRUE(contains(err, "260 tokens but the model's vocab_size is 200")) << err;
}

// A SentencePiece tokenizer is not GPT2Tokenizer's: kept in ptft's form (ptft_tokenizer/), and a
// BPE one also written as the tokenizer.json it equals (PreTrainedTokenizerFast); unigram has none.
TEST(HfGpt2Tokenizer, SentencePieceGoesToPtftTokenizerAndTokenizerJson) {
  TempDir tmp("hf_tok_spm");
  for (const std::string type : {"bpe", "unigram"}) {
    SCOPED_TRACE(type);
    SpmTrainOptions o;
    o.inputs = {"/usr/share/common-licenses/GPL-3"};
    o.out_dir = tmp.path + "/spm-" + type;
    o.vocab_size = 400;
    o.model_type = type;
    o.num_threads = 1;
    train_sentencepiece(o);
    TokenizerPtr tok = load_tokenizer(o.out_dir);
    const std::string out = tmp.path + "/out-" + type;
    testing::internal::CaptureStderr();
    export_model(*small_gpt(400), tok.get(), "hf", out);
    const std::string note = testing::internal::GetCapturedStderr();
    EXPECT_TRUE(contains(note, "ptft_tokenizer")) << note;
    EXPECT_FALSE(sfs::exists(out + "/vocab.json"));
    TokenizerPtr back = load_tokenizer(out + "/ptft_tokenizer");
    EXPECT_EQ(back->content_hash(), tok->content_hash());
    EXPECT_EQ(read_json(out + "/config.json")["eos_token_id"], tok->eot_id());
    if (type == "unigram") {
      EXPECT_FALSE(sfs::exists(out + "/tokenizer.json"));
      continue;
    }
    ASSERT_TRUE(sfs::exists(out + "/tokenizer.json"));
    EXPECT_EQ(read_json(out + "/tokenizer_config.json")["tokenizer_class"], "PreTrainedTokenizerFast");
    const std::string text = "This program is free software; you can redistribute it\n  and/or modify it.";
    EXPECT_EQ(HfTokenizer::from_dir(out)->encode(text), tok->encode(text));
    EXPECT_EQ(load_tokenizer(out)->content_hash(), tok->content_hash());  // ptft reads its own form first
  }
}

}  // namespace
}  // namespace ptft
