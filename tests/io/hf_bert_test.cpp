// Tests for the bert family's Hugging Face format (src/models/bert_hf.cpp): BERT directories in and out.
//
// Golden check against an independent numpy BERT (tests/io/hf_bert_reference.py): it writes a
// small HF-layout model by hand (separate query/key/value, the position_ids buffer, the decoder
// tied to the word embeddings) in the forms HF files come in (BertForMaskedLM,
// BertForSequenceClassification, BertModel names, TF gamma/beta, no pooler, no head). ptft reads
// each through read_checkpoint and must give the reference's last hidden states, pooled output and
// logits (max abs diff <= 1e-4, ptft in float32, the reference in float64) for a two-segment
// input with padding; the export must name and shape every tensor as HF does, give the same
// outputs when the reference reads it back, and read back into ptft bit for bit. Without python3
// + numpy those tests skip (scripts/setup.sh installs python3-numpy). Errors and the tokenizer
// files are tested on directories made here, without Python.
#include "ptft/io/hf_files.h"
#include "ptft/models/model_files.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "../common/files.h"
#include "../common/golden.h"
#include "../common/python.h"
#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/io/hf_files.h"
#include "ptft/io/safetensors.h"
#include "ptft/models/bert.h"
#include "ptft/models/gpt.h"
#include "ptft/tokenizer/wordpiece.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;
using test::contains;
using test::max_abs_diff;
using test::read_json;
using test::read_text;
using test::TempDir;
using test::user_error_of;
using test::write_json;

const std::string kReference = PTFT_SOURCE_DIR "/tests/io/hf_bert_reference.py";

// One sequence; empty types / mask: not given (all type 0, no padding).
struct Input {
  std::vector<int64_t> ids, types, mask;
};
// [CLS] the cat sat on the mat [SEP] he run ##s [SEP] [PAD] [PAD] in the reference's vocab.txt:
// both token types, two padded positions.
const Input kInput = {{2, 5, 7, 9, 10, 5, 11, 3, 39, 12, 13, 3, 0, 0},
                      {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0},
                      {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0}};
constexpr int64_t kReal = 12;  // unpadded positions of kInput: only these are compared
// [CLS] the dog [MASK] a big house [SEP], without token types or mask.
const Input kPlain = {{2, 5, 8, 4, 6, 28, 32, 3}, {}, {}};
// The largest difference from the float64 reference that float32 may make. Measured over all the
// golden cases: hidden states 1.4e-6, pooled 1.1e-6, MLM logits 4.8e-6 (of logits up to 9.5),
// classifier logits 1.8e-6; tanh instead of erf GELU gives 6e-4, no padding mask 0.97.
constexpr double kTolerance = 1e-4;

#define REQUIRE_NUMPY_REFERENCE() PTFT_REQUIRE_NUMPY("the reference BERT")

void reference_make(const std::string& dir, const std::string& options = "") {
  test::run_reference(kReference, "make " + dir + " " + options);
}

// A sequence's outputs: hidden (T,C); pooled (C), undefined without a pooler; logits (T,V) of the
// MLM head or (K) of the classifier, undefined without a head.
struct Outputs {
  torch::Tensor hidden, pooled, logits;
};

Outputs reference_outputs(const std::string& dir, const Input& in) {
  std::string args = "hidden " + dir;
  for (const auto& [flag, values] : {std::pair{" --ids", &in.ids}, {" --types", &in.types}, {" --mask", &in.mask}}) {
    if (values->empty()) continue;
    args += flag;
    for (int64_t v : *values) args += " " + std::to_string(v);
  }
  const std::string out = test::run_reference(kReference, args);
  if (out.empty()) return {};
  const auto j = nlohmann::json::parse(out);
  auto tensor = [&](const char* key) { return j[key].is_null() ? torch::Tensor() : test::json_tensor(j[key]); };
  return {tensor("hidden"), tensor("pooled"), tensor("logits")};
}

