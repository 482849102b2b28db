// ptft/nn/swiglu_kernel.h — the gate of a SwiGLU MLP (Llama, Qwen, Mistral, SmolLM2), forward and
// backward over contiguous fp32 or bf16 ranges, torch-free (nn/swiglu.h is the autograd op).
//
//   y  = silu(g) u = g s u,  s = sigmoid(g) = 1 / (1 + e^(-g))
//   dg = dy u s (1 + g (1 - s)),   du = dy g s
//
// fp32 arithmetic (bf16 read into fp32 in blocks, each result rounded once to nearest even), the
// branch-free exp of src/nn/vector_math.h; multiversioned (AVX-512 / AVX2 / baseline).
//
//   swiglu_forward(g, u, y, n);   swiglu_backward(g, u, dy, dg, du, n);   // float* or uint16_t*
#pragma once

#include <cstdint>

namespace ptft::nn {

void swiglu_forward(const float* g, const float* u, float* y, int64_t n);
void swiglu_backward(const float* g, const float* u, const float* dy, float* dg, float* du, int64_t n);
// bf16 (the upper 16 bits of an IEEE float) in and out.
void swiglu_forward(const uint16_t* g, const uint16_t* u, uint16_t* y, int64_t n);
void swiglu_backward(const uint16_t* g, const uint16_t* u, const uint16_t* dy, uint16_t* dg, uint16_t* du, int64_t n);

}  // namespace ptft::nn
