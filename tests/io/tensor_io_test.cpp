// Tests for ptft/io/tensor_io.h: torch tensors through safetensors files (every stored dtype,
// scalars, empty and non-contiguous tensors; values compared exactly) and load_into's checks.
#include "ptft/io/tensor_io.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

#include "ptft/core/error.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& stem) {
    static int counter = 0;
    path = ::testing::TempDir() + "ptft_tensor_io_" + stem + "_" + std::to_string(::getpid()) + "_" +
           std::to_string(counter++) + ".safetensors";
  }
  ~TempFile() {
    std::error_code ec;
    sfs::remove(path, ec);
  }
};

TEST(TensorIo, EveryDtypeRoundTripsExactly) {
  auto gen = at::detail::createCPUGenerator(3);
  TensorMap t;
  t["f32"] = torch::randn({3, 4}, gen);
  t["f64"] = torch::randn({5}, gen, torch::kDouble);
  t["f16"] = torch::randn({2, 3}, gen).to(torch::kHalf);
  t["bf16"] = torch::randn({4, 2}, gen).to(torch::kBFloat16);
  t["i64"] = torch::randint(-1000000, 1000000, {7}, gen, torch::kLong);
  t["i32"] = torch::randint(-1000, 1000, {2, 2}, gen, torch::kInt);
  t["i16"] = torch::randint(-1000, 1000, {3}, gen, torch::kShort);
  t["i8"] = torch::randint(-100, 100, {3}, gen, torch::kChar);
  t["u8"] = torch::randint(0, 256, {9}, gen, torch::kByte);
  t["bool"] = torch::rand({6}, gen) > 0.5;
  t["scalar"] = torch::tensor(2.5f).reshape({});          // shape ()
  t["empty"] = torch::zeros({0, 3});                       // numel 0
  t["noncontig"] = torch::arange(12, torch::kFloat).reshape({3, 4}).t();  // (4, 3), strides (1, 4)
  ASSERT_FALSE(t["noncontig"].is_contiguous());
  ASSERT_EQ(t["scalar"].dim(), 0);

  TempFile f("dtypes");
  save_tensors(f.path, t, {{"format", "pt"}, {"note", "test"}});
  std::map<std::string, std::string> meta;
  TensorMap r = load_tensors(f.path, &meta);
  EXPECT_EQ(meta, (std::map<std::string, std::string>{{"format", "pt"}, {"note", "test"}}));
  ASSERT_EQ(r.size(), t.size());
  for (const auto& [name, v] : t) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(r.count(name));
    EXPECT_EQ(r.at(name).scalar_type(), v.scalar_type());
    EXPECT_EQ(r.at(name).sizes(), v.sizes());
    EXPECT_TRUE(torch::equal(r.at(name), v));
  }
  // The non-contiguous tensor was stored in logical order.
  EXPECT_EQ(r.at("noncontig")[0][1].item<float>(), 4.0f);
}

TEST(TensorIo, LoadedTensorsOutliveTheMappingHandleAndAreWritableCopies) {
  TempFile f("cow");
  save_tensors(f.path, {{"w", torch::ones({4})}});
  torch::Tensor w;
  {
    TensorMap r = load_tensors(f.path);
    w = r.at("w");
  }
  w.add_(1.0);  // copy-on-write: the file is not modified
  EXPECT_TRUE(torch::equal(w, torch::full({4}, 2.0f)));
  EXPECT_TRUE(torch::equal(load_tensors(f.path).at("w"), torch::ones({4})));
}

TEST(TensorIo, SaveIsAtomicOverAnExistingFile) {
  TempFile f("overwrite");
  save_tensors(f.path, {{"a", torch::ones({2})}});
  save_tensors(f.path, {{"b", torch::zeros({3})}});
  TensorMap r = load_tensors(f.path);
  EXPECT_EQ(r.size(), 1u);
  EXPECT_TRUE(r.count("b"));
}

TEST(TensorIo, LoadMissingFileIsUserErrorNamingIt) {
  const std::string path = ::testing::TempDir() + "ptft_tensor_io_does_not_exist.safetensors";
  try {
    load_tensors(path);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find(path), std::string::npos) << e.message();
  }
}

