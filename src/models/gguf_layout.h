// gguf_layout.h (private to src/models) — a tensor's Hugging Face layout <-> its GGUF layout.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "gguf_arch.h"

namespace ptft::gguf_arch {

// HF -> GGUF. kRopeQ/kRopeK: rows of each head reordered from rotate_half's [x0..x(d/2-1),
// x(d/2)..x(d-1)] to neighbouring pairs [x0, x(d/2), x1, x(d/2+1), ...] (weights and biases).
torch::Tensor to_gguf_layout(const torch::Tensor& hf, Layout layout, const nlohmann::json& hf_config);
// GGUF -> HF, the inverse.
torch::Tensor to_hf_layout(const torch::Tensor& gguf, Layout layout, const nlohmann::json& hf_config);

// llama3 rope scaling as llama.cpp reads it (the rope_freqs tensor): per frequency, the divisor
// of the base frequency, from hf_config's rope_scaling, rope_theta and head size.
torch::Tensor llama3_rope_freqs(const nlohmann::json& hf_config);

}  // namespace ptft::gguf_arch
