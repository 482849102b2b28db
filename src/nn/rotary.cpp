#include "ptft/nn/rotary.h"

#include <cmath>

#include "ptft/core/error.h"

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

}  // namespace

void Rotary::apply(torch::Tensor& q, torch::Tensor& k, int64_t offset) const {
  const int64_t T = q.size(2);
  if (offset + T > max_positions_)
    throw UserError("position " + std::to_string(offset + T - 1) + " is beyond the model's " +
                        std::to_string(max_positions_) + " positions",
                    "shorten the input");
  auto [cos_all, sin_all] = tables(q.device());
  // (T, hs) in the activations' dtype, as HF casts cos/sin to x's dtype.
  auto cos = cos_all.narrow(0, offset, T).to(q.scalar_type());
  auto sin = sin_all.narrow(0, offset, T).to(q.scalar_type());
  q = q * cos + rotate_half(q) * sin;
  k = k * cos.to(k.scalar_type()) + rotate_half(k) * sin.to(k.scalar_type());
}

}  // namespace ptft::nn