TEST(TensorIo, StateDictHasParametersAndBuffers) {
  torch::nn::Sequential m(torch::nn::Linear(3, 2), torch::nn::BatchNorm1d(2));
  TensorMap sd = state_dict(*m);
  for (const char* k : {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                        "1.num_batches_tracked"})
    EXPECT_TRUE(sd.count(k)) << k;
  EXPECT_EQ(sd.size(), 7u);
}

// Two Linear(3, 2) modules with different weights.
struct Pair {
  torch::nn::Linear src{3, 2}, dst{3, 2};
  Pair() {
    torch::NoGradGuard ng;
    src->weight.fill_(1.5);
    src->bias.fill_(-2.0);
  }
};

TEST(LoadInto, CopiesByNameFromAFile) {
  Pair p;
  TempFile f("load_into");
  save_tensors(f.path, state_dict(*p.src));
  LoadReport rep = load_into(*p.dst, load_tensors(f.path), f.path);
  EXPECT_EQ(rep.loaded, (std::vector<std::string>{"bias", "weight"}));
  EXPECT_TRUE(rep.missing.empty());
  EXPECT_TRUE(rep.unexpected.empty());
  EXPECT_TRUE(torch::equal(p.dst->weight, p.src->weight));
  EXPECT_TRUE(torch::equal(p.dst->bias, p.src->bias));
  EXPECT_TRUE(p.dst->weight.requires_grad());  // still a trainable parameter, not replaced
}

TEST(LoadInto, ShapeMismatchListsTensorAndBothShapes) {
  Pair p;
  TensorMap t = state_dict(*p.src);
  t["weight"] = torch::zeros({2, 4});
  const auto before = p.dst->bias.clone();
  try {
    load_into(*p.dst, t, "ckpt/model.safetensors", /*strict=*/false);
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    const std::string& m = e.message();
    EXPECT_NE(m.find("ckpt/model.safetensors"), std::string::npos) << m;
    EXPECT_NE(m.find("weight: file [2, 4] vs model [2, 3]"), std::string::npos) << m;
  }
  // Nothing was copied: a failed load does not leave a half-loaded model.
  EXPECT_TRUE(torch::equal(p.dst->bias, before));
}

TEST(LoadInto, StrictMissingAndUnexpectedAreErrors) {
  Pair p;
  TensorMap t = state_dict(*p.src);
  t.erase("bias");
  t["extra.scale"] = torch::ones({1});
  try {
    load_into(*p.dst, t, "x.safetensors");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("missing bias"), std::string::npos) << e.message();
    EXPECT_NE(e.message().find("unexpected extra.scale"), std::string::npos) << e.message();
  }
  EXPECT_FALSE(torch::equal(p.dst->weight, p.src->weight));  // strict failure copies nothing
}

TEST(LoadInto, NonStrictReturnsTheListsAndLoadsTheRest) {
  Pair p;
  TensorMap t = state_dict(*p.src);
  t.erase("bias");
  t["extra.scale"] = torch::ones({1});
  const auto bias_before = p.dst->bias.clone();
  LoadReport rep = load_into(*p.dst, t, "x.safetensors", /*strict=*/false);
  EXPECT_EQ(rep.loaded, std::vector<std::string>{"weight"});
  EXPECT_EQ(rep.missing, std::vector<std::string>{"bias"});
  EXPECT_EQ(rep.unexpected, std::vector<std::string>{"extra.scale"});
  EXPECT_TRUE(torch::equal(p.dst->weight, p.src->weight));
  EXPECT_TRUE(torch::equal(p.dst->bias, bias_before));
}

TEST(LoadInto, ConvertsDtypeToTheModels) {
  Pair p;
  TensorMap t = state_dict(*p.src);
  for (auto& [k, v] : t) v = v.to(torch::kBFloat16);  // 1.5 and -2.0 are exact in bf16
  load_into(*p.dst, t, "bf16.safetensors");
  EXPECT_EQ(p.dst->weight.scalar_type(), torch::kFloat);
  EXPECT_TRUE(torch::equal(p.dst->weight, p.src->weight));
}

}  // namespace
}  // namespace ptft
