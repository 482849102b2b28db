#include "ptft/nn/group_norm.h"

#include <ATen/record_function.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernel_types.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/batch_norm_kernel.h"

namespace ptft::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
constexpr auto kChannelsLast = at::MemoryFormat::ChannelsLast;

// One sample of a channels-last (B,C,H,W) tensor: hw rows of C channels, which the kernels see as
// `rows` rows of n = k C lanes (k rows side by side where they divide evenly: narrow layers fill
// a vector). Sums run over blocks of kBlock rows in fp32, added per channel in double.
struct Sample {
  explicit Sample(const torch::Tensor& x) : c(x.size(1)), hw(x.size(2) * x.size(3)) {
    k = (c < 64 && 64 % c == 0 && hw % (64 / c) == 0) ? 64 / c : 1;
    n = k * c;
    rows = hw / k;
  }
  std::vector<float> lanes(const std::vector<double>& v) const { return repeat_lanes(v, n); }
  // Per-channel sums of sum(p1, p2, first_row, count) over the sample's rows, into t1, t2 (C).
  template <class SumRows>
  void sums(SumRows&& sum, std::vector<double>& t1, std::vector<double>& t2) const {
    std::vector<float> p1(static_cast<size_t>(n)), p2(p1.size());
    std::fill(t1.begin(), t1.end(), 0.0);
    std::fill(t2.begin(), t2.end(), 0.0);
    for (int64_t first = 0; first < rows; first += kBlock) {
      std::fill(p1.begin(), p1.end(), 0.0f);
      std::fill(p2.begin(), p2.end(), 0.0f);
      sum(p1.data(), p2.data(), first, std::min(kBlock, rows - first));
      for (int64_t j = 0; j < n; ++j) {
        t1[j % c] += p1[j];
        t2[j % c] += p2[j];
      }
    }
  }
  static constexpr int64_t kBlock = 64;
  int64_t c, hw, k, n, rows;
};

// libtorch's ops, the same function (fp32 NCHW, as its CPU group_norm wants input and weight of
// one dtype): CUDA, NCHW input, other dtypes.
torch::Tensor group_norm_reference(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight,
                                   const torch::Tensor& bias, double eps, bool relu) {
  const auto type = weight.defined() ? weight.scalar_type() : torch::kFloat;  // no affine: fp32
  torch::Tensor y = torch::group_norm(x.to(type).contiguous(), groups, weight, bias, eps);
  return relu ? torch::relu(y) : y;
}

