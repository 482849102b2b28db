// Tests for the llama family's Hugging Face format (src/models/llama_hf.cpp): Llama / Qwen2 /
// Qwen3 directories in and out.
//
// Golden check against an independent numpy implementation (tests/models/llama_reference.py,
// float64, sharing no code with ptft): it writes random-weight HF-layout directories covering
// MHA, GQA, llama3 and linear rope scaling, head_dim != hidden / heads, tied heads, Qwen2's q/k/v
// biases and Qwen3's q/k norms, stored as f32, f16, bf16 and in shards; ptft reads each through
// read_checkpoint and must give the reference's logits (max abs diff <= 2e-4: ptft computes in
// float32 with float32 rotary tables as HF does, the reference in float64), loss (<= 1e-5
// relative) and greedy continuation (identical ids). The export of each must pass
// tests/models/llama_hf_check.py against the reference directory (config keys, names, shapes,
// bit-identical values). Without python3 + numpy these tests skip.
#include <gtest/gtest.h>

#include <filesystem>

#include "../common/files.h"
#include "../common/golden.h"
#include "../common/python.h"
#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/io/safetensors.h"
#include "ptft/models/llama.h"
#include "ptft/models/model_files.h"
#include "ptft/train/causal_lm_task.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace {

namespace sfs = std::filesystem;
using test::TempDir;

const std::string kReference = PTFT_SOURCE_DIR "/tests/models/llama_reference.py";
const std::string kCheck = PTFT_SOURCE_DIR "/tests/models/llama_hf_check.py";
const std::vector<int64_t> kIds = {1, 17, 250, 3, 3, 99, 42, 7, 300, 11, 64, 128, 5, 200, 31, 2, 90, 60};

ModelPtr load_model(const std::string& dir) {
  Checkpoint c = read_checkpoint(dir, /*with_training_state=*/false);
  ModelPtr m = model_from_config_json(c.config, dir + "/config.json");
  load_into(*m, c.model, dir, /*strict=*/true);
  m->eval();
  return m;
}

torch::Tensor ids_tensor(const std::vector<int64_t>& ids) { return torch::tensor(ids, torch::kLong).unsqueeze(0); }

// Greedy continuation with the KV cache, as generation runs it.
std::vector<int64_t> greedy(ModelImpl& m, const std::vector<int64_t>& ids, int n) {
  torch::NoGradGuard ng;
  auto* lm = dynamic_cast<CausalLm*>(&m);
  std::vector<nn::KvCache> caches;
  auto logits = lm->forward_cached(ids_tensor(ids), &caches);
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    const int64_t next = logits[0][-1].argmax().item<int64_t>();
    out.push_back(next);
    logits = lm->forward_cached(torch::tensor({next}, torch::kLong).unsqueeze(0), &caches);
  }
  return out;
}

double task_loss(ModelImpl& m, const std::vector<int64_t>& ids) {
  torch::NoGradGuard ng;
  const auto t = ids_tensor(ids);
  const int64_t T = t.size(1);
  Batch b;
  b.data = {{"input_ids", t.slice(1, 0, T - 1)}, {"targets", t.slice(1, 1, T)}};
  return CausalLmTask().loss_sum(m, b).item<double>() / static_cast<double>(T - 1);
}

struct Case {
  std::string variant, dtype;
  int shards;
};

std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  std::string s = info.param.variant + "_" + info.param.dtype + (info.param.shards > 1 ? "_sharded" : "");
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
}

class HfLlamaGolden : public ::testing::TestWithParam<Case> {};

