// ptft/dist/grad_sync.h — what makes data-parallel training the same as one process: every rank
// starts from rank 0's weights, and after the backward passes of a step the gradients are summed
// over the ranks, so that every rank takes the same optimizer step.
//
// Gradients travel in buckets of about bucket_mb (one flat buffer per bucket, parameters in
// reverse order as PyTorch DDP orders them; all buckets are in flight at once, so copying one
// overlaps the transfer of the others). The Trainer normalises each rank's loss by the units of
// the whole (all-rank) batch, so the sum is the gradient of the combined batch. A parameter with
// no gradient on any rank (unused this step, or frozen) keeps none; one with a gradient on some
// ranks gets their sum — as one process seeing all their examples would.
//
//   broadcast_module(model, pg);                       // rank 0's parameters and buffers everywhere
//   GradSync sync(opt.params(), pg, /*bucket_mb=*/25);
//   ... backward ...;  sync.all_reduce("step 12");     // p.grad() = sum over ranks
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "ptft/dist/process_group.h"

namespace ptft {

class GradSync {
 public:
  GradSync(std::vector<torch::Tensor> params, ProcessGroup& pg, double bucket_mb = 25);
  void all_reduce(const std::string& what);
  size_t bucket_count() const { return buckets_.size(); }
  // Parameter indices (into `params`) of bucket b, in the order they are laid out.
  const std::vector<size_t>& bucket(size_t b) const { return buckets_[b].members; }

 private:
  struct Bucket {
    std::vector<size_t> members;  // indices into params_
    int64_t numel = 0;            // gradient elements (the buffer has members.size() flags after them)
    torch::Tensor buffer;         // (numel + members.size()) in the parameters' dtype and device
  };
  std::vector<torch::Tensor> params_;
  std::vector<Bucket> buckets_;
  ProcessGroup& pg_;
};

// Copies rank `root`'s parameters and buffers into every rank's `module` (in place).
void broadcast_module(torch::nn::Module& module, ProcessGroup& pg, int root = 0);

}  // namespace ptft