// The BERT of a checkpoint or HF directory, as `ptft finetune --from` / `eval --model` build it.
std::shared_ptr<BertImpl> load_bert(const std::string& dir) {
  auto m = std::dynamic_pointer_cast<BertImpl>(model_from_checkpoint(read_checkpoint(dir, /*with_training_state=*/false)));
  EXPECT_NE(m, nullptr) << dir << " is not read as a BERT";
  if (m) m->eval();
  return m;
}

Outputs ptft_outputs(BertImpl& m, const Input& in) {
  torch::NoGradGuard ng;
  auto row = [](const std::vector<int64_t>& v) {
    return v.empty() ? torch::Tensor() : torch::tensor(v, torch::kLong).unsqueeze(0);  // (1,T)
  };
  TensorMap batch = {{"input_ids", row(in.ids)}};
  if (!in.types.empty()) batch["token_type_ids"] = row(in.types);
  if (!in.mask.empty()) batch["attention_mask"] = row(in.mask);
  const torch::Tensor h = m.encode(row(in.ids), row(in.types), row(in.mask));  // (1,T,C)
  return {h[0], m.bert->pooler->forward(h)[0], m.forward(batch).at("logits")[0]};  // (T,C), (C), (T,V) | (K)
}

// ptft's outputs equal the reference's (hidden states and MLM logits at the first `n` positions);
// `head` false: the reference has no head (a BertModel file) and ptft's is fresh, not compared.
void expect_matches(const Outputs& ours, const Outputs& ref, int64_t n, bool head = true) {
  ASSERT_TRUE(ref.hidden.defined());
  ASSERT_EQ(ours.hidden.sizes(), ref.hidden.sizes());
  EXPECT_LE(max_abs_diff(ours.hidden.slice(0, 0, n), ref.hidden.slice(0, 0, n)), kTolerance);
  if (ref.pooled.defined()) {
    EXPECT_LE(max_abs_diff(ours.pooled, ref.pooled), kTolerance);
  }
  if (!head) return;
  ASSERT_TRUE(ref.logits.defined());
  ASSERT_EQ(ours.logits.sizes(), ref.logits.sizes());
  const bool mlm = ref.logits.dim() == 2;  // (T,V); a classifier's are (K)
  EXPECT_LE(max_abs_diff(mlm ? ours.logits.slice(0, 0, n) : ours.logits, mlm ? ref.logits.slice(0, 0, n) : ref.logits),
            kTolerance);
  EXPECT_GT(ref.logits.abs().max().item<double>(), 1.0) << "logits too small to test anything";
}

void expect_bit_identical(ModelImpl& a, ModelImpl& b) {
  const TensorMap sa = state_dict(a), sb = state_dict(b);
  ASSERT_EQ(sa.size(), sb.size());
  for (const auto& [name, t] : sa) {
    ASSERT_EQ(sb.count(name), 1u) << name;
    EXPECT_TRUE(torch::equal(t, sb.at(name))) << name;
  }
}

// A small random BERT (HF layout), for tests that need no reference.
std::shared_ptr<BertImpl> small_bert(int64_t num_classes = 0) {
  BertConfig c;
  c.vocab_size = 40;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 16;
  c.num_classes = num_classes;
  torch::manual_seed(7);
  auto m = std::make_shared<BertImpl>(c);
  torch::NoGradGuard ng;
  for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.1);  // non-trivial biases/LayerNorms
  m->eval();
  return m;
}

// The tensors of `dir`/model.safetensors, owned (not views of the file), for editing.
TensorMap owned_tensors(const std::string& dir) {
  TensorMap owned;
  for (auto& [k, v] : load_tensors(dir + "/model.safetensors")) owned[k] = v.clone();
  return owned;
}

void save_weights(const std::string& dir, const TensorMap& t) { save_tensors(dir + "/model.safetensors", t, {{"format", "pt"}}); }

