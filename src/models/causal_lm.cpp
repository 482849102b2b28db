#include "ptft/models/causal_lm.h"

#include <ATen/CPUGeneratorImpl.h>

#include "ptft/models/model.h"

namespace ptft {

TensorMap causal_lm_example_batch(const ModelImpl& model, int64_t n, uint64_t seed) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto w = torch::randint(model.vocab_size(), {n, std::min<int64_t>(model.context_length(), 16) + 1}, g, torch::kLong);
  return {{"input_ids", w.narrow(1, 0, w.size(1) - 1)}, {"targets", w.narrow(1, 1, w.size(1) - 1)}};  // (B,T) each
}

}  // namespace ptft
