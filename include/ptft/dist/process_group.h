// ptft/dist/process_group.h — the data-parallel processes of one run, talking through torch's
// c10d: a TCPStore rendezvous at MASTER_ADDR:MASTER_PORT (rank 0 hosts it), then a Gloo process
// group on CPU or an NCCL one on CUDA. The c10d types stay in the .cpp; callers see tensors.
//
// Every collective names what it was for; when a peer dies (its sockets close) or stays silent
// past the timeout, the call throws a UserError saying which rank lost contact, during what, and
// how to resume — instead of hanging or aborting.
//
//   auto pg = ProcessGroup::join(read_launch_env(), device, /*timeout_s=*/1800);
//   pg->all_reduce_sum(t, "loss at step 12");           // t (any shape) summed over ranks, in place
//   auto pending = pg->all_reduce_sum_async(bucket, "gradients at step 12");  pending.wait();
#pragma once

#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ptft/dist/launch_env.h"

namespace ptft {

class ProcessGroup {
 public:
  // An operation in flight; wait() blocks until it is done (throws as the blocking calls do).
  class Pending {
   public:
    Pending() = default;
    Pending(std::function<void()> wait, std::string what, const ProcessGroup* group)
        : wait_(std::move(wait)), what_(std::move(what)), group_(group) {}
    void wait();

   private:
    std::function<void()> wait_;
    std::string what_;
    const ProcessGroup* group_ = nullptr;
  };

  // Joins the group `env` describes: waits up to timeout_s for every rank to arrive. Backend:
  // "gloo" for a CPU device, "nccl" for CUDA (cuda:LOCAL_RANK is the caller's business).
  static std::unique_ptr<ProcessGroup> join(const LaunchEnv& env, const c10::Device& device, double timeout_s);

  // The c10d backends this build can use: "gloo" (CPU), "nccl" (CUDA).
  static std::vector<std::string> backends();

  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  const std::string& backend() const { return backend_; }

  void all_reduce_sum(at::Tensor& t, const std::string& what);
  Pending all_reduce_sum_async(at::Tensor& t, const std::string& what);
  void broadcast(at::Tensor& t, int root, const std::string& what);
  void barrier(const std::string& what);

  // The UserError a failed collective becomes (also used by Pending::wait).
  [[noreturn]] void fail(const std::string& what, const std::string& cause) const;

  struct Backend;  // the c10d process group behind it (process_group.cpp)

 private:
  ProcessGroup(int rank, int world_size, std::string backend, double timeout_s, std::unique_ptr<Backend> impl);
  int rank_;
  int world_size_;
  std::string backend_;
  double timeout_s_;
  std::unique_ptr<Backend> impl_;
};

}  // namespace ptft