struct GroupNormActOp : torch::autograd::Function<GroupNormActOp> {
  // x (B,C,H,W) channels-last -> y as x; saves the per-(sample, group) mean and 1/std.
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, int64_t groups, double eps, bool relu) {
    const Sample s(x);
    const int64_t B = x.size(0), cg = s.c / groups;
    const std::vector<double> w = to_doubles(weight), b = to_doubles(bias);
    std::vector<double> mean(static_cast<size_t>(B * groups)), rstd(mean.size());
    auto y = torch::empty_like(x, kChannelsLast);
    with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      ptft::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
        std::vector<double> first(s.c), t1(s.c), t2(s.c), scale(s.c), shift(s.c);
        for (int64_t i = b0; i < b1; ++i) {
          const T* xi = elements<T>(x) + i * s.hw * s.c;
          for (int64_t c = 0; c < s.c; ++c) first[c] = value_of(xi[c]);  // shift against cancellation
          const std::vector<float> first_l = s.lanes(first);
          s.sums([&](float* p1, float* p2, int64_t row, int64_t count) {
            batch_norm_sums(xi + row * s.n, first_l.data(), count, s.n, p1, p2);
          }, t1, t2);
          for (int64_t g = 0; g < groups; ++g) {
            // Per-channel mean and variance, then the group's: mean of means, mean variance +
            // variance of the means (equal counts per channel).
            double m = 0, v = 0;
            for (int64_t c = g * cg; c < (g + 1) * cg; ++c) m += first[c] + t1[c] / s.hw;
            m /= cg;
            for (int64_t c = g * cg; c < (g + 1) * cg; ++c) {
              const double mc = t1[c] / s.hw, vc = std::max(0.0, t2[c] / s.hw - mc * mc);
              v += vc + (first[c] + mc - m) * (first[c] + mc - m);
            }
            const double r = 1.0 / std::sqrt(v / cg + eps);
            mean[i * groups + g] = m;
            rstd[i * groups + g] = r;
            for (int64_t c = g * cg; c < (g + 1) * cg; ++c) {
              scale[c] = w[c] * r;
              shift[c] = b[c] - m * scale[c];
            }
          }
          batch_norm_apply(xi, nullptr, s.lanes(scale).data(), s.lanes(shift).data(), relu,
                           elements<T>(y) + i * s.hw * s.c, s.rows, s.n);
        }
      });
    });
    ctx->save_for_backward(
        {x, relu ? y : torch::Tensor(), weight, tensor_of(mean, torch::kDouble), tensor_of(rstd, torch::kDouble)});
    ctx->saved_data["groups"] = groups;
    ctx->saved_data["relu"] = relu;
    return y;
  }

  // dx = r (w g - S1 / N - xhat S2 / N) per group of N = hw C/groups values, with g the gradient
  // through the ReLU, S1 = sum w g and S2 = sum w g xhat over the group: dx = k g + cx x + c0.
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &x = saved[0], &y = saved[1];
    const int64_t groups = ctx->saved_data["groups"].toInt();
    const bool relu = ctx->saved_data["relu"].toBool();
    const torch::Tensor dy = grads[0].to(x.scalar_type()).contiguous(kChannelsLast);
    const Sample s(x);
    const int64_t B = x.size(0), cg = s.c / groups;
    const double N = static_cast<double>(s.hw * cg);
    const std::vector<double> w = to_doubles(saved[2]), mean = to_doubles(saved[3]), rstd = to_doubles(saved[4]);
    std::vector<double> dbeta_i(static_cast<size_t>(B * s.c)), dgamma_i(dbeta_i.size());  // per sample
    auto dx = torch::empty_like(x, kChannelsLast);
    with_elements(x.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      ptft::parallel_for(0, B, 1, [&](int64_t b0, int64_t b1) {
        std::vector<double> m(s.c), t1(s.c), t2(s.c), k(s.c), cx(s.c), c0(s.c);
        for (int64_t i = b0; i < b1; ++i) {
          const int64_t at = i * s.hw * s.c;
          const T* yi = relu ? elements<T>(y) + at : nullptr;
          for (int64_t c = 0; c < s.c; ++c) m[c] = mean[i * groups + c / cg];
          const std::vector<float> m_l = s.lanes(m);
          s.sums([&](float* p1, float* p2, int64_t row, int64_t count) {
            const int64_t off = row * s.n;
            batch_norm_backward_sums(elements<T>(dy) + at + off, yi != nullptr ? yi + off : nullptr,
                                     elements<T>(x) + at + off, m_l.data(), relu, count, s.n, p1, p2);
          }, t1, t2);  // t1 = sum g, t2 = sum g (x - mean), per channel
          for (int64_t g = 0; g < groups; ++g) {
            const double r = rstd[i * groups + g], mu = mean[i * groups + g];
            double s1 = 0, s2 = 0;
            for (int64_t c = g * cg; c < (g + 1) * cg; ++c) {
              s1 += w[c] * t1[c];
              s2 += w[c] * t2[c] * r;
            }
            for (int64_t c = g * cg; c < (g + 1) * cg; ++c) {
              k[c] = r * w[c];
              cx[c] = -r * r * s2 / N;
              c0[c] = -r * s1 / N - cx[c] * mu;
              dbeta_i[i * s.c + c] = t1[c];
              dgamma_i[i * s.c + c] = t2[c] * r;
            }
          }
          batch_norm_backward_apply(elements<T>(dy) + at, yi, elements<T>(x) + at, relu, s.lanes(k).data(),
                                    s.lanes(cx).data(), s.lanes(c0).data(), elements<T>(dx) + at, nullptr, s.rows,
                                    s.n);
        }
      });
    });
    // The samples' parameter gradients added in sample order: the same sums whatever the threads.
    std::vector<double> dgamma(static_cast<size_t>(s.c)), dbeta(dgamma.size());
    for (int64_t i = 0; i < B; ++i)
      for (int64_t c = 0; c < s.c; ++c) {
        dgamma[c] += dgamma_i[i * s.c + c];
        dbeta[c] += dbeta_i[i * s.c + c];
      }
    auto as_grad = [&](const std::vector<double>& v, int i) {
      return ctx->needs_input_grad(i) ? tensor_of(v, torch::kFloat) : torch::Tensor();
    };
    return {dx, as_grad(dgamma, 1), as_grad(dbeta, 2), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

bool fused(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight, const torch::Tensor& bias) {
  auto vec = [&](const torch::Tensor& t) {
    return t.defined() && t.is_cpu() && t.scalar_type() == torch::kFloat && t.dim() == 1 && t.is_contiguous() &&
           t.numel() == x.size(1);
  };
  return kernel_dtype(x) && x.dim() == 4 && x.numel() > 0 && x.is_contiguous(kChannelsLast) && groups > 0 &&
         x.size(1) % groups == 0 && vec(weight) && vec(bias);
}

}  // namespace

torch::Tensor group_norm_act(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight,
                             const torch::Tensor& bias, double eps, bool relu) {
  RECORD_FUNCTION("ptft::group_norm_act", std::vector<c10::IValue>({x}));
  if (!fused(x, groups, weight, bias)) return group_norm_reference(x, groups, weight, bias, eps, relu);
  return GroupNormActOp::apply(x, weight, bias, groups, eps, relu);  // (B,C,H,W) channels-last, x's dtype
}

}  // namespace ptft::nn