// ------------------------------------------------------------------------------------------------
// Golden: HF directories written by the independent reference.

TEST(HfBertGolden, ReadsReferenceMlmWithSameHiddenStatesPooledOutputAndLogits) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_bert_golden");
  const std::string hf = tmp.path + "/hf";
  reference_make(hf);
  ASSERT_TRUE(is_hf_model_dir(hf));

  Checkpoint c = read_checkpoint(hf);
  EXPECT_EQ(c.config["ptft"]["family"], "bert");
  EXPECT_EQ(c.config["ptft"]["task"], "masked_lm");
  EXPECT_EQ(c.config["ptft"]["source"], "huggingface:" + hf);
  EXPECT_TRUE(c.optimizer.empty());
  // The names are HF's: every tensor as the file has it.
  const TensorMap raw = load_tensors(hf + "/model.safetensors");
  for (const char* name : {"bert.encoder.layer.1.attention.self.key.weight", "bert.encoder.layer.1.attention.self.value.bias",
                           "bert.encoder.layer.0.intermediate.dense.weight", "cls.predictions.transform.dense.weight",
                           "cls.predictions.bias"})
    EXPECT_TRUE(torch::equal(c.model.at(name), raw.at(name))) << name;
  EXPECT_EQ(c.model.count("cls.predictions.decoder.weight"), 0u);
  EXPECT_EQ(c.model.count("bert.embeddings.position_ids"), 0u);

  auto m = load_bert(hf);
  ASSERT_NE(m, nullptr);
  expect_matches(ptft_outputs(*m, kInput), reference_outputs(hf, kInput), kReal);
  expect_matches(ptft_outputs(*m, kPlain), reference_outputs(hf, kPlain), static_cast<int64_t>(kPlain.ids.size()));
}

TEST(HfBertGolden, ReadsReferenceClassifierWithLogitsAndLabels) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_bert_golden_cls");
  const std::string hf = tmp.path + "/hf";
  reference_make(hf, "--classifier 3 --seed 11");
  Checkpoint c = read_checkpoint(hf);
  EXPECT_EQ(c.config["ptft"]["task"], "classification");
  EXPECT_EQ(c.model.count("cls.predictions.bias"), 0u);

  auto m = load_bert(hf);
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->class_names(), (std::vector<std::string>{"label_a", "label_b", "label_c"}));
  const Outputs ref = reference_outputs(hf, kInput);
  ASSERT_TRUE(ref.logits.defined());
  EXPECT_EQ(ref.logits.sizes(), (std::vector<int64_t>{3}));
  expect_matches(ptft_outputs(*m, kInput), ref, kReal);
}

TEST(HfBertGolden, ReadsBertModelNamesAndTfGammaBeta) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_bert_golden_names");
  int n = 0;
  for (const std::string options : {"--plain-names --seed 5", "--tf-names --seed 6 --layer-norm-eps 0.05", "--plain-names --tf-names --classifier 2"}) {
    SCOPED_TRACE(options);
    const std::string hf = tmp.path + "/hf" + std::to_string(n++);
    reference_make(hf, options);
    auto f = safetensors::File::open(hf + "/model.safetensors");
    const std::string word = contains(options, "--plain-names") ? "embeddings.word_embeddings.weight"
                                                                : "bert.embeddings.word_embeddings.weight";
    ASSERT_NE(f->find(word), nullptr);
    const std::string ln = std::string(contains(options, "--plain-names") ? "" : "bert.") +
                           "encoder.layer.0.output.LayerNorm." + (contains(options, "--tf-names") ? "gamma" : "weight");
    ASSERT_NE(f->find(ln), nullptr);
    auto m = load_bert(hf);
    ASSERT_NE(m, nullptr);
    expect_matches(ptft_outputs(*m, kInput), reference_outputs(hf, kInput), kReal);
  }
}

