// ptft/data/replay_mix.h — fine-tuning batches with a share of general-corpus examples
// ("replay"), to limit catastrophic forgetting.
//
// Each training micro-batch of B examples takes round(fraction * B) rows from the replay source
// and the rest from the domain source, both at the same BatchAddress (so the mix is as
// deterministic and resumable as its parts). Token batches of different lengths are padded
// (targets with -100, inputs with 0) to the longer one. Evaluation reads the domain only.
//
//   auto mixed = std::make_unique<ReplayMix>(std::move(domain), std::move(general), 0.1);
#pragma once

#include <memory>

#include "ptft/data/data_source.h"

namespace ptft {

class ReplayMix : public DataSource {
 public:
  ReplayMix(std::unique_ptr<DataSource> domain, std::unique_ptr<DataSource> replay, double fraction);
  std::string describe() const override;
  int64_t size() const override { return domain_->size(); }
  Batch train_batch(const BatchAddress& at) override;
  int64_t eval_batches(int64_t batch_size) const override { return domain_->eval_batches(batch_size); }
  Batch eval_batch(int64_t index, int64_t batch_size) override { return domain_->eval_batch(index, batch_size); }
  // Replay rows in a micro-batch of `micro_batch` examples.
  int64_t replay_rows(int64_t micro_batch) const;

 private:
  std::unique_ptr<DataSource> domain_, replay_;
  double fraction_;
};

// Rows of `b` appended to `a` (same keys); 2-D tensors of different widths are right-padded
// ("targets" with -100, other keys with 0). Weights add up.
Batch concat_batches(Batch a, const Batch& b);

}  // namespace ptft
