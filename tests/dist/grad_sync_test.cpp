// GradSync and broadcast_module over a real Gloo process group: ranks are threads of this test,
// rendezvous through a TCPStore on a free loopback port. Checked against sums computed by hand.
#include "ptft/dist/grad_sync.h"

#include <gtest/gtest.h>

#include <thread>

#include "../common/user_error.h"
#include "ptft/core/tcp_port.h"

namespace ptft {
namespace {

// Runs body(rank, group) on `world` threads, each in its own process group; rethrows the first
// failure.
void on_ranks(int world, const std::function<void(int, ProcessGroup&)>& body) {
  const int port = free_tcp_port();
  std::vector<std::thread> threads;
  std::vector<std::string> errors(static_cast<size_t>(world));
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        LaunchEnv env;
        env.rank = r;
        env.world_size = world;
        env.master_port = port;
        auto pg = ProcessGroup::join(env, c10::Device("cpu"), 30);
        body(r, *pg);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int r = 0; r < world; ++r) EXPECT_EQ(errors[static_cast<size_t>(r)], "") << "rank " << r;
}

TEST(GradSync, SumsGradientsOverRanksInSeveralBuckets) {
  on_ranks(3, [](int rank, ProcessGroup& pg) {
    EXPECT_EQ(pg.world_size(), 3);
    EXPECT_EQ(pg.rank(), rank);
    EXPECT_EQ(pg.backend(), "gloo");
    // 3 parameters of 1000, 10 and 300 floats; a 4 KB cap puts each in its own bucket but the
    // last two, which share one (reverse order: p2 then p1).
    std::vector<torch::Tensor> params = {torch::zeros({10, 100}), torch::zeros({10}), torch::zeros({3, 100})};
    for (size_t i = 0; i < params.size(); ++i)
      params[i].mutable_grad() = torch::full_like(params[i], static_cast<float>((rank + 1) * (i + 1)));
    GradSync sync(params, pg, /*bucket_mb=*/4.0 / 1024);
    ASSERT_EQ(sync.bucket_count(), 2u);
    EXPECT_EQ(sync.bucket(0), (std::vector<size_t>{2, 1}));
    EXPECT_EQ(sync.bucket(1), (std::vector<size_t>{0}));
    for (int round = 0; round < 2; ++round) {  // the buffers are reused
      sync.all_reduce("test round " + std::to_string(round));
      for (size_t i = 0; i < params.size(); ++i) {
        const float want = static_cast<float>((1 + 2 + 3) * (i + 1)) * (round == 0 ? 1.0f : 3.0f);  // round 1 sums 3 copies of round 0
        EXPECT_TRUE(torch::allclose(params[i].grad(), torch::full_like(params[i], want))) << i << " round " << round;
      }
    }
  });
}

TEST(GradSync, AGradientOnSomeRanksIsTheirSumAndNoneStaysNone) {
  on_ranks(2, [](int rank, ProcessGroup& pg) {
    std::vector<torch::Tensor> params = {torch::zeros({4}), torch::zeros({2, 2}), torch::zeros({3})};
    // p0 on both ranks, p1 only on rank 1, p2 on none (frozen, or unused this step).
    params[0].mutable_grad() = torch::tensor({1.0f, 2.0f, 3.0f, 4.0f}) * static_cast<float>(rank + 1);
    if (rank == 1) params[1].mutable_grad() = torch::tensor({{5.0f, 6.0f}, {7.0f, 8.0f}});
    GradSync sync(params, pg);
    EXPECT_EQ(sync.bucket_count(), 1u);
    sync.all_reduce("test");
    EXPECT_TRUE(torch::equal(params[0].grad(), torch::tensor({3.0f, 6.0f, 9.0f, 12.0f})));
    ASSERT_TRUE(params[1].grad().defined()) << "rank " << rank;
    EXPECT_TRUE(torch::equal(params[1].grad(), torch::tensor({{5.0f, 6.0f}, {7.0f, 8.0f}})));
    EXPECT_FALSE(params[2].grad().defined());
    // The gradient is the parameter's own tensor, not a view of the shared buffer.
    EXPECT_EQ(params[1].grad().sizes(), params[1].sizes());
    params[1].mutable_grad().zero_();
    sync.all_reduce("again");
  });
}

TEST(GradSync, BroadcastModuleCopiesRankZerosParametersAndBuffers) {
  on_ranks(2, [](int rank, ProcessGroup& pg) {
    torch::manual_seed(static_cast<uint64_t>(100 + rank));  // different initial weights per rank
    torch::nn::Sequential net(torch::nn::Linear(3, 4), torch::nn::BatchNorm1d(4), torch::nn::Conv2d(3, 5, 3));
    net->named_buffers()["1.running_mean"].fill_(static_cast<float>(rank + 7));
    // A convolution weight held channels-last (ResNet's): sent in row-major order, kept in its layout.
    torch::Tensor conv = net->named_parameters()["2.weight"];
    conv.set_data(conv.contiguous(torch::MemoryFormat::ChannelsLast));
    broadcast_module(*net, pg, 0);
    EXPECT_TRUE(conv.is_contiguous(torch::MemoryFormat::ChannelsLast));
    // Every rank now holds rank 0's values: its sum, sent by rank 0, equals everyone's.
    for (const auto& kv : net->named_parameters()) {
      torch::Tensor t = kv.value().detach().clone();
      torch::Tensor mine = t.clone();
      pg.broadcast(t, 0, "check " + kv.key());
      EXPECT_TRUE(torch::equal(t, mine)) << kv.key() << " on rank " << rank;
    }
    EXPECT_TRUE(torch::equal(net->named_buffers()["1.running_mean"], torch::full({4}, 7.0f)));
  });
}

TEST(ProcessGroup, ARankThatNeverComesMakesTheRendezvousFailWithTheFix) {
  LaunchEnv env;
  env.rank = 1;
  env.world_size = 2;
  env.master_port = free_tcp_port();
  const std::string err = test::user_error([&] { ProcessGroup::join(env, c10::Device("cpu"), 1.0); });
  EXPECT_NE(err.find("rank 1 of 2: the rendezvous at 127.0.0.1:" + std::to_string(env.master_port) + " failed"),
            std::string::npos) << err;
  EXPECT_NE(err.find("that rank 0 started"), std::string::npos) << err;
}

}  // namespace
}  // namespace ptft
