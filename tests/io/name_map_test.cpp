// Tests for ptft/io/name_map.h: name patterns, and the converter in both directions (renames,
// transposes, fused concat and slices, aliases, tied copies, ignored, optional and defaulted
// tensors) with the messages its errors give.
#include "ptft/io/name_map.h"

#include <gtest/gtest.h>

#include "../common/user_error.h"

namespace ptft {
namespace {

using test::contains;
using test::user_error_of;

ForeignTensors foreign(const TensorMap& t) {
  ForeignTensors f;
  f.tensors = t;
  for (const auto& kv : t) f.file_of[kv.first] = "w.safetensors";
  return f;
}

TEST(NameMap, PatternsCaptureOnePartOrAnyRest) {
  std::vector<std::string> caps;
  EXPECT_TRUE(match_name("h.*.attn.bias", "h.12.attn.bias", &caps));
  EXPECT_EQ(caps, (std::vector<std::string>{"12"}));
  EXPECT_FALSE(match_name("h.*.attn.bias", "h.1.attn.c_attn.bias"));  // `*` never spans a dot
  EXPECT_FALSE(match_name("h.*.attn.bias", "h..attn.bias"));          // nor matches nothing
  caps.clear();
  EXPECT_TRUE(match_name("**.LayerNorm.gamma", "bert.encoder.layer.0.output.LayerNorm.gamma", &caps));
  EXPECT_EQ(caps, (std::vector<std::string>{"bert.encoder.layer.0.output"}));
  caps.clear();
  EXPECT_TRUE(match_name("a.*.b.**", "a.3.b.weight", &caps));
  EXPECT_EQ(fill_name("x.*.y.**", caps), "x.3.y.weight");
  EXPECT_TRUE(match_name("exact", "exact"));
  EXPECT_FALSE(match_name("exact", "exact.weight"));
}

TEST(NameMap, RenamesTransposesAndConcatenatesBothWays) {
  NameMap m;
  m.rules = {{"l.*.qkv.weight", {"l.*.q.weight", "l.*.k.weight", "l.*.v.weight"}},
             {"l.*.proj.weight", {"l.*.dense.weight"}, /*transpose=*/true}};
  const TensorMap state = {{"l.0.qkv.weight", torch::arange(24.f).view({6, 4})},
                           {"l.0.proj.weight", torch::arange(6.f).view({2, 3})},
                           {"emb", torch::ones({5, 2})}};
  const TensorMap out = to_foreign(m, state);
  ASSERT_EQ(out.size(), 5u);
  EXPECT_TRUE(torch::equal(out.at("l.0.k.weight"), torch::arange(8.f, 16.f).view({2, 4})));
  EXPECT_TRUE(torch::equal(out.at("l.0.dense.weight"), state.at("l.0.proj.weight").t()));
  EXPECT_TRUE(torch::equal(out.at("emb"), state.at("emb")));
  TensorMap half;  // stored in another precision: converted to the model's
  for (const auto& [n, t] : out) half[n] = t.to(torch::kHalf);
  const MappedWeights back = from_foreign(m, foreign(half), state, "w.safetensors");
  EXPECT_TRUE(back.fresh.empty());
  for (const auto& [n, t] : state) {
    EXPECT_EQ(back.tensors.at(n).scalar_type(), torch::kFloat) << n;
    EXPECT_TRUE(torch::equal(back.tensors.at(n), t)) << n;
  }
}

TEST(NameMap, SlicesOfAFusedForeignTensor) {
  // Three ptft tensors are the thirds of one foreign (6, 2) tensor (an old fused q|k|v).
  NameMap m;
  const char* parts[] = {"q", "k", "v"};
  for (int i = 0; i < 3; ++i) {
    NameRule r{std::string(parts[i]) + ".**", {"qkv.**"}};
    r.part = {i, 3};
    m.rules.push_back(r);
  }
  const torch::Tensor fused = torch::arange(12.f).view({6, 2});
  const TensorMap expected = {{"q.weight", torch::zeros({2, 2})}, {"k.weight", torch::zeros({2, 2})},
                              {"v.weight", torch::zeros({2, 2})}};
  const MappedWeights w = from_foreign(m, foreign({{"qkv.weight", fused}}), expected, "old");
  EXPECT_TRUE(torch::equal(w.tensors.at("k.weight"), fused.narrow(0, 2, 2)));
  EXPECT_TRUE(torch::equal(to_foreign(m, w.tensors).at("qkv.weight"), fused));
}

TEST(NameMap, AliasesTiedIgnoredAndOptional) {
  NameMap m;
  m.rules = {{"pooler.**", {}, false, Presence::kOptional}, {"**.count", {}, false, Presence::kDefaulted}};
  m.aliases = {{"h.**", "t.h.**"}, {"**.gamma", "**.weight"}};
  m.tied = {{"head.weight", "t.wte.weight"}, {"dec.bias", "bias", /*stands_in=*/true}};
  m.ignored = {"t.h.*.mask"};
  const TensorMap expected = {{"t.wte.weight", torch::zeros({3, 2})}, {"t.h.0.ln.weight", torch::zeros({2})},
                              {"pooler.w", torch::full({2}, 7.f)}, {"bn.count", torch::full({}, 5, torch::kLong)},
                              {"bias", torch::zeros({3})}};
  const torch::Tensor wte = torch::rand({3, 2}), gamma = torch::rand({2}), b = torch::rand({3});
  const MappedWeights w = from_foreign(m, foreign({{"t.wte.weight", wte}, {"h.0.ln.gamma", gamma},
                                                   {"head.weight", wte.clone()}, {"t.h.0.mask", torch::ones({4})},
                                                   {"dec.bias", b}}),
                                       expected, "dir");
  EXPECT_TRUE(torch::equal(w.tensors.at("t.h.0.ln.weight"), gamma));
  EXPECT_TRUE(torch::equal(w.tensors.at("bias"), b)) << "the tied copy stands in for the missing tensor";
  EXPECT_EQ(w.tensors.at("pooler.w")[0].item<float>(), 7.f) << "optional: the model's value kept";
  EXPECT_EQ(w.tensors.at("bn.count").item<int64_t>(), 5) << "defaulted: the model's value kept";
  EXPECT_EQ(w.fresh, (std::vector<std::string>{"pooler.w"})) << "only the optional one is noted";

  const std::string err = user_error_of([&] {
    from_foreign(m, foreign({{"t.wte.weight", wte}, {"h.0.ln.weight", gamma}, {"head.weight", wte + 1}, {"bias", b}}),
                 expected, "dir");
  });
  EXPECT_TRUE(contains(err, "'w.safetensors': head.weight differs from t.wte.weight")) << err;
}

TEST(NameMap, ErrorsNameTheTensorsAndTheSource) {
  NameMap m;
  m.model = "GPT-2";
  m.architecture = "config.json";
  m.shape_source = "config.json says";
  m.missing_hint = "incomplete";
  m.unknown_hint = "is this GPT-2?";
  m.rules = {{"w", {}, /*transpose=*/true}};
  const TensorMap expected = {{"w", torch::zeros({2, 3})}, {"b", torch::zeros({2})}};
  std::string err = user_error_of([&] { from_foreign(m, foreign({{"w", torch::zeros({2, 3})}, {"b", torch::zeros({2})}}), expected, "dir"); });
  EXPECT_TRUE(contains(err, "'dir': 1 tensor(s) do not fit config.json: 'w' is [2, 3], config.json says [3, 2] (stored as in, out)")) << err;
  err = user_error_of([&] { from_foreign(m, foreign({{"w", torch::zeros({3, 2})}}), expected, "dir"); });
  EXPECT_TRUE(contains(err, "'dir' lacks tensor(s) b")) << err;
  EXPECT_TRUE(contains(err, "incomplete")) << err;
  err = user_error_of([&] {
    from_foreign(m, foreign({{"w", torch::zeros({3, 2})}, {"b", torch::zeros({2})}, {"extra", torch::zeros({1})}}), expected, "dir");
  });
  EXPECT_TRUE(contains(err, "'dir' holds tensor(s) that GPT-2 does not have: extra")) << err;
  EXPECT_TRUE(contains(err, "is this GPT-2?")) << err;
  err = user_error_of([&] { from_foreign(m, foreign({{"w", torch::zeros({3, 2}, torch::kLong)}, {"b", torch::zeros({2})}}), expected, "dir"); });
  EXPECT_TRUE(contains(err, "'w.safetensors': tensor 'w' has dtype Long, expected a floating-point type")) << err;
  NameMap aliased;
  aliased.aliases = {{"h.**", "t.h.**"}};
  err = user_error_of([&] {
    from_foreign(aliased, foreign({{"h.0", torch::zeros({1})}, {"t.h.0", torch::zeros({1})}}), {{"t.h.0", torch::zeros({1})}}, "dir");
  });
  EXPECT_TRUE(contains(err, "appears twice")) << err;
}

}  // namespace
}  // namespace ptft
