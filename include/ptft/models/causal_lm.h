// ptft/models/causal_lm.h — the capability a model has when it writes text: a causal language
// model that continues token ids with a key/value cache. Generation (infer/generate.h), chat and
// run reports use this interface, never a family's class.
//
//   auto* lm = dynamic_cast<CausalLm*>(model.get());     // null: the model does not write text
//   std::vector<nn::KvCache> caches;                       // one per layer, filled on first use
//   torch::Tensor logits = lm->forward_cached(ids, &caches);   // ids (B,T) -> (B,T,V)
//   logits = lm->forward_cached(next_id, &caches);             // (B,1) -> (B,1,V)
//   logits = lm->next_logits(ids, &caches);                     // (B,T) -> (B,V): the last position's
#pragma once

#include <torch/torch.h>

#include <vector>

#include "ptft/io/tensor_io.h"
#include "ptft/nn/attention.h"
#include "ptft/nn/frozen_cast.h"

namespace ptft {

class ModelImpl;

class CausalLm {
 public:
  virtual ~CausalLm() = default;
  // Logits (B,T,V) for ids (B,T) that continue the cached positions (caches: one per layer,
  // resized on first use; null: no cache). A sequence longer than the context is a UserError.
  torch::Tensor forward_cached(const torch::Tensor& ids, std::vector<nn::KvCache>* caches) {
    return run_cached(ids, caches, /*last_only=*/false);
  }
  // The logits of the last position only (B,V), what generation samples from: the final norm and
  // head skip the other positions of a prompt (T x V x C multiply-adds).
  torch::Tensor next_logits(const torch::Tensor& ids, std::vector<nn::KvCache>* caches) {
    return run_cached(ids, caches, /*last_only=*/true).select(1, 0);
  }
  // The device of the model's weights (where ids must be).
  virtual torch::Device weights_device() const = 0;
  // Generation only, on the CPU: the projections' weights become bfloat16 (their float32 copies are
  // freed; nn::LinearImpl::hold_bf16_copy) and a tied output layer gets a bfloat16 copy; decode
  // steps read them with nn::bf16_gemv (float32 accumulation): half the bytes per token. The model
  // cannot be trained or saved afterwards.
  virtual void hold_decode_weights_bf16() = 0;

 protected:
  // hold_decode_weights_bf16 for a model `self` whose output layer is `tied_head` (the input
  // embedding; undefined when the head is one of its nn::Linear modules).
  void hold_bf16_copies(torch::nn::Module& self, const torch::Tensor& tied_head);
  // The tied output layer: x (B,T,C) -> (B,T,V); a one-row step reads the bf16 copy if held; a
  // frozen embedding (LoRA, freeze) under CPU bf16 autocast is cast once per version, not per forward.
  torch::Tensor tied_head_logits(const torch::Tensor& x, const torch::Tensor& weight) const;
  // forward_cached's logits (B,T,V), or (B,1,V) for the last position with last_only.
  virtual torch::Tensor run_cached(const torch::Tensor& ids, std::vector<nn::KvCache>* caches, bool last_only) = 0;

 private:
  torch::Tensor head_bf16_;  // (V, C) bfloat16 copy of a tied head, after hold_decode_weights_bf16
  mutable nn::FrozenCast head_cast_;
};

// `examples` random token windows of up to 16 tokens (input_ids) and their next tokens (targets),
// fixed by `seed`: ModelFamily::example_batch of the causal LM families.
TensorMap causal_lm_example_batch(const ModelImpl& model, int64_t examples, uint64_t seed);

}  // namespace ptft
