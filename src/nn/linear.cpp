#include "ptft/nn/linear.h"

#include <ATen/autocast_mode.h>

#include <cmath>

#include "ptft/core/error.h"
#include "ptft/core/compat.h"
#include "ptft/nn/bf16_gemv.h"
#include "ptft/nn/dense_linear.h"
#include "ptft/nn/dropout.h"
#include "ptft/nn/lora_linear.h"
#include "ptft/nn/skip_init.h"
#include "ptft/nn/wide_linear.h"

namespace ptft::nn {

LinearImpl::LinearImpl(LinearOptions opts) : options(std::move(opts)) { reset(); }

void LinearImpl::reset() {
  weight = register_parameter("weight", torch::empty({options.out_features(), options.in_features()}));
  if (options.bias()) bias = register_parameter("bias", torch::zeros({options.out_features()}));
  // Default init as torch.nn.Linear; model families re-initialise as their reference does.
  if (SkipInit::active()) return;
  torch::NoGradGuard ng;
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
  weight.uniform_(-bound, bound);
}

namespace {

// Rows of any leading shape with a bias: one GEMM that starts from the bias (addmm over the rows
// as a matrix). libtorch 1.13's linear does that for 2-D input only; on (B, T, in) it multiplies,
// then adds the bias in a pass of its own over the output (and under bf16 autocast rounds twice).
// GPT-2 124M full step (B4 x T256, bf16, xeon machine): forward 346 / 341 / 356 -> 322 / 308 /
// 326 ms in alternating pairs.
torch::Tensor linear_from_bias(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  auto shape = x.sizes().vec();  // (..., in)
  shape.back() = weight.size(0);
  return torch::addmm(bias, x.view({-1, x.size(-1)}), weight.t()).view(shape);  // (rows, in) -> (..., out)
}

// Several rows on the CPU through a weight that trains, multiplied in bf16 / fp16 (autocast's or
// the inputs' own dtype): nn::dense_linear, whose weight gradient reads dy row-major.
bool trains_in_16_bits(const torch::Tensor& x, const torch::Tensor& weight) {
  if (!x.is_cpu() || !weight.requires_grad() || !torch::GradMode::is_enabled() || x.numel() <= weight.size(1))
    return false;
  const auto type = compat::matmul_dtype(x);
  return type == torch::kBFloat16 || type == torch::kHalf;
}

}  // namespace

torch::Tensor linear(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  // (Not under autocast, whose bf16 list has linear but not mv.)
  if (x.numel() != weight.size(1) || !x.is_cpu() || at::autocast::is_cpu_enabled() || x.dtype() != weight.dtype()) {
    if (x.is_cpu() && weight.size(0) >= kWideLinearRows && x.numel() > weight.size(1)) return wide_linear(x, weight, bias);
    if (trains_in_16_bits(x, weight)) return dense_linear(x, weight, bias);
    if (bias.defined() && x.dim() > 2 && x.is_contiguous()) return linear_from_bias(x, weight, bias);
    return torch::nn::functional::linear(x, weight, bias);
  }
  // One row (a decode step): BLAS's matrix-vector product reads W once; the (1,in) x (in,out) GEMM
  // libtorch would run packs W first (~1.5-3x slower with OpenBLAS 0.3.21, 576 x 1536 fp32).
  auto shape = x.sizes().vec();  // (..., in) with one row
  shape.back() = weight.size(0);
  const auto row = x.reshape({-1});  // (in)
  return (bias.defined() ? torch::addmv(bias, weight, row) : torch::mv(weight, row)).view(shape);  // (..., out)
}

torch::Tensor LinearImpl::forward(const torch::Tensor& x) {
  torch::Tensor y;  // (..., out)
  if (weight_bf16.defined()) {
    PTFT_CHECK(!torch::GradMode::is_enabled(), "a projection holding bf16 decode weights only generates (no gradients)");
    if (x.numel() == options.in_features()) {  // a decode step: half the bytes of float32
      y = bf16_gemv(weight_bf16, x, bias);
    } else {  // a prompt: libtorch's bf16 GEMM (oneDNN), float32 out
      y = torch::nn::functional::linear(x.to(torch::kBFloat16), weight_bf16).to(x.scalar_type());
      if (bias.defined()) y = y + bias;
    }
  } else if (lora_A && x.numel() != options.in_features()) {  // several rows with an adapter: one op
    const torch::Tensor h = lora_dropout_ > 0 && is_training() ? nn::dropout(x, lora_dropout_, true) : torch::Tensor();
    return lora_linear(x, frozen_cast_.of(weight), bias, lora_A->weight, lora_B->weight, lora_scale_, h);
  } else {
    y = linear(x, frozen_cast_.of(weight), bias);
  }
  if (lora_A) {  // one row (a decode step), or bf16 decode weights: the adapter's term added
    torch::Tensor h = nn::dropout(x, lora_dropout_, is_training());
    y = torch::add(y, lora_B->forward(lora_A->forward(h)), lora_scale_);  // (..., in) -> (..., r) -> (..., out)
  }
  return y;
}

void LinearImpl::hold_bf16_copy() {
  torch::NoGradGuard ng;
  if (!weight.is_cpu() || weight_bf16.defined()) return;  // once: a second call would copy the emptied weight
  weight_bf16 = weight.detach().to(torch::kBFloat16).contiguous();
  weight.set_data(torch::empty({0}, weight.options()));  // the float32 copy goes: 2/3 of the memory
}

void LinearImpl::add_lora(int64_t r, double alpha, double dropout) {
  if (r <= 0) throw UserError("LoRA rank r must be > 0, got " + std::to_string(r));
  if (lora_A) throw InternalError("add_lora: this projection already has an adapter");
  lora_A = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(options.in_features(), r).bias(false)));
  lora_B = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(r, options.out_features()).bias(false)));
  {
    torch::NoGradGuard ng;
    // As PEFT: A ~ kaiming-uniform(a=sqrt(5)), B = 0.
    const double bound = 1.0 / std::sqrt(static_cast<double>(options.in_features()));
    lora_A->weight.uniform_(-bound, bound);
    lora_B->weight.zero_();
  }
  lora_A->to(weight.device());
  lora_B->to(weight.device());
  lora_scale_ = alpha / static_cast<double>(r);
  lora_dropout_ = dropout;
}

void LinearImpl::merge_lora() {
  if (!lora_A) return;
  {
    torch::NoGradGuard ng;
    weight.add_(torch::matmul(lora_B->weight, lora_A->weight) * lora_scale_);  // (out, r) @ (r, in)
  }
  unregister_module("lora_A");
  unregister_module("lora_B");
  lora_A = nullptr;
  lora_B = nullptr;
  lora_scale_ = 0.0;
}

}  // namespace ptft::nn
