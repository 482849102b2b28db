// nn/module_path.h: children under dotted paths get ModuleDict containers shared by a prefix,
// are found again by path, and a PathCloneable module's clone points its members at its own copies.
#include "ptft/nn/module_path.h"

#include <gtest/gtest.h>

#include "ptft/core/error.h"
#include "ptft/nn/linear.h"

namespace ptft {
namespace {

struct TwoLevelImpl : nn::PathCloneable<TwoLevelImpl> {
  TwoLevelImpl() { reset(); }
  void reset() override {
    nn::register_at(*this, "a.b.first", nn::Linear(nn::LinearOptions(3, 2)));
    nn::register_at(*this, "a.second", torch::nn::Linear(2, 2));
    nn::register_at(*this, "plain", nn::Linear(nn::LinearOptions(2, 1)));
    bind();
  }
  void bind() { first = nn::module_at<nn::Linear>(*this, "a.b.first"); }
  nn::Linear first{nullptr};
};
TORCH_MODULE(TwoLevel);

TEST(ModulePath, PathsBecomeParameterNamesWithSharedContainers) {
  TwoLevel m;
  std::vector<std::string> names;
  for (const auto& p : m->named_parameters()) names.push_back(p.key());
  EXPECT_EQ(names, (std::vector<std::string>{"a.b.first.weight", "a.b.first.bias", "a.second.weight", "a.second.bias",
                                             "plain.weight", "plain.bias"}));
  EXPECT_EQ(m->named_children().size(), 2u);  // "a" and "plain"
  EXPECT_TRUE(nn::module_at(*m, "a.b")->as<torch::nn::ModuleDictImpl>());
  EXPECT_TRUE(m->first->weight.is_same(m->named_parameters()["a.b.first.weight"]));
  EXPECT_THROW(nn::module_at(*m, "a.b.third"), InternalError);
  EXPECT_THROW(nn::module_at<torch::nn::LayerNorm>(*m, "plain"), InternalError);
  EXPECT_THROW(nn::register_at(*m, "plain.x", nn::Linear(nn::LinearOptions(1, 1))), InternalError);  // not a container
}

TEST(ModulePath, CloneCopiesEveryPathAndRebindsTheMembers) {
  TwoLevel m;
  auto c = std::dynamic_pointer_cast<TwoLevelImpl>(m->clone());
  ASSERT_TRUE(c);
  const auto mine = m->named_parameters(), theirs = c->named_parameters();
  ASSERT_EQ(mine.keys(), theirs.keys());
  for (const auto& p : mine) {
    EXPECT_TRUE(torch::equal(p.value(), theirs[p.key()])) << p.key();
    EXPECT_FALSE(p.value().is_same(theirs[p.key()])) << p.key();
  }
  EXPECT_TRUE(c->first->weight.is_same(theirs["a.b.first.weight"]));
}

}  // namespace
}  // namespace ptft
