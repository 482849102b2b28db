#include "ptft/nn/batch_norm.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "kernel_types.h"
#include "ptft/core/error.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/batch_norm_kernel.h"

namespace ptft::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
constexpr auto kChannelsLast = at::MemoryFormat::ChannelsLast;

// libtorch's ops, the same function: NCHW input, CUDA, double, mixed dtypes.
torch::Tensor batch_norm_reference(const torch::Tensor& x, const torch::Tensor& residual, const torch::Tensor& weight,
                                   const torch::Tensor& bias, const torch::Tensor& running_mean,
                                   const torch::Tensor& running_var, bool batch_stats, double momentum, double eps,
                                   bool relu) {
  // With training=true, batch_norm normalises by the batch statistics and updates the running
  // ones in place; with false it uses (and never touches) the running ones.
  torch::Tensor y = torch::batch_norm(x, weight, bias, running_mean, running_var, batch_stats, momentum, eps,
                                      /*cudnn_enabled=*/true);  // (B,C,H,W)
  if (residual.defined()) y = y + residual;
  return relu ? torch::relu(y) : y;
}

// A channels-last (B,C,H,W) tensor as the kernels see it: `rows` rows of C channels, the first
// `wide` * k of them as rows of n = k C lanes (k rows side by side: narrow layers fill a
// vector), the last `rest` (< k) as rows of C.
struct Rows {
  explicit Rows(const torch::Tensor& x) : c(x.size(1)), rows(x.numel() / c) {
    k = (c < 64 && 64 % c == 0) ? 64 / c : 1;
    n = k * c;
    wide = rows / k;
    rest = rows % k;
  }
  int64_t blocks() const { return (wide + kBlock - 1) / kBlock; }
  std::vector<float> lanes(const std::vector<double>& v) const { return repeat_lanes(v, n); }
  static constexpr int64_t kBlock = 64;  // wide rows per block of a reduction
  int64_t c, rows, k, n, wide, rest;
};

// Runs sum(partial, first, count, lanes) over the blocks of wide rows (in parallel) and the rest
// rows, each into its own zeroed pair of n-lane partial sums, and adds them per channel in
// double, block after block: the same sums whatever the number of threads.
template <class SumRows>
std::pair<std::vector<double>, std::vector<double>> channel_sums(const Rows& r, SumRows&& sum) {
  const int64_t blocks = r.blocks();
  std::vector<float> s1(static_cast<size_t>((blocks + 1) * r.n)), s2(s1.size());
  ptft::parallel_for(0, blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t first = i * Rows::kBlock, count = std::min(Rows::kBlock, r.wide - first);
      sum(s1.data() + i * r.n, s2.data() + i * r.n, first * r.k, count, r.n);
    }
  });
  if (r.rest > 0) sum(s1.data() + blocks * r.n, s2.data() + blocks * r.n, r.wide * r.k, r.rest, r.c);
  std::vector<double> t1(static_cast<size_t>(r.c)), t2(t1.size());
  for (int64_t i = 0; i < (blocks + 1) * r.n; ++i) {
    t1[(i % r.n) % r.c] += s1[i];
    t2[(i % r.n) % r.c] += s2[i];
  }
  return {t1, t2};
}

// f(first_row, row_count, lanes) over all rows, split over the threads in runs of wide rows.
template <class ApplyRows>
void for_rows(const Rows& r, ApplyRows&& f) {
  const int64_t grain = std::max<int64_t>(1, 16384 / r.n);
  ptft::parallel_for(0, r.wide, grain, [&](int64_t b, int64_t e) { f(b * r.k, e - b, r.n); });
  if (r.rest > 0) f(r.wide * r.k, r.rest, r.c);
}

// running = (1 - momentum) running + momentum v, in place (an fp32 CPU buffer: fused() checked).
void update_running(const torch::Tensor& running, const std::vector<double>& v, double momentum) {
  float* p = running.data_ptr<float>();
  for (size_t c = 0; c < v.size(); ++c) p[c] = static_cast<float>((1 - momentum) * p[c] + momentum * v[c]);
  running.unsafeGetTensorImpl()->bump_version();
}