TEST(HfBertGolden, FileWithoutPoolerGetsAFreshOneWithANote) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_bert_golden_nopool");
  const std::string hf = tmp.path + "/hf";
  reference_make(hf, "--no-pooler --seed 3");  // BertForMaskedLM's own file
  testing::internal::CaptureStderr();
  auto m = load_bert(hf);
  const std::string note = testing::internal::GetCapturedStderr();
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(contains(note, "has no bert.pooler.dense.bias, bert.pooler.dense.weight (2 tensors)")) << note;
  EXPECT_TRUE(contains(note, "freshly initialised")) << note;
  // HF's init: N(0, initializer_range) weight, zero bias.
  EXPECT_LT(m->bert->pooler->dense->weight.std().item<double>(), 0.03);
  EXPECT_EQ(m->bert->pooler->dense->bias.abs().max().item<double>(), 0.0);
  const Outputs ref = reference_outputs(hf, kInput);
  EXPECT_FALSE(ref.pooled.defined());
  expect_matches(ptft_outputs(*m, kInput), ref, kReal);  // hidden states and MLM logits
}

TEST(HfBertGolden, BertModelDirectoryGetsAFreshMlmHeadWithANote) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_bert_golden_base");
  const std::string hf = tmp.path + "/hf";
  reference_make(hf, "--plain-names --no-head --seed 4");  // what BertModel.save_pretrained writes
  testing::internal::CaptureStderr();
  auto m = load_bert(hf);
  const std::string note = testing::internal::GetCapturedStderr();
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->is_classifier());
  EXPECT_TRUE(contains(note, "cls.predictions.transform.dense.weight")) << note;
  EXPECT_FALSE(contains(note, "pooler")) << note;
  expect_matches(ptft_outputs(*m, kInput), reference_outputs(hf, kInput), kReal, /*head=*/false);
}

TEST(HfBertGolden, ExportReadsBackInTheReferenceWithHfNamesShapesAndConfig) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("hf_bert_golden_export");
  for (const std::string options : {"", "--classifier 3"}) {
    SCOPED_TRACE(options);
    const std::string stem = options.empty() ? "mlm" : "classifier";
    const std::string hf = tmp.path + "/hf_" + stem, out = tmp.path + "/export_" + stem;
    reference_make(hf, options);
    auto m = load_bert(hf);
    ASSERT_NE(m, nullptr);
    export_model(*m, nullptr, "hf", out);

    // The reference BERT computes the same outputs from the exported files: the values are the
    // reference's own, so exactly; ptft's within the tolerance.
    const Outputs again = reference_outputs(out, kInput), before = reference_outputs(hf, kInput);
    expect_matches(ptft_outputs(*m, kInput), again, kReal);
    EXPECT_EQ(max_abs_diff(again.hidden, before.hidden), 0.0) << "export changed the weights";
    EXPECT_EQ(max_abs_diff(again.logits, before.logits), 0.0) << "export changed the weights";

    // Every tensor of HF's file but the position_ids buffer and the tied decoder (HF omits them
    // when tied), under the same name and shape, and nothing else.
    test::expect_same_tensors(hf + "/model.safetensors", out + "/model.safetensors", [](const std::string& name) {
      return name == "bert.embeddings.position_ids" || name.rfind("cls.predictions.decoder.", 0) == 0;
    });

    // config.json: HF's keys with the reference's values.
    const auto ref_cfg = read_json(hf + "/config.json"), cfg = read_json(out + "/config.json");
    for (const char* key : {"model_type", "architectures", "vocab_size", "hidden_size", "num_hidden_layers",
                            "num_attention_heads", "intermediate_size", "hidden_act", "hidden_dropout_prob",
                            "attention_probs_dropout_prob", "max_position_embeddings", "type_vocab_size",
                            "initializer_range", "layer_norm_eps", "pad_token_id", "position_embedding_type",
                            "classifier_dropout", "use_cache"})
      EXPECT_EQ(cfg.at(key), ref_cfg.at(key)) << key;
    if (!options.empty()) {
      EXPECT_EQ(cfg.at("id2label"), ref_cfg.at("id2label"));
      EXPECT_EQ(cfg.at("label2id"), ref_cfg.at("label2id"));
    }
    EXPECT_EQ(cfg["torch_dtype"], "float32");
    EXPECT_EQ(cfg["tie_word_embeddings"], true);
    EXPECT_FALSE(cfg.contains("ptft"));
    EXPECT_TRUE(cfg["transformers_version"].is_string());

    // ptft reads its own export back bit for bit.
    auto back = load_bert(out);
    ASSERT_NE(back, nullptr);
    expect_bit_identical(*m, *back);
    EXPECT_EQ(back->class_names(), m->class_names());
  }
}

