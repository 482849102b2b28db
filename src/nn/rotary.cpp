#include "ptft/nn/rotary.h"

#include <algorithm>
#include <cmath>

#include "kernel_types.h"
#include "ptft/core/error.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/rope_kernel.h"

namespace ptft::nn {

void RopeScaling::validate(const std::string& where) const {
  if (type != "default" && type != "linear" && type != "llama3")
    throw UserError(where + ": rope type \"" + type + "\" is not supported",
                    "ptft implements rope_scaling none (default), \"linear\" and \"llama3\"");
  if (type == "default") return;
  if (!(factor >= 1.0))
    throw UserError(where + ": rope scaling factor must be >= 1, got " + std::to_string(factor));
  if (type == "llama3") {
    if (!(low_freq_factor > 0) || !(high_freq_factor > low_freq_factor))
      throw UserError(where + ": llama3 rope scaling needs 0 < low_freq_factor < high_freq_factor, got " +
                      std::to_string(low_freq_factor) + " and " + std::to_string(high_freq_factor));
    if (original_max_positions <= 0)
      throw UserError(where + ": llama3 rope scaling needs original_max_position_embeddings > 0");
  }
}

torch::Tensor rope_inv_freq(int64_t head_dim, double theta, const RopeScaling& s) {
  // HF: 1 / theta ** (arange(0, d, 2, int64).float() / d), in float32.
  auto exponent = torch::arange(0, head_dim, 2, torch::kLong).to(torch::kFloat32) / static_cast<float>(head_dim);
  auto inv_freq = 1.0 / torch::pow(torch::tensor(static_cast<float>(theta)), exponent);  // (d/2) float32
  if (s.type == "linear") return inv_freq / static_cast<float>(s.factor);
  if (s.type != "llama3") return inv_freq;
  // Llama 3.1: wavelengths longer than old_context / low_freq_factor are slowed by `factor`,
  // shorter than old_context / high_freq_factor kept, those between blended smoothly.
  const double old_ctx = static_cast<double>(s.original_max_positions);
  const double low_wavelen = old_ctx / s.low_freq_factor, high_wavelen = old_ctx / s.high_freq_factor;
  auto wavelen = 2 * M_PI / inv_freq;                                                        // (d/2)
  auto scaled = torch::where(wavelen > low_wavelen, inv_freq / s.factor, inv_freq);
  auto smooth = (old_ctx / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  auto blended = (1 - smooth) * scaled / s.factor + smooth * scaled;
  auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
  return torch::where(medium, blended, scaled).to(torch::kFloat32);
}

Rotary::Rotary(int64_t head_dim, double theta, RopeScaling scaling, int64_t max_positions)
    : head_dim_(head_dim), max_positions_(max_positions) {
  PTFT_CHECK(head_dim % 2 == 0, "rotary embeddings need an even head size, got " + std::to_string(head_dim));
  auto inv_freq = rope_inv_freq(head_dim, theta, scaling);                            // (d/2)
  auto pos = torch::arange(max_positions, torch::kLong).to(torch::kFloat32);        // (P)
  auto freqs = torch::outer(pos, inv_freq);                                          // (P, d/2) float32
  auto emb = torch::cat({freqs, freqs}, -1);                                         // (P, d)
  cos_ = emb.cos();
  sin_ = emb.sin();
}

std::pair<torch::Tensor, torch::Tensor> Rotary::tables(const torch::Device& device) const {
  if (device.is_cpu()) return {cos_, sin_};
  std::lock_guard<std::mutex> lock(mu_);
  auto& t = on_device_[device.str()];
  if (!t.first.defined()) t = {cos_.to(device), sin_.to(device)};
  return t;
}

namespace {

// (x1, x2) -> (-x2, x1) over the two halves of the last dimension.
torch::Tensor rotate_half(const torch::Tensor& x) {
  const int64_t h = x.size(-1) / 2;
  return torch::cat({-x.narrow(-1, h, h), x.narrow(-1, 0, h)}, -1);
}

// x (B,H,T,D) with unit stride along D -> y (B,H,T,D) contiguous; backward: the transpose.
// cos/sin (T,D) fp32, already rounded to x's dtype.
torch::Tensor rotate_sequences(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                               bool backward) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), D = x.size(3);
  auto y = torch::empty({B, H, T, D}, x.options());
  with_elements(x.scalar_type(), [&](auto tag) {
    using T_ = decltype(tag);
    const T_* in = elements<T_>(x);
    T_* out = elements<T_>(y);
    // Heads split over the threads in chunks of >= 16k values: a decode step's few heads of one
    // position stay on the calling thread (waking the others costs more than rotating them).
    ptft::parallel_for(0, B * H, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, T * D)), [&](int64_t b, int64_t e) {
      for (int64_t bh = b; bh < e; ++bh) {
        const T_* row = in + (bh / H) * x.stride(0) + (bh % H) * x.stride(1);
        rope_sequence(row, x.stride(2), cos.data_ptr<float>(), sin.data_ptr<float>(), out + bh * T * D, T, D, backward);
      }
    });
  });
  return y;
}

torch::Tensor unit_inner_stride(const torch::Tensor& t) { return t.stride(3) == 1 ? t : t.contiguous(); }

// x cos + rotate_half(x) sin as one op (nn/rope_kernel.h): no copies of rotate_half, one pass
// each way.
struct Rope : torch::autograd::Function<Rope> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& cos, const torch::Tensor& sin) {
    ctx->save_for_backward({cos, sin});
    ctx->saved_data["dtype"] = static_cast<int64_t>(x.scalar_type());
    return rotate_sequences(unit_inner_stride(x), cos, sin, /*backward=*/false);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["dtype"].toInt());
    const auto dy = unit_inner_stride(grads[0].to(dtype));
    return {rotate_sequences(dy, saved[0], saved[1], /*backward=*/true), torch::Tensor(), torch::Tensor()};
  }
};

// The tables as HF uses them: cast to x's dtype (here kept in fp32 after the rounding).
torch::Tensor table_for(const torch::Tensor& table, const torch::Tensor& x) {
  return x.scalar_type() == torch::kFloat ? table.contiguous() : table.to(x.scalar_type()).to(torch::kFloat);
}

torch::Tensor rotate(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  TORCH_CHECK(x.dim() >= 2 && x.size(-1) == cos.size(1) && x.size(-2) == cos.size(0), "rotary embeddings of ",
              cos.size(0), " positions x head size ", cos.size(1), " applied to a tensor ", x.sizes());
  if (kernel_dtype(x) && x.dim() == 4 && x.numel() > 0) {
    return Rope::apply(x, table_for(cos, x), table_for(sin, x));
  }
  // (T, hs) in the activations' dtype, as HF casts cos/sin to x's dtype.
  const auto c = cos.to(x.scalar_type()), s = sin.to(x.scalar_type());
  return x * c + rotate_half(x) * s;
}

}  // namespace

void Rotary::apply(torch::Tensor& q, torch::Tensor& k, int64_t offset) const {
  const int64_t T = q.size(2);
  if (offset + T > max_positions_)
    throw UserError("position " + std::to_string(offset + T - 1) + " is beyond the model's " +
                        std::to_string(max_positions_) + " positions",
                    "shorten the input");
  auto [cos_all, sin_all] = tables(q.device());
  auto cos = cos_all.narrow(0, offset, T), sin = sin_all.narrow(0, offset, T);  // (T, hs) float32
  q = rotate(q, cos, sin);
  k = rotate(k, cos, sin);
}

}  // namespace ptft::nn
