// ptft/nn/tied_embedding.h — the options of an input embedding whose weight is also the model's
// output layer (GPT-2, SmolLM2, Qwen2.5 small, BERT's masked-LM decoder).
//
//   wte = register_module("wte", torch::nn::Embedding(nn::embedding_options(V, C, /*tied_head=*/true)));
//
// A tied weight gets two gradients per step: the output layer's, dense (V, C), and the lookup's,
// which touches only the batch's rows. Asked for dense, the lookup's gradient is a zero-filled
// (V, C) tensor with those rows added, and autograd then sums the two out of place: two passes over
// V x C floats and a third buffer (GPT-2, B4 x T256, 2 cores: 154 MB each; the backward 685, 643,
// 655 -> 651, 609, 642 ms in alternating runs, peak RSS -130 to -210 MB).
// Sparse, autograd adds the rows in place into the dense gradient (libtorch's InputBuffer: dense +
// sparse), and the parameter's gradient is dense as before. Only for a tied weight: an embedding
// whose only gradient is the lookup's would end with a sparse .grad, which AdamW refuses
// (InternalError).
#pragma once

#include <torch/torch.h>

namespace ptft::nn {

inline torch::nn::EmbeddingOptions embedding_options(int64_t vocab_size, int64_t dim, bool tied_head) {
  return torch::nn::EmbeddingOptions(vocab_size, dim).sparse(tied_head);
}

}  // namespace ptft::nn
