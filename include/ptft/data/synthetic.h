// ptft/data/synthetic.h — generated data sets for tests and smoke runs (no files needed).
//
// "synthetic:spirals?classes=3&n=3000&noise=0.2": K interleaved 2-D spirals, a classic
// non-linear classification task. Points are a pure function of (seed, split, index), so the
// train and val splits differ and every run sees the same data.
//
// "synthetic:tokens?vocab=V&n=N": uniform random token windows of the model's context
// (DataContext.block_size), for throughput runs of language models without a corpus. Batches
// are {"input_ids", "targets"} (B,T) int64 as TokenWindows gives them (targets = inputs shifted
// left by one), weight B*T. Window i of a split is a pure function of (seed, split, i); training
// example e of the BatchAddress stream is window e (an endless stream, never repeated), and
// evaluation covers windows [0, N) (N defaults to 4096 for train, 256 otherwise; size() = N).
// vocab defaults to DataContext.vocab_size.
//
//   auto src = make_synthetic("spirals?classes=3&n=2048", "train", ctx, "data.train");
//   auto lm = make_synthetic("tokens?vocab=8000", "train", ctx, "data.train");  // ctx.block_size = T
#pragma once

#include "ptft/data/data_source.h"

namespace ptft {

std::unique_ptr<DataSource> make_synthetic(const std::string& spec, const std::string& split,
                                           const DataContext& ctx, const std::string& key);

}  // namespace ptft
