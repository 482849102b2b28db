#include "ptft/nn/attention_softmax.h"

#include <ATen/record_function.h>

#include <limits>

#include "kernel_types.h"
#include "ptft/core/error.h"
#include "ptft/core/parallel.h"
#include "ptft/nn/attention_softmax_kernel.h"

namespace ptft::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kGrain = 16384;  // elements per task of the thread pool

// The attended keys of row r (query r % tq) of rows of tk columns.
struct Visible {
  bool causal;
  int64_t tq, tk;
  int64_t operator()(int64_t r) const { return causal ? r % tq + (tk - tq) + 1 : tk; }
};

// f(row, visible, offset of the row) over all rows of `t` (contiguous, tk columns), on the pool.
template <class F>
void for_rows(const torch::Tensor& t, const Visible& visible, F&& f) {
  const int64_t rows = t.numel() / visible.tk;
  ptft::parallel_for(0, rows, std::max<int64_t>(1, kGrain / visible.tk), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(visible(r), r * visible.tk);
  });
}

struct AttentionSoftmax : torch::autograd::Function<AttentionSoftmax> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& scores, double scale, bool causal, int64_t tq) {
    const torch::Tensor s = scores.contiguous();
    auto p = torch::empty_like(s);
    const Visible visible{causal, tq, s.size(-1)};
    with_elements(s.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      const T* in = elements<T>(s);
      T* out = elements<T>(p);
      const auto k = static_cast<float>(scale);
      for_rows(s, visible, [&](int64_t v, int64_t o) { attention_softmax_row(in + o, k, v, out + o, visible.tk); });
    });
    ctx->save_for_backward({p});
    ctx->saved_data["scale"] = scale;
    ctx->saved_data["causal"] = causal;
    ctx->saved_data["tq"] = tq;
    return p;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const torch::Tensor p = ctx->get_saved_variables()[0];
    const torch::Tensor dp = grads[0].to(p.scalar_type()).contiguous();
    auto ds = torch::empty_like(p);
    const Visible visible{ctx->saved_data["causal"].toBool(), ctx->saved_data["tq"].toInt(), p.size(-1)};
    const auto k = static_cast<float>(ctx->saved_data["scale"].toDouble());
    with_elements(p.scalar_type(), [&](auto tag) {
      using T = decltype(tag);
      const T *pp = elements<T>(p), *g = elements<T>(dp);
      T* out = elements<T>(ds);
      for_rows(p, visible, [&](int64_t v, int64_t o) { attention_softmax_grad_row(pp + o, g + o, k, v, out + o, visible.tk); });
    });
    return {ds, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor attention_softmax(const torch::Tensor& scores, double scale, bool causal, int64_t tq) {
  RECORD_FUNCTION("ptft::attention_softmax", std::vector<c10::IValue>({scores}));
  // A causal row must see at least its own key, and rows come in whole heads: the kernel would
  // otherwise write before its row (visible <= 0).
  const int64_t tk = scores.size(-1);
  PTFT_CHECK(scores.dim() >= 2 && tq >= 1 && scores.size(-2) % tq == 0 && (!causal || tq <= tk),
             "attention_softmax: scores " + c10::str(scores.sizes()) + " do not hold rows of " + std::to_string(tq) +
                 " queries over " + std::to_string(tk) + " keys" + (causal ? " (causal: Tq <= Tk)" : ""));
  if (kernel_dtype(scores)) return AttentionSoftmax::apply(scores, scale, causal, tq);
  auto s = scores * scale;
  if (causal) {
    const auto hidden = torch::ones({tq, tk}, scores.options().dtype(torch::kBool)).triu_(tk - tq + 1);  // (Tq,Tk)
    s = s.view({-1, tq, tk}).masked_fill(hidden, -std::numeric_limits<double>::infinity()).view(scores.sizes());
  }
  return torch::softmax(s, -1);
}

}  // namespace ptft::nn
