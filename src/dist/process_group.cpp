#include "ptft/dist/process_group.h"

// c10d declares ProcessGroupGloo / ProcessGroupNCCL only under these macros, which the build
// defines for this file when the headers are there (CMakeLists.txt: PTFT_HAVE_GLOO, PTFT_HAVE_NCCL).
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#if defined(USE_C10D_GLOO)
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(USE_C10D_NCCL)
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>
#include <utility>

#include "ptft/core/config.h"
#include "ptft/core/error.h"

namespace ptft {

// The operations ptft uses, over a concrete c10d group type (ProcessGroupGloo/NCCL have them with
// the same spelling in libtorch 1.13 and 2.x, while their common base class differs).
struct ProcessGroup::Backend {
  virtual ~Backend() = default;
  virtual std::function<void()> all_reduce(at::Tensor& t) = 0;
  virtual std::function<void()> broadcast(at::Tensor& t, int root) = 0;
  virtual std::function<void()> barrier() = 0;
};

namespace {

template <class Group>
struct C10dBackend : ProcessGroup::Backend {
  explicit C10dBackend(c10::intrusive_ptr<Group> g) : group(std::move(g)) {}
  template <class Work>
  static std::function<void()> waiter(Work work) {
    return [work]() mutable { work->wait(); };
  }
  std::function<void()> all_reduce(at::Tensor& t) override {
    std::vector<at::Tensor> one{t};  // one tensor per call: several would be summed together
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    return waiter(group->allreduce(one, opts));
  }
  std::function<void()> broadcast(at::Tensor& t, int root) override {
    std::vector<at::Tensor> one{t};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    return waiter(group->broadcast(one, opts));
  }
  std::function<void()> barrier() override { return waiter(group->barrier()); }
  c10::intrusive_ptr<Group> group;
};

std::string cause_of(const std::exception& e) {
  if (const auto* c = dynamic_cast<const c10::Error*>(&e)) return c->what_without_backtrace();
  return e.what();
}

}  // namespace

ProcessGroup::ProcessGroup(int rank, int world_size, std::string backend, double timeout_s,
                           std::unique_ptr<Backend> impl)
    : rank_(rank), world_size_(world_size), backend_(std::move(backend)), timeout_s_(timeout_s), impl_(std::move(impl)) {}

ProcessGroup::~ProcessGroup() = default;

std::vector<std::string> ProcessGroup::backends() {
  std::vector<std::string> out;
#if defined(USE_C10D_GLOO)
  out.push_back("gloo");
#endif
#if defined(USE_C10D_NCCL)
  out.push_back("nccl");
#endif
  return out;
}

std::unique_ptr<ProcessGroup> ProcessGroup::join(const LaunchEnv& env, const c10::Device& device, double timeout_s) {
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  const std::string who = "rank " + std::to_string(env.rank) + " of " + std::to_string(env.world_size);
  c10::intrusive_ptr<c10d::Store> store;
  try {
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(env.master_port);
    opts.isServer = env.rank == 0;
    opts.numWorkers = static_cast<std::size_t>(env.world_size);
    opts.waitWorkers = true;
    opts.timeout = timeout;
    store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, opts);
  } catch (const std::exception& e) {
    throw UserError(who + ": the rendezvous at " + where + " failed: " + cause_of(e),
                    env.rank == 0 ? "rank 0 listens on MASTER_PORT: choose a free port (another run may hold it)"
                                  : "check MASTER_ADDR/MASTER_PORT and that rank 0 started (and did not fail: see "
                                    "its error); every rank waits train.dist_timeout seconds for the others");
  }
  try {
    if (device.is_cuda()) {
#if defined(USE_C10D_NCCL)
      auto opts = c10d::ProcessGroupNCCL::Options::create();
      opts->timeout = timeout;
      auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, opts);
      return std::unique_ptr<ProcessGroup>(new ProcessGroup(
          env.rank, env.world_size, "nccl", timeout_s, std::make_unique<C10dBackend<c10d::ProcessGroupNCCL>>(group)));
#else
      throw UserError(who + ": data-parallel training on " + device.str() + " needs NCCL, which this build lacks",
                      "build against a CUDA libtorch with nccl.h found (cmake -DPTFT_NCCL_INCLUDE_DIR=...), "
                      "see docs/distributed.md");
#endif
    }
#if defined(USE_C10D_GLOO)
    auto opts = c10d::ProcessGroupGloo::Options::create(timeout);
    // Gloo's network device: GLOO_SOCKET_IFNAME's interface when set (as in PyTorch), loopback
    // for a single-host run, else the address this host's name resolves to.
    const char* ifname = std::getenv("GLOO_SOCKET_IFNAME");
    const bool local = env.master_addr == "127.0.0.1" || env.master_addr == "localhost";
    opts->devices.push_back(ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                            : local           ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                                              : c10d::ProcessGroupGloo::createDefaultDevice());
    auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, opts);
    return std::unique_ptr<ProcessGroup>(new ProcessGroup(
        env.rank, env.world_size, "gloo", timeout_s, std::make_unique<C10dBackend<c10d::ProcessGroupGloo>>(group)));
#else
    throw UserError(who + ": data-parallel training on the CPU needs Gloo, which this build lacks",
                    "install libgloo-dev (scripts/setup.sh) and rebuild, see docs/distributed.md");
#endif
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    throw UserError(who + ": joining the process group at " + where + " failed: " + cause_of(e),
                    "a rank that started later or failed early leaves the others waiting: see its error");
  }
}

void ProcessGroup::fail(const std::string& what, const std::string& cause) const {
  // A peer that died closes its sockets (noticed at once); one that hangs is given up on after
  // the timeout.
  const bool timed_out = cause.find("imed out") != std::string::npos || cause.find("imeout") != std::string::npos;
  const std::string timeout = config::format_number(timeout_s_);
  throw UserError("rank " + std::to_string(rank_) + " of " + std::to_string(world_size_) +
                      " lost contact with the other data-parallel processes during " + what + ": " + cause,
                  std::string(timed_out ? "another process did not answer within train.dist_timeout (" +
                                              timeout + " s): it hangs, or is slower than that (raise "
                                              "train.dist_timeout for long evaluations or checkpoints)"
                                        : "another process stopped (its own error, if any, is above) or the network "
                                          "failed") +
                      "; resume from the last checkpoint with the same command and --resume (any number of "
                      "processes)");
}

void ProcessGroup::Pending::wait() {
  if (!wait_) return;
  auto w = std::move(wait_);
  wait_ = nullptr;
  try {
    w();
  } catch (const std::exception& e) {
    group_->fail(what_, cause_of(e));
  }
}

ProcessGroup::Pending ProcessGroup::all_reduce_sum_async(at::Tensor& t, const std::string& what) {
  try {
    return Pending(impl_->all_reduce(t), what, this);
  } catch (const std::exception& e) {
    fail(what, cause_of(e));
  }
}

void ProcessGroup::all_reduce_sum(at::Tensor& t, const std::string& what) { all_reduce_sum_async(t, what).wait(); }

void ProcessGroup::broadcast(at::Tensor& t, int root, const std::string& what) {
  try {
    Pending(impl_->broadcast(t, root), what, this).wait();
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    fail(what, cause_of(e));
  }
}

void ProcessGroup::barrier(const std::string& what) {
  try {
    Pending(impl_->barrier(), what, this).wait();
  } catch (const UserError&) {
    throw;
  } catch (const std::exception& e) {
    fail(what, cause_of(e));
  }
}

}  // namespace ptft
