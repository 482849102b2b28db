#include "ptft/dist/grad_sync.h"

#include "ptft/core/error.h"

namespace ptft {

GradSync::GradSync(std::vector<torch::Tensor> params, ProcessGroup& pg, double bucket_mb)
    : params_(std::move(params)), pg_(pg) {
  const int64_t cap = std::max<int64_t>(1, static_cast<int64_t>(bucket_mb * 1024 * 1024));
  // Reverse order: the last layers' gradients are the first ones backward produces.
  for (size_t k = params_.size(); k-- > 0;) {
    const torch::Tensor& p = params_[k];
    const int64_t bytes = p.numel() * static_cast<int64_t>(p.element_size());
    const bool fits = !buckets_.empty() && buckets_.back().numel * p.element_size() + bytes <= cap &&
                      params_[buckets_.back().members.front()].scalar_type() == p.scalar_type() &&
                      params_[buckets_.back().members.front()].device() == p.device();
    if (!fits) buckets_.emplace_back();
    buckets_.back().members.push_back(k);
    buckets_.back().numel += p.numel();
  }
}

void GradSync::all_reduce(const std::string& what) {
  torch::NoGradGuard ng;
  std::vector<ProcessGroup::Pending> pending;
  pending.reserve(buckets_.size());
  for (auto& b : buckets_) {
    const torch::Tensor& first = params_[b.members.front()];
    if (!b.buffer.defined() || b.buffer.device() != first.device())
      b.buffer = torch::empty({b.numel + static_cast<int64_t>(b.members.size())}, first.options());
    // Flags after the gradients: 1 where this rank has a gradient; summed, they say whether any has.
    torch::Tensor flags = b.buffer.narrow(0, b.numel, static_cast<int64_t>(b.members.size()));
    int64_t off = 0;
    for (size_t j = 0; j < b.members.size(); ++j) {
      const torch::Tensor& p = params_[b.members[j]];
      torch::Tensor slot = b.buffer.narrow(0, off, p.numel());
      const torch::Tensor& g = p.grad();
      if (g.defined()) slot.view(g.sizes()).copy_(g);  // one pass whatever g's layout (channels-last too)
      else slot.zero_();
      flags[static_cast<int64_t>(j)].fill_(g.defined() ? 1.0 : 0.0);
      off += p.numel();
    }
    pending.push_back(pg_.all_reduce_sum_async(b.buffer, "the gradient all-reduce of " + what));
  }
  for (size_t i = 0; i < buckets_.size(); ++i) {
    pending[i].wait();
    Bucket& b = buckets_[i];
    const torch::Tensor flags =
        b.buffer.narrow(0, b.numel, static_cast<int64_t>(b.members.size())).to(torch::kCPU, torch::kFloat);
    const auto* has = flags.data_ptr<float>();
    int64_t off = 0;
    for (size_t j = 0; j < b.members.size(); ++j) {
      torch::Tensor& p = params_[b.members[j]];
      if (has[j] > 0) {
        torch::Tensor sum = b.buffer.narrow(0, off, p.numel()).view(p.sizes());
        if (p.grad().defined()) p.mutable_grad().copy_(sum);
        else p.mutable_grad() = sum.clone();
      }
      off += p.numel();
    }
  }
}

void broadcast_module(torch::nn::Module& module, ProcessGroup& pg, int root) {
  torch::NoGradGuard ng;
  auto send = [&](const std::string& name, torch::Tensor t) {
    if (!t.defined()) return;
    // Gloo and NCCL send contiguous storage: a tensor in another layout (channels-last
    // convolution weights) goes as a row-major copy and is copied back.
    torch::Tensor c = t.contiguous();
    pg.broadcast(c, root, "the start-of-training broadcast of rank " + std::to_string(root) + "'s " + name);
    if (!c.is_same(t)) t.copy_(c);
  };
  for (auto& kv : module.named_parameters(/*recurse=*/true)) send(kv.key(), kv.value());
  for (auto& kv : module.named_buffers(/*recurse=*/true)) send(kv.key(), kv.value());
}

}  // namespace ptft