TEST_P(HfLlamaGolden, ReadsTheReferenceAndExportsWhatItReads) {
  PTFT_REQUIRE_NUMPY("the reference Llama");
  const Case& c = GetParam();
  TempDir tmp("hf_llama_" + c.variant);
  const std::string ref = tmp.path + "/ref";
  test::run_reference(kReference, "make " + ref + " --variant " + c.variant + " --seed 11 --dtype " + c.dtype +
                                      (c.shards > 1 ? " --shards " + std::to_string(c.shards) : ""));
  ASSERT_TRUE(sfs::exists(ref + "/config.json"));
  EXPECT_EQ(sfs::exists(ref + "/model.safetensors.index.json"), c.shards > 1);

  std::string ids;
  for (int64_t id : kIds) ids += (ids.empty() ? "" : ",") + std::to_string(id);
  const std::string requests = tmp.path + "/requests.json";
  test::write_json(requests, nlohmann::json::array({{{"op", "logits"}, {"ids", kIds}},
                                                    {{"op", "loss"}, {"ids", kIds}},
                                                    {{"op", "greedy"}, {"ids", kIds}, {"new", 10}}}));
  const std::string out = test::run_reference(kReference, "batch " + ref + " " + requests);
  ASSERT_FALSE(out.empty());
  const nlohmann::json answers = nlohmann::json::parse(out);

  ModelPtr m = load_model(ref);
  EXPECT_EQ(m->family(), "llama");
  torch::Tensor ours;
  {
    torch::NoGradGuard ng;
    ours = m->forward({{"input_ids", ids_tensor(kIds)}}).at("logits")[0];  // (T,V)
  }
  const torch::Tensor want = test::json_tensor(answers[0]["logits"]);
  EXPECT_LE(test::max_abs_diff(ours, want), 2e-4) << "logits";
  const double ref_loss = answers[1]["loss"].get<double>();
  EXPECT_NEAR(task_loss(*m, kIds), ref_loss, 1e-5 * ref_loss) << "loss";
  EXPECT_EQ(greedy(*m, kIds, 10), answers[2]["ids"].get<std::vector<int64_t>>());

  // Export (float32): HF's names, shapes and config, the values bit-identical (f16/bf16 widen exactly).
  const std::string exported = tmp.path + "/exported";
  export_model(*m, nullptr, "hf", exported);
  const std::string check = test::run_reference(
      kCheck, exported + " " + ref + " --values --dtype f32" +
                  " --ignore-key torch_dtype --ignore-key bos_token_id --ignore-key eos_token_id");
  EXPECT_NE(check.find("\"ok\": true"), std::string::npos) << check;
}

INSTANTIATE_TEST_SUITE_P(Variants, HfLlamaGolden,
                         ::testing::Values(Case{"llama", "f32", 1}, Case{"llama-gqa", "bf16", 1},
                                           Case{"llama3-scaling", "f32", 1}, Case{"llama-linear", "f16", 1},
                                           Case{"llama-headdim", "f32", 1}, Case{"llama-tied", "f32", 3},
                                           Case{"qwen2", "f32", 1}, Case{"qwen3", "bf16", 2}),
                         case_name);

TEST(HfLlama, Bf16WeightsAreConvertedIntoTheOneModelBuilt) {
  PTFT_REQUIRE_NUMPY("the reference Llama");
  TempDir tmp("hf_llama_once");
  const std::string ref = tmp.path + "/ref";
  test::run_reference(kReference, "make " + ref + " --variant qwen3 --seed 4 --dtype bf16");
  Checkpoint c = read_checkpoint(ref, false);
  ASSERT_NE(c.built, nullptr);
  const torch::nn::Module* built = c.built.get();
  ModelPtr m = model_from_checkpoint(c);
  EXPECT_EQ(m.get(), built);    // taken, not rebuilt
  EXPECT_EQ(c.built, nullptr);  // a second call builds its own
  // The checkpoint's tensors are the model's parameters (float32, converted from bf16 in place).
  const TensorMap params = state_dict(*m);
  for (const auto& [name, t] : c.model) {
    EXPECT_EQ(t.data_ptr(), params.at(name).data_ptr()) << name;
    EXPECT_EQ(t.scalar_type(), torch::kFloat32) << name;
  }
}

TEST(HfLlama, MissingShardAndUnknownRopeAreUserErrors) {
  PTFT_REQUIRE_NUMPY("the reference Llama");
  TempDir tmp("hf_llama_errors");
  const std::string ref = tmp.path + "/ref";
  test::run_reference(kReference, "make " + ref + " --variant llama-gqa --seed 3 --shards 2");
  sfs::remove(ref + "/model-00002-of-00002.safetensors");
  std::string err = test::user_error_of([&] { read_checkpoint(ref, false); });
  EXPECT_NE(err.find("model-00002-of-00002.safetensors"), std::string::npos) << err;

  const std::string yarn = tmp.path + "/yarn";
  test::run_reference(kReference, "make " + yarn + " --variant llama --seed 3");
  nlohmann::json cfg = test::read_json(yarn + "/config.json");
  cfg["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  test::write_json(yarn + "/config.json", cfg);
  err = test::user_error_of([&] { read_checkpoint(yarn, false); });
  EXPECT_NE(err.find("rope_scaling type \"yarn\" is not supported"), std::string::npos) << err;
}

}  // namespace
}  // namespace ptft