struct BatchNormActOp : torch::autograd::Function<BatchNormActOp> {
  // x (B,C,H,W) channels-last, residual as x or empty (none) -> y as x
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& residual,
                               const torch::Tensor& weight, const torch::Tensor& bias, const torch::Tensor& running_mean,
                               const torch::Tensor& running_var, bool batch_stats, double momentum, double eps,
                               bool relu) {
    const Rows r(x);
    std::vector<double> mean, var;
    if (batch_stats) std::tie(mean, var) = batch_statistics(x, r, running_mean, running_var, momentum);
    else mean = to_doubles(running_mean), var = to_doubles(running_var);
    const std::vector<double> w = to_doubles(weight), b = to_doubles(bias);
    std::vector<double> invstd(r.c), scale(r.c), shift(r.c);
    for (int64_t c = 0; c < r.c; ++c) {
      invstd[c] = 1.0 / std::sqrt(var[c] + eps);
      scale[c] = w[c] * invstd[c];
      shift[c] = b[c] - mean[c] * scale[c];
    }
    const std::vector<float> scale_l = r.lanes(scale), shift_l = r.lanes(shift);
    auto y = torch::empty_like(x, kChannelsLast);
    with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      const T* res = residual.numel() > 0 ? elements<T>(residual) : nullptr;
      for_rows(r, [&](int64_t first, int64_t count, int64_t n) {
        batch_norm_apply(elements<T>(x) + first * r.c, res != nullptr ? res + first * r.c : nullptr, scale_l.data(),
                         shift_l.data(), relu, elements<T>(y) + first * r.c, count, n);
      });
    });
    ctx->save_for_backward({x, relu ? y : torch::Tensor(), weight, tensor_of(mean, torch::kDouble),
                            tensor_of(invstd, torch::kDouble)});
    ctx->saved_data["batch_stats"] = batch_stats;
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["residual"] = residual.numel() > 0;
    return y;
  }

  // Mean and biased variance over the rows (sums shifted by the first row's values, against
  // cancellation); updates the running statistics with the unbiased variance, as torch does.
  static std::pair<std::vector<double>, std::vector<double>> batch_statistics(const torch::Tensor& x, const Rows& r,
                                                                              const torch::Tensor& running_mean,
                                                                              const torch::Tensor& running_var,
                                                                              double momentum) {
    std::vector<double> first(static_cast<size_t>(r.c));  // the first row's values
    with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      const T* p = elements<T>(x);
      for (int64_t c = 0; c < r.c; ++c) first[c] = value_of(p[c]);
    });
    const std::vector<float> shift = r.lanes(first);
    auto [s1, s2] = with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      return channel_sums(r, [&](float* p1, float* p2, int64_t row, int64_t count, int64_t n) {
        batch_norm_sums(elements<T>(x) + row * r.c, shift.data(), count, n, p1, p2);
      });
    });
    const double N = static_cast<double>(r.rows);
    std::vector<double> mean(r.c), var(r.c), unbiased(r.c);
    for (int64_t c = 0; c < r.c; ++c) {
      const double m = s1[c] / N;
      mean[c] = first[c] + m;
      var[c] = std::max(0.0, s2[c] / N - m * m);
      unbiased[c] = var[c] * N / (N - 1);
    }
    update_running(running_mean, mean, momentum);
    update_running(running_var, unbiased, momentum);
    return {mean, var};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &y = saved[1], &weight = saved[2];
    const bool batch_stats = ctx->saved_data["batch_stats"].toBool(), relu = ctx->saved_data["relu"].toBool();
    const bool want_res = ctx->saved_data["residual"].toBool();
    const torch::Tensor dy = grads[0].to(x.scalar_type()).contiguous(kChannelsLast);
    const Rows r(x);
    const std::vector<double> mean = to_doubles(saved[3]), invstd = to_doubles(saved[4]), w = to_doubles(weight);
    const std::vector<float> mean_l = r.lanes(mean);
    auto [s1, s2] = with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      return channel_sums(r, [&](float* p1, float* p2, int64_t row, int64_t count, int64_t n) {
        const int64_t at = row * r.c;
        batch_norm_backward_sums(elements<T>(dy) + at, relu ? elements<T>(y) + at : nullptr, elements<T>(x) + at,
                                 mean_l.data(), relu, count, n, p1, p2);
      });
    });
    // dx = k g + cx x + c0 (batch statistics: dx = k (g - mean(g) - xhat mean(g xhat)))
    const double N = static_cast<double>(r.rows);
    std::vector<double> k(r.c), cx(r.c), c0(r.c), dgamma(r.c);
    for (int64_t c = 0; c < r.c; ++c) {
      k[c] = w[c] * invstd[c];
      dgamma[c] = s2[c] * invstd[c];
      if (batch_stats) {
        cx[c] = -k[c] * dgamma[c] / N * invstd[c];
        c0[c] = -k[c] * s1[c] / N - cx[c] * mean[c];
      }
    }
    const std::vector<float> k_l = r.lanes(k), cx_l = r.lanes(cx), c0_l = r.lanes(c0);
    auto dx = torch::empty_like(x, kChannelsLast);
    // Without the ReLU the residual's gradient is dy itself.
    torch::Tensor dres = want_res ? (relu ? torch::empty_like(x, kChannelsLast) : dy) : torch::Tensor();
    with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      T* dr = want_res && relu ? elements<T>(dres) : nullptr;
      for_rows(r, [&](int64_t first, int64_t count, int64_t n) {
        const int64_t at = first * r.c;
        batch_norm_backward_apply(elements<T>(dy) + at, relu ? elements<T>(y) + at : nullptr, elements<T>(x) + at,
                                  relu, k_l.data(), cx_l.data(), c0_l.data(), elements<T>(dx) + at,
                                  dr != nullptr ? dr + at : nullptr, count, n);
      });
    });
    auto as_grad = [&](const std::vector<double>& v, int i) {
      return ctx->needs_input_grad(i) ? tensor_of(v, torch::kFloat) : torch::Tensor();
    };
    return {dx, dres, as_grad(dgamma, 2), as_grad(s1, 3), torch::Tensor(), torch::Tensor(),
            torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

bool fused(const torch::Tensor& x, const torch::Tensor& residual, const torch::Tensor& weight,
           const torch::Tensor& bias, const torch::Tensor& running_mean, const torch::Tensor& running_var) {
  auto fp32_cpu = [](const torch::Tensor& t) { return t.defined() && t.is_cpu() && t.scalar_type() == torch::kFloat; };
  auto vec = [&](const torch::Tensor& t) { return fp32_cpu(t) && t.dim() == 1 && t.is_contiguous(); };
  return kernel_dtype(x) && x.dim() == 4 && x.numel() > 0 && x.is_contiguous(kChannelsLast) &&
         (!residual.defined() || (residual.device() == x.device() && residual.scalar_type() == x.scalar_type() &&
                                  residual.sizes() == x.sizes() && residual.is_contiguous(kChannelsLast))) &&
         vec(weight) && vec(bias) && vec(running_mean) && vec(running_var);
}

}  // namespace

