// tests/common/golden.h — comparing ptft's outputs with a reference script's JSON, and ptft's
// exported weights files with the reference's.
//
//   torch::Tensor ref = test::json_tensor(j["logits"]);      // nested lists -> float64 (T,V)
//   EXPECT_LE(test::max_abs_diff(ours, ref), 1e-4);
//   test::expect_same_tensors(ref_dir + "/model.safetensors", out + "/model.safetensors",
//                             [](const std::string& name) { return name == "lm_head.weight"; });
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/io/safetensors.h"

namespace ptft::test {

// A number or (nested, rectangular) lists of numbers as a float64 tensor of that shape.
inline torch::Tensor json_tensor(const nlohmann::json& j) {
  std::vector<int64_t> shape;
  for (const nlohmann::json* d = &j; d->is_array(); d = &d->front()) {
    shape.push_back(static_cast<int64_t>(d->size()));
    if (d->empty()) break;
  }
  std::vector<double> flat;
  auto walk = [&flat](const nlohmann::json& x, auto&& self) -> void {
    if (!x.is_array()) return flat.push_back(x.get<double>());
    for (const auto& e : x) self(e, self);
  };
  walk(j, walk);
  return torch::tensor(flat, torch::kFloat64).reshape(shape);
}

inline double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
}

// `exported` (format "pt") holds every tensor of `original` but those `omitted` names (what HF
// leaves out: tied copies, buffers), under the same name and shape, as float32, and nothing else.
inline void expect_same_tensors(const std::string& original, const std::string& exported,
                                const std::function<bool(const std::string&)>& omitted) {
  auto orig = safetensors::File::open(original);
  auto out = safetensors::File::open(exported);
  EXPECT_EQ(out->metadata().at("format"), "pt");
  size_t expected = 0;
  for (const auto& t : orig->tensors()) {
    if (omitted(t.name)) continue;
    ++expected;
    const auto* e = out->find(t.name);
    ASSERT_NE(e, nullptr) << t.name << " missing from " << exported;
    EXPECT_EQ(e->shape, t.shape) << t.name;
    EXPECT_EQ(e->dtype, safetensors::DType::F32) << t.name;
  }
  EXPECT_EQ(out->tensors().size(), expected);
}

}  // namespace ptft::test
