// End-to-end: `ptft export` reads bare torchvision ResNet weights (a .safetensors file, the
// architecture inferred from the names) and writes them back as torchvision's state dict
// (`--format torchvision`) or as a ptft checkpoint (`--format ptft`), bytes unchanged; formats
// that do not fit the family are user errors. The weights come from the numpy reference script
// (tests/models/resnet_reference.py); without python3 + numpy the test skips.
#include <gtest/gtest.h>

#include "../common/python.h"
#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;
using e2e::contains;

TEST(ResnetExportE2E, TorchvisionWeightsExportAsTorchvisionAndPtft) {
  if (ptft::test::python_with_numpy().empty()) GTEST_SKIP() << "no python3 with numpy for resnet_reference.py";
  e2e::TempDir tmp;
  const std::string weights = tmp.path("r.safetensors");
  int status = 0;
  ptft::test::run_command(ptft::test::python_with_numpy() + " " PTFT_SOURCE_DIR "/tests/models/resnet_reference.py make " +
                              weights + " --block bottleneck --stem small --layers 1,2,1,1 --classes 3",
                          &status);
  ASSERT_EQ(status, 0) << "resnet_reference.py make failed";

  auto tv = e2e::run_ptft({"export", "--model", weights, "--format", "torchvision", "--out", tmp.path("tv")});
  ASSERT_EQ(tv.exit_code, 0) << tv.text();
  EXPECT_TRUE(contains(tv.err, "(resnet, no tokenizer) as torchvision")) << tv.err;
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(weights), e2e::read_tensors(tmp.path("tv/model.safetensors"))));
  EXPECT_TRUE(contains(e2e::read_text(tmp.path("tv/README.md")), "layers [1, 2, 1, 1]"));

  // The exported directory is itself bare weights: export it as a ptft checkpoint.
  auto pt = e2e::run_ptft({"export", "--model", tmp.path("tv"), "--format", "ptft", "--out", tmp.path("pt")});
  ASSERT_EQ(pt.exit_code, 0) << pt.text();
  const auto cfg = e2e::read_json(tmp.path("pt/config.json"));
  EXPECT_EQ(cfg["model_type"], "resnet");
  EXPECT_EQ(cfg["ptft"]["family"], "resnet");
  EXPECT_EQ(cfg["layer_type"], "bottleneck");
  EXPECT_EQ(cfg["depths"], nlohmann::json({1, 2, 1, 1}));
  EXPECT_EQ(cfg["id2label"].size(), 3u);
  EXPECT_TRUE(e2e::same_tensors(e2e::read_tensors(weights), e2e::read_tensors(tmp.path("pt/model.safetensors"))));

  auto hf = e2e::run_ptft({"export", "--model", weights, "--format", "hf", "--out", tmp.path("hf")});
  EXPECT_EQ(hf.exit_code, 1) << hf.text();
  EXPECT_TRUE(contains(hf.err, "a 'resnet' model cannot be exported as 'hf'")) << hf.err;
  EXPECT_TRUE(contains(hf.err, "a resnet model exports as: torchvision (a torchvision ResNet state dict as "
                               "model.safetensors), ptft")) << hf.err;
  EXPECT_FALSE(sfs::exists(tmp.path("hf")));
}

}  // namespace
