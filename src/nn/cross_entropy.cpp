#include "ptft/nn/cross_entropy.h"

#include <ATen/record_function.h>

#include <string>
#include <type_traits>
#include <vector>

#include "kernel_types.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/cross_entropy_kernel.h"

namespace ptft::nn {
namespace {

// Rows per task of the thread pool: ~64k logits.
int64_t row_grain(int64_t vocab) { return std::max<int64_t>(1, 65536 / std::max<int64_t>(1, vocab)); }

float logit(const float* x, int64_t k) { return x[k]; }
float logit(const uint16_t* x, int64_t k) { return static_cast<float>(at::BFloat16(x[k], at::BFloat16::from_bits())); }

// Per row: its log-sum-exp and loss (double; 0 for an ignored row). Returns the summed loss.
template <class T>
double forward_rows(const torch::Tensor& logits, const int64_t* targets, int64_t ignore_index, RowLse* lse) {
  const int64_t n = logits.size(0), v = logits.size(1);
  const T* x = elements<T>(logits);
  std::vector<double> loss(static_cast<size_t>(n), 0.0);
  ptft::parallel_for(0, n, row_grain(v), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const int64_t t = targets[i];
      if (t == ignore_index) continue;
      TORCH_CHECK(t >= 0 && t < v, "Target ", t, " is out of bounds (", v, " classes)");
      lse[i] = log_sum_exp(x + i * v, v);
      loss[static_cast<size_t>(i)] = (static_cast<double>(lse[i].max) - logit(x, i * v + t)) + lse[i].log_sum;
    }
  });
  double sum = 0;
  for (double l : loss) sum += l;  // in row order: the same sum whatever the threads
  return sum;
}

template <class T>
void backward_rows(const torch::Tensor& logits, const int64_t* targets, int64_t ignore_index, const RowLse* lse,
                   float scale, torch::Tensor& grad) {
  const int64_t n = logits.size(0), v = logits.size(1);
  const T* x = elements<T>(logits);
  T* g = elements<T>(grad);
  ptft::parallel_for(0, n, row_grain(v), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      if (targets[i] == ignore_index) {
        std::fill(g + i * v, g + (i + 1) * v, T(0));
        continue;
      }
      cross_entropy_grad(x + i * v, lse[i], targets[i], scale, g + i * v, v);
    }
  });
}

static_assert(sizeof(RowLse) == 2 * sizeof(float) && std::is_standard_layout_v<RowLse>, "RowLse is two floats");

struct CrossEntropySum : torch::autograd::Function<CrossEntropySum> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, const torch::Tensor& logits_in,
                               const torch::Tensor& targets_in, int64_t ignore_index, bool overwrite_logits) {
    const torch::Tensor logits = logits_in.contiguous();
    const torch::Tensor targets = targets_in.to(torch::kLong).contiguous();
    torch::Tensor lse = torch::zeros({logits.size(0), 2}, torch::kFloat);  // (N, [max, log_sum])
    auto* rows = reinterpret_cast<RowLse*>(lse.data_ptr<float>());
    const double sum = logits.scalar_type() == torch::kFloat
                           ? forward_rows<float>(logits, targets.data_ptr<int64_t>(), ignore_index, rows)
                           : forward_rows<uint16_t>(logits, targets.data_ptr<int64_t>(), ignore_index, rows);
    ctx->save_for_backward({logits, targets, lse});
    ctx->saved_data["ignore_index"] = ignore_index;
    ctx->saved_data["overwrite_logits"] = overwrite_logits;
    return torch::tensor(static_cast<float>(sum));
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor &logits = saved[0], &targets = saved[1], &lse = saved[2];
    const int64_t ignore_index = ctx->saved_data["ignore_index"].toInt();
    const float scale = grads[0].item<float>();
    const bool overwrite = ctx->saved_data["overwrite_logits"].toBool();
    torch::Tensor grad = overwrite ? logits : torch::empty_like(logits);
    const auto* rows = reinterpret_cast<const RowLse*>(lse.data_ptr<float>());
    if (logits.scalar_type() == torch::kFloat)
      backward_rows<float>(logits, targets.data_ptr<int64_t>(), ignore_index, rows, scale, grad);
    else
      backward_rows<uint16_t>(logits, targets.data_ptr<int64_t>(), ignore_index, rows, scale, grad);
    if (overwrite) grad.unsafeGetTensorImpl()->bump_version();  // the logits are gone: say so to autograd
    return {grad, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor cross_entropy_sum(const torch::Tensor& logits, const torch::Tensor& targets, int64_t ignore_index,
                                bool overwrite_logits) {
  RECORD_FUNCTION("ptft::cross_entropy_sum", std::vector<c10::IValue>({logits}));
  TORCH_CHECK(logits.dim() == 2 && targets.dim() == 1 && targets.size(0) == logits.size(0),
              "cross_entropy_sum: logits (N,V) and targets (N), got ", logits.sizes(), " and ", targets.sizes());
  if (!kernel_dtype(logits))  // reduced precision (fp16, bf16 on CUDA) in fp32; double stays double
    return torch::nn::functional::cross_entropy(
        logits.scalar_type() == torch::kDouble ? logits : logits.to(torch::kFloat), targets,
        torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum).ignore_index(ignore_index));
  return CrossEntropySum::apply(logits, targets, ignore_index, overwrite_logits);
}

}  // namespace ptft::nn
