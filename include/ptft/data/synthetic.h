// ptft/data/synthetic.h — generated data sets for tests and smoke runs (no files needed).
//
// "synthetic:spirals?classes=3&n=3000&noise=0.2": K interleaved 2-D spirals, a classic
// non-linear classification task. Points are a pure function of (seed, split, index), so the
// train and val splits differ and every run sees the same data.
//
//   auto src = make_synthetic("spirals?classes=3&n=2048", "train", ctx, "data.train");
#pragma once

#include "ptft/data/data_source.h"

namespace ptft {

std::unique_ptr<DataSource> make_synthetic(const std::string& spec, const std::string& split,
                                           const DataContext& ctx, const std::string& key);

}  // namespace ptft