// ------------------------------------------------------------------------------------------------
// Round trip and errors on directories made here.

TEST(HfBert, ExportThenReadGivesTheSameModel) {
  TempDir tmp("hf_bert_roundtrip");
  for (int64_t k : {0, 2}) {
    auto m = small_bert(k);
    if (k) m->set_classes({"neg", "pos"}, /*new_head=*/false);
    const std::string out = tmp.path + "/out" + std::to_string(k);
    sfs::create_directories(out);  // an existing empty directory is fine
    export_model(*m, nullptr, "hf", out);
    auto back = load_bert(out);
    ASSERT_NE(back, nullptr);
    expect_bit_identical(*m, *back);
    EXPECT_EQ(back->class_names(), m->class_names());
    const Outputs a = ptft_outputs(*m, kPlain), b = ptft_outputs(*back, kPlain);
    EXPECT_TRUE(torch::equal(a.logits, b.logits));
  }
}

// A directory of small_bert's export, for editing.
std::string exported_small_bert(const TempDir& tmp) {
  const std::string dir = tmp.path + "/hf";
  export_model(*small_bert(), nullptr, "hf", dir);
  return dir;
}

TEST(HfBert, MissingEncoderTensorIsNamed) {
  TempDir tmp("hf_bert_missing");
  const std::string dir = exported_small_bert(tmp);
  TensorMap t = owned_tensors(dir);
  const TensorMap all = t;
  t.erase("bert.encoder.layer.1.attention.self.key.weight");
  save_weights(dir, t);
  std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "lacks tensor(s) bert.encoder.layer.1.attention.self.key.weight")) << err;
  EXPECT_TRUE(contains(err, "incomplete")) << err;

  save_weights(dir, all);
  auto cfg = read_json(dir + "/config.json");
  cfg["num_hidden_layers"] = 3;  // the file has two blocks
  write_json(dir + "/config.json", cfg);
  err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "lacks tensor(s) bert.encoder.layer.2.")) << err;
  EXPECT_TRUE(contains(err, "bert.encoder.layer.2.attention.self.query.weight")) << err;
}

TEST(HfBert, ShapeMismatchNamesTheTensorAndBothShapes) {
  TempDir tmp("hf_bert_shape");
  const std::string dir = exported_small_bert(tmp);
  const auto good = read_json(dir + "/config.json");
  auto cfg = good;
  cfg["intermediate_size"] = 24;  // the file's MLP is 32 wide
  write_json(dir + "/config.json", cfg);
  std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "'bert.encoder.layer.0.intermediate.dense.weight' is [32, 16], config.json says [24, 16]")) << err;
  EXPECT_TRUE(contains(err, "another architecture")) << err;

  // One of the fused parts alone: named with its own shape.
  write_json(dir + "/config.json", good);
  TensorMap t = owned_tensors(dir);
  t["bert.encoder.layer.1.attention.self.value.weight"] = torch::zeros({16, 15});
  save_weights(dir, t);
  err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "'bert.encoder.layer.1.attention.self.value.weight' is [16, 15], config.json says [16, 16]")) << err;
}