torch::Tensor batch_norm_act(const torch::Tensor& x, const torch::Tensor& residual, const torch::Tensor& weight,
                             const torch::Tensor& bias, const torch::Tensor& running_mean,
                             const torch::Tensor& running_var, bool batch_stats, double momentum, double eps,
                             bool relu) {
  RECORD_FUNCTION("ptft::batch_norm_act", std::vector<c10::IValue>({x}));
  if (batch_stats && x.dim() > 1 && x.numel() < 2 * x.size(1))  // (PyTorch's Python API refuses it too;
    throw UserError("BatchNorm2d(" + std::to_string(x.size(1)) +  // libtorch's op would store a NaN variance)
                        ") in training needs more than one value per channel, got input of shape " + c10::str(x.sizes()),
                    "use a batch size of 2 or more (or larger images), or freeze the BatchNorm layers");
  if (!fused(x, residual, weight, bias, running_mean, running_var))
    return batch_norm_reference(x, residual, weight, bias, running_mean, running_var, batch_stats, momentum, eps, relu);
  // (libtorch 1.13's Function::apply takes no undefined tensor: no residual is an empty one.)
  const torch::Tensor res = residual.defined() ? residual : torch::empty({0}, x.options());
  return BatchNormActOp::apply(x, res, weight, bias, running_mean, running_var, batch_stats, momentum, eps, relu);
}

BatchNorm2dImpl::BatchNorm2dImpl(BatchNorm2dOptions opts) : options(std::move(opts)) { reset(); }

void BatchNorm2dImpl::reset() {
  const int64_t C = options.num_features();
  weight = register_parameter("weight", torch::ones({C}));
  bias = register_parameter("bias", torch::zeros({C}));
  running_mean = register_buffer("running_mean", torch::zeros({C}));
  running_var = register_buffer("running_var", torch::ones({C}));
  num_batches_tracked = register_buffer("num_batches_tracked", torch::zeros({}, torch::kLong));
}

torch::Tensor BatchNorm2dImpl::forward(const torch::Tensor& x) { return run(x, torch::Tensor(), false); }

torch::Tensor BatchNorm2dImpl::forward_relu(const torch::Tensor& x, const torch::Tensor& residual) {
  return run(x, residual, true);
}

torch::Tensor BatchNorm2dImpl::run(const torch::Tensor& x, const torch::Tensor& residual, bool relu) {
  PTFT_CHECK(x.dim() == 4 && x.size(1) == options.num_features(),
             "BatchNorm2d(" + std::to_string(options.num_features()) + ") got input of shape " + c10::str(x.sizes()));
  const bool batch_stats = is_training() && !frozen();
  if (batch_stats) {
    torch::NoGradGuard ng;
    num_batches_tracked.add_(1);
  }
  return batch_norm_act(x, residual, weight, bias, running_mean, running_var, batch_stats, options.momentum(),
                        options.eps(), relu);  // (B,C,H,W)
}

}  // namespace ptft::nn
