// ptft BERT checkpoints written before BERT took Hugging Face's parameter names (GPT-style block
// names, q|k|v fused in attn.c_attn) are read with today's names (ModelFamily::legacy).
#include <gtest/gtest.h>

#include "../common/temp_dir.h"
#include "../common/user_error.h"
#include "ptft/models/bert.h"
#include "ptft/models/model_files.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace {

BertConfig small() {
  BertConfig c;
  c.vocab_size = 40;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 16;
  return c;
}

// The state dict as ptft wrote it before: written here by hand, independently of the name map.
TensorMap old_names(const TensorMap& now, int64_t layers) {
  TensorMap old = now;
  const std::pair<const char*, const char*> renamed[] = {{"attention.output.dense", "attn.c_proj"},
                                                         {"attention.output.LayerNorm", "ln_1"},
                                                         {"intermediate.dense", "mlp.c_fc"},
                                                         {"output.dense", "mlp.c_proj"},
                                                         {"output.LayerNorm", "ln_2"}};
  for (int64_t i = 0; i < layers; ++i) {
    const std::string p = "bert.encoder.layer." + std::to_string(i) + ".";
    for (const char* s : {"weight", "bias"}) {
      std::vector<torch::Tensor> qkv;
      for (const char* part : {"query", "key", "value"}) {
        const std::string name = p + "attention.self." + part + "." + s;
        qkv.push_back(now.at(name));
        old.erase(name);
      }
      old[p + "attn.c_attn." + s] = torch::cat(qkv, 0);
      for (const auto& [to, from] : renamed) {
        old.erase(p + to + "." + s);
        old[p + from + "." + s] = now.at(p + to + "." + s);
      }
    }
  }
  for (const char* part : {"dense.weight", "dense.bias", "LayerNorm.weight", "LayerNorm.bias"}) {
    old.erase(std::string("cls.predictions.transform.") + part);
    old[std::string("cls.") + part] = now.at(std::string("cls.predictions.transform.") + part);
  }
  old.erase("cls.predictions.bias");
  old["cls.bias"] = now.at("cls.predictions.bias");
  return old;
}

TEST(BertLegacy, CheckpointsWithGptStyleNamesReadAsToday) {
  test::TempDir tmp("bert_legacy");
  torch::manual_seed(3);
  BertImpl m(small());
  const TensorMap now = state_dict(m);
  Checkpoint c;
  c.config = m.config_json();
  c.model = old_names(now, 2);
  ASSERT_TRUE(c.model.count("bert.encoder.layer.1.attn.c_attn.weight"));
  write_checkpoint(tmp.path + "/old", c);

  Checkpoint back = read_checkpoint(tmp.path + "/old", false);
  ASSERT_EQ(back.model.size(), now.size());
  for (const auto& [name, t] : now) EXPECT_TRUE(torch::equal(back.model.at(name), t)) << name;
  EXPECT_NO_THROW(model_from_checkpoint(back));
}

TEST(BertLegacy, AnOldCheckpointWithForeignTensorsSaysWhatToDo) {
  test::TempDir tmp("bert_legacy_lora");
  BertImpl m(small());
  Checkpoint c;
  c.config = m.config_json();
  c.model = old_names(state_dict(m), 2);
  c.model["bert.encoder.layer.0.attn.c_attn.lora_A.weight"] = torch::zeros({4, 16});
  write_checkpoint(tmp.path + "/old", c);
  const std::string err = test::user_error_of([&] { read_checkpoint(tmp.path + "/old", false); });
  EXPECT_TRUE(test::contains(err, "bert.encoder.layer.0.attn.c_attn.lora_A.weight")) << err;
  EXPECT_TRUE(test::contains(err, "merge")) << err;
}

}  // namespace
}  // namespace ptft