TEST(HfBert, DecoderMustBeTiedToTheWordEmbeddings) {
  TempDir tmp("hf_bert_untied");
  const std::string dir = exported_small_bert(tmp);
  TensorMap t = owned_tensors(dir);
  t["cls.predictions.decoder.weight"] = t.at("bert.embeddings.word_embeddings.weight").clone();
  t["cls.predictions.decoder.bias"] = t.at("cls.predictions.bias").clone();
  save_weights(dir, t);
  EXPECT_NO_THROW(read_checkpoint(dir)) << "a decoder equal to the word embeddings is the tied one";

  t["cls.predictions.decoder.weight"][3][1] += 1.0f;
  save_weights(dir, t);
  std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "cls.predictions.decoder.weight differs from bert.embeddings.word_embeddings.weight")) << err;
  EXPECT_TRUE(contains(err, "ties the MLM decoder")) << err;

  t["cls.predictions.decoder.weight"] = t.at("bert.embeddings.word_embeddings.weight").clone();
  t["cls.predictions.decoder.bias"][0] += 1.0f;
  save_weights(dir, t);
  err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "cls.predictions.decoder.bias differs from cls.predictions.bias")) << err;
}

TEST(HfBert, DecoderBiasAloneIsTheMlmBias) {
  // Some files keep only cls.predictions.decoder.bias of the two tied biases.
  TempDir tmp("hf_bert_decoder_bias");
  const std::string dir = exported_small_bert(tmp);
  TensorMap t = owned_tensors(dir);
  const torch::Tensor bias = t.at("cls.predictions.bias");
  t.erase("cls.predictions.bias");
  t["cls.predictions.decoder.bias"] = bias;
  save_weights(dir, t);
  testing::internal::CaptureStderr();
  const Checkpoint c = read_checkpoint(dir);
  const std::string note = testing::internal::GetCapturedStderr();
  EXPECT_TRUE(torch::equal(c.model.at("cls.predictions.bias"), bias));
  EXPECT_FALSE(contains(note, "freshly initialised")) << note;
}

TEST(HfBert, UnsupportedConfigOptionsAreUserErrors) {
  TempDir tmp("hf_bert_options");
  const std::string dir = exported_small_bert(tmp);
  const auto good = read_json(dir + "/config.json");
  for (auto [key, value, says] : std::vector<std::tuple<std::string, nlohmann::json, std::string>>{
           {"hidden_act", "relu", "hidden_act \"relu\" is not supported"},
           {"position_embedding_type", "relative_key", "position_embedding_type \"relative_key\" is not supported"},
           {"is_decoder", true, "is_decoder"},
           {"is_decoder", "yes", "is not a valid config of a Hugging Face BERT directory"},  // wrong JSON type: no exit 2
           {"model_type", "roberta", "model_type"}}) {
    auto cfg = good;
    cfg[key] = value;
    write_json(dir + "/config.json", cfg);
    const std::string err = user_error_of([&] { read_checkpoint(dir); });
    EXPECT_TRUE(contains(err, says)) << err;
    EXPECT_TRUE(contains(err, dir + "/config.json") || key == "model_type") << err;
  }
}

TEST(HfBert, UnknownTensorIsNamed) {
  TempDir tmp("hf_bert_unknown");
  const std::string dir = exported_small_bert(tmp);
  TensorMap t = owned_tensors(dir);
  t["bert.encoder.layer.2.output.dense.weight"] = torch::zeros({16, 32});
  save_weights(dir, t);
  const std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "tensor(s) that BERT does not have: bert.encoder.layer.2.output.dense.weight")) << err;
  EXPECT_TRUE(contains(err, "num_hidden_layers is 2")) << err;
}

TEST(HfBert, PickleOnlyDirectoryIsRefused) {
  TempDir tmp("hf_bert_pickle");
  const std::string dir = exported_small_bert(tmp);
  sfs::remove(dir + "/model.safetensors");
  test::write_text(dir + "/pytorch_model.bin", "PK\x03\x04 not really a pickle");
  const std::string err = user_error_of([&] { read_checkpoint(dir); });
  EXPECT_TRUE(contains(err, "pytorch_model.bin but no model.safetensors")) << err;
  EXPECT_TRUE(contains(err, "AutoModelForMaskedLM")) << err;
}

TEST(HfBert, ExportRefusesOtherFamiliesAndLora) {
  TempDir tmp("hf_bert_export_errors");
  std::string err = user_error_of([&] { export_model(*small_bert(), nullptr, "torchvision", tmp.path + "/tv"); });
  EXPECT_TRUE(contains(err, "a 'bert' model cannot be exported as 'torchvision'")) << err;
  EXPECT_TRUE(contains(err, "exports as: hf (a Hugging Face BERT directory), ptft")) << err;

  auto m = small_bert();
  m->bert->encoder->layer[0]->as<BertLayer>()->attention->q_proj->add_lora(2, 4, 0.0);
  err = user_error_of([&] { export_model(*m, nullptr, "hf", tmp.path + "/lora"); });
  EXPECT_TRUE(contains(err, "merge the adapters first")) << err;
  EXPECT_FALSE(sfs::exists(tmp.path + "/lora"));
}

// ------------------------------------------------------------------------------------------------
// Tokenizer files of the export.

TEST(HfBertTokenizer, WordPieceIsWrittenInHfLayoutAndReadsBack) {
  TempDir tmp("hf_bert_tok");
  const std::vector<std::string> vocab = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "sat",
                                          "un", "##aff", "##able", ",", "!", "on", "mat"};
  for (bool lower : {true, false}) {
    SCOPED_TRACE(lower ? "uncased" : "cased");
    WordPieceOptions o;
    o.do_lower_case = lower;
    WordPiece tok(vocab, o);
    const std::string out = tmp.path + (lower ? "/uncased" : "/cased");
    export_model(*small_bert(), &tok, "hf", out);

    std::string lines;
    for (const auto& v : vocab) lines += v + "\n";
    EXPECT_EQ(read_text(out + "/vocab.txt"), lines);
    const auto tc = read_json(out + "/tokenizer_config.json");
    EXPECT_EQ(tc["tokenizer_class"], "BertTokenizer");
    EXPECT_EQ(tc["do_lower_case"], lower);
    EXPECT_EQ(tc["model_max_length"], 16);
    EXPECT_FALSE(tc.contains("type")) << "a ptft \"type\" would hide HF's config";
    const auto sm = read_json(out + "/special_tokens_map.json");
    for (const auto& [key, token] : std::vector<std::pair<std::string, std::string>>{
             {"unk_token", "[UNK]"}, {"sep_token", "[SEP]"}, {"pad_token", "[PAD]"}, {"cls_token", "[CLS]"},
             {"mask_token", "[MASK]"}})
      EXPECT_EQ(sm[key], token) << key;

    TokenizerPtr back = load_tokenizer(out);
    ASSERT_EQ(back->kind(), "wordpiece");
    EXPECT_EQ(back->content_hash(), tok.content_hash());
    const std::string text = "The cat sat on the mat, unaffable!";
    EXPECT_EQ(back->encode(text), tok.encode(text));
    if (lower) {
      EXPECT_EQ(back->encode(text), (std::vector<int32_t>{5, 6, 7, 13, 5, 14, 11, 8, 9, 10, 12}));
    }
  }

  // A tokenizer larger than the model's vocabulary cannot belong to it.
  std::vector<std::string> big = vocab;
  for (int i = 0; big.size() <= 40; ++i) big.push_back("w" + std::to_string(i));
  WordPiece tok(big, {});
  const std::string err = user_error_of([&] { export_model(*small_bert(), &tok, "hf", tmp.path + "/big"); });
  EXPECT_TRUE(contains(err, "41 tokens but the model's vocab_size is 40")) << err;
}

}  // namespace
}  // namespace ptft
