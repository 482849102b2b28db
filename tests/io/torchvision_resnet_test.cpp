// Tests for the resnet family's torchvision format (src/models/resnet_torchvision.cpp): bare torchvision/timm ResNet weights in, torchvision's
// state dict out.
//
// Golden checks: tests/models/resnet_reference.py writes small fixed-weight ResNets (basic and
// bottleneck, both stems, random BatchNorm statistics) in torchvision's names; ptft reads each
// through read_checkpoint (architecture inferred from the tensors) and its eval-mode logits on a
// batch of 2 32x32 images must match the script's independent float64 numpy forward within 1e-4
// (max abs; the logits are O(1..10)). The exports of ptft models must load into torchvision
// itself (load_state_dict strict) and give ptft's logits within 1e-4; that test skips when
// torchvision is not installed (Debian's python3-torchvision; not part of scripts/setup.sh).
// Without python3 + numpy the golden tests skip. Inference, errors and round trips run without Python.
#include "ptft/models/model_files.h"
#include "ptft/models/resnet_torchvision.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "../common/python.h"
#include "../common/temp_dir.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/models/mlp.h"
#include "ptft/transfer/lora.h"

namespace ptft {
namespace {
namespace sfs = std::filesystem;
using test::python_with_numpy;
using test::run_command;
using test::TempDir;

const std::string kReference = PTFT_SOURCE_DIR "/tests/models/resnet_reference.py";

#define REQUIRE_NUMPY_REFERENCE()  \
  if (python_with_numpy().empty()) \
  GTEST_SKIP() << "no python3 with numpy for the reference ResNet (scripts/setup.sh installs python3-numpy; "  \
                  "PTFT_PYTHON picks an interpreter)"

void reference_make(const std::string& file, const std::string& options) {
  int status = 0;
  run_command(python_with_numpy() + " " + kReference + " make " + file + " " + options, &status);
  ASSERT_EQ(status, 0) << "resnet_reference.py make failed";
}

// Logits (B, K) float64 from the reference script's `mode` (logits | torchvision) run by `python`;
// *status as the script's.
torch::Tensor reference_logits(const std::string& python, const std::string& mode, const std::string& weights,
                               const std::string& input, int* status) {
  const std::string out =
      run_command(python + " " + kReference + " " + mode + " " + weights + " " + input + " 2>/dev/null", status);
  if (*status != 0) return {};
  const auto j = nlohmann::json::parse(out);
  std::vector<double> flat;
  for (const auto& row : j["logits"])
    for (const auto& v : row) flat.push_back(v.get<double>());
  return torch::tensor(flat, torch::kFloat64).view({static_cast<int64_t>(j["logits"].size()), -1});
}

// ptft's eval-mode logits of the model that read_checkpoint(path) gives.
torch::Tensor ptft_logits(const std::string& path, const torch::Tensor& x) {
  ModelPtr m = model_from_checkpoint(read_checkpoint(path, false));
  m->eval();
  torch::NoGradGuard ng;
  return m->forward({{"x", x}}).at("logits").to(torch::kFloat64);
}

ResNetConfig small_config() {
  ResNetConfig c;
  c.layers = {1, 1, 1, 1};
  c.width = 8;
  c.num_classes = 4;
  c.stem = "small";
  return c;
}

// A model whose BatchNorm statistics are not the initial ones (two training-mode batches).
std::shared_ptr<ResNetImpl> trained_model(const ResNetConfig& c, int64_t side = 16) {
  auto m = std::make_shared<ResNetImpl>(c);
  m->train();
  torch::NoGradGuard ng;
  for (int i = 0; i < 2; ++i) m->forward({{"x", torch::randn({4, c.in_channels, side, side}) * 2 + 0.5}});
  m->eval();
  return m;
}

TEST(TorchvisionResnet, GoldenLogitsAgainstNumpyReference) {
  REQUIRE_NUMPY_REFERENCE();
  TempDir tmp("tv_golden");
  torch::manual_seed(0);
  const torch::Tensor x = torch::randn({2, 3, 32, 32});
  save_tensors(tmp.path + "/x.safetensors", {{"x", x}});
  struct Case {
    std::string block, stem, layers;
  };
  for (const auto& tc : std::vector<Case>{{"basic", "imagenet", "2,1,1,1"},
                                          {"basic", "small", "1,2,1,1"},
                                          {"bottleneck", "imagenet", "1,2,1,1"},
                                          {"bottleneck", "small", "2,1,1,2"}}) {
    SCOPED_TRACE(tc.block + "/" + tc.stem);
    const std::string file = tmp.path + "/" + tc.block + "_" + tc.stem + ".safetensors";
    reference_make(file, "--block " + tc.block + " --stem " + tc.stem + " --layers " + tc.layers + " --seed 3");

    const Checkpoint c = read_checkpoint(file, false);
    EXPECT_EQ(c.config["layer_type"], tc.block);
    EXPECT_EQ(c.config["stem"], tc.stem);
    EXPECT_EQ(c.config["embedding_size"], 8);
    EXPECT_EQ(c.config["id2label"].size(), 5u);
    EXPECT_EQ(c.config["ptft"]["source"], "torchvision:" + file);

    int status = 0;
    const torch::Tensor ref = reference_logits(python_with_numpy(), "logits", file, tmp.path + "/x.safetensors", &status);
    ASSERT_EQ(status, 0) << "resnet_reference.py logits failed";
    const torch::Tensor ours = ptft_logits(file, x);
    ASSERT_EQ(ours.sizes(), ref.sizes());
    EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-4) << "ptft\n" << ours << "\nreference\n" << ref;
    EXPECT_GT(ref.abs().max().item<double>(), 0.5);  // the comparison is not between near-zero numbers
  }
}

TEST(TorchvisionResnet, TorchvisionLoadsTheExportAndAgrees) {
  const std::string python = test::python_with("numpy, torchvision");
  if (python.empty())
    GTEST_SKIP() << "no python3 with torchvision and numpy (Debian: apt-get install python3-torchvision; "
                    "PTFT_PYTHON picks an interpreter)";
  TempDir tmp("tv_torchvision");
  torch::manual_seed(1);
  struct Case {
    std::string name;
    ResNetConfig cfg;
    int64_t side;
  };
  ResNetConfig r18;  // torchvision.models.resnet18(num_classes=10)
  r18.num_classes = 10;
  ResNetConfig small_gray = r18;  // small stem, 1 channel, bottleneck: conv1/maxpool patched in torchvision
  small_gray.block = "bottleneck";
  small_gray.layers = {1, 1, 2, 1};
  small_gray.in_channels = 1;
  small_gray.stem = "small";
  for (const auto& tc : std::vector<Case>{{"resnet18", r18, 64}, {"small_gray", small_gray, 28}}) {
    SCOPED_TRACE(tc.name);
    auto m = trained_model(tc.cfg, tc.side);
    const std::string out = tmp.path + "/" + tc.name;
    export_model(*m, nullptr, "torchvision", out);
    const torch::Tensor x = torch::randn({2, tc.cfg.in_channels, tc.side, tc.side});
    save_tensors(tmp.path + "/x.safetensors", {{"x", x}});
    int status = 0;
    const torch::Tensor ref =
        reference_logits(python, "torchvision", out + "/model.safetensors", tmp.path + "/x.safetensors", &status);
    ASSERT_NE(status, 3) << "torchvision imports but resnet_reference.py could not import it";
    ASSERT_EQ(status, 0) << "torchvision did not load the export (see resnet_reference.py torchvision)";
    torch::NoGradGuard ng;
    const torch::Tensor ours = m->forward({{"x", x}}).at("logits").to(torch::kFloat64);
    EXPECT_LE((ours - ref).abs().max().item<double>(), 1e-4) << "ptft\n" << ours << "\ntorchvision\n" << ref;
  }
}

TEST(TorchvisionResnet, ExportHasTorchvisionKeysAndReadsBack) {
  TempDir tmp("tv_export");
  torch::manual_seed(2);
  ResNetConfig c = small_config();
  c.block = "bottleneck";
  auto m = trained_model(c);
  m->set_classes({"ant", "bee", "cat", "dog"}, false);
  export_model(*m, nullptr, "torchvision", tmp.path + "/out");

  EXPECT_TRUE(sfs::is_regular_file(tmp.path + "/out/model.safetensors"));
  EXPECT_FALSE(sfs::exists(tmp.path + "/out/config.json"));  // bare weights: the architecture is in the names
  const std::string readme = fs::read_file(tmp.path + "/out/README.md");
  EXPECT_NE(readme.find("block bottleneck, layers [1, 1, 1, 1], width 8"), std::string::npos) << readme;
  EXPECT_NE(readme.find("3: dog"), std::string::npos) << readme;
  std::map<std::string, std::string> meta;
  const TensorMap file = load_tensors(tmp.path + "/out/model.safetensors", &meta);
  EXPECT_EQ(meta["format"], "pt");
  const TensorMap sd = state_dict(*m);
  ASSERT_EQ(file.size(), sd.size());
  for (const auto& [name, t] : sd) {
    ASSERT_TRUE(file.count(name)) << name;
    EXPECT_EQ(file.at(name).scalar_type(), name.find("num_batches_tracked") != std::string::npos ? torch::kLong
                                                                                                : torch::kFloat)
        << name;
    EXPECT_TRUE(torch::equal(file.at(name), t)) << name;
  }

  // The directory (no config.json) and the file both read back as the same model.
  for (const std::string& path : {tmp.path + "/out", tmp.path + "/out/model.safetensors"}) {
    SCOPED_TRACE(path);
    EXPECT_TRUE(is_bare_weights(path));
    EXPECT_TRUE(is_model_path(path));
    Checkpoint r = read_checkpoint(path, false);
    ModelPtr m2 = model_from_checkpoint(r);
    auto* r2 = dynamic_cast<ResNetImpl*>(m2.get());
    ASSERT_NE(r2, nullptr);
    EXPECT_EQ(r2->config().block, "bottleneck");
    EXPECT_EQ(r2->config().stem, "small");
    EXPECT_EQ(r2->config().layers, (std::vector<int64_t>{1, 1, 1, 1}));
    EXPECT_EQ(r2->config().num_classes, 4);
    EXPECT_EQ(r.config["ptft"]["task"], "classification");
    for (const auto& [name, t] : state_dict(*m2)) EXPECT_TRUE(torch::equal(t, sd.at(name))) << name;
  }

  // The output directory must be new (or empty).
  try {
    export_model(*m, nullptr, "torchvision", tmp.path + "/out");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("exists and is not empty"), std::string::npos) << e.message();
  }
  MlpImpl mlp(MlpConfig{});
  try {
    export_model(mlp, nullptr, "torchvision", tmp.path + "/mlp");
    FAIL() << "expected UserError";
  } catch (const UserError& e) {
    EXPECT_NE(e.message().find("a 'mlp' model cannot be exported as 'torchvision'"), std::string::npos) << e.message();
  }
}

TEST(TorchvisionResnet, InfersTheArchitectureFromTheTensors) {
  struct Case {
    ResNetConfig cfg;
  };
  ResNetConfig a = small_config();
  ResNetConfig b = small_config();
  b.block = "bottleneck";
  b.stem = "imagenet";
  b.layers = {2, 1, 3, 1};
  b.in_channels = 1;
  b.width = 4;
  b.num_classes = 7;
  for (const auto& c : {a, b}) {
    const ResNetConfig got = infer_resnet_config(state_dict(ResNetImpl(c)), "w.safetensors");
    EXPECT_EQ(got.block, c.block);
    EXPECT_EQ(got.layers, c.layers);
    EXPECT_EQ(got.width, c.width);
    EXPECT_EQ(got.in_channels, c.in_channels);
    EXPECT_EQ(got.stem, c.stem);
    EXPECT_EQ(got.num_classes, c.num_classes);
  }
}

// Writes the tensors of a small basic ResNet after `edit` to DIR/w.safetensors and returns the
// message of the UserError read_checkpoint throws ("" when it reads fine).
std::string read_error(const TempDir& tmp, const std::function<void(TensorMap&)>& edit) {
  TensorMap t;
  for (const auto& [k, v] : state_dict(ResNetImpl(small_config()))) t[k] = v.clone();
  edit(t);
  const std::string file = tmp.path + "/w.safetensors";
  sfs::remove(file);
  save_tensors(file, t);
  try {
    model_from_checkpoint(read_checkpoint(file, false));
  } catch (const UserError& e) {
    return e.message() + " | hint: " + e.hint();
  }
  return "";
}

TEST(TorchvisionResnet, BadStateDictsAreUserErrorsNamingTheTensor) {
  TempDir tmp("tv_errors");
  struct Case {
    std::function<void(TensorMap&)> edit;
    std::string expected;
  };
  std::vector<Case> cases = {
      {[](TensorMap& t) { t["layer2.0.conv2.weight"] = torch::zeros({16, 16, 5, 5}); },
       "'layer2.0.conv2.weight' is [16, 16, 5, 5], expected [16, 16, 3, 3]"},
      {[](TensorMap& t) { t.erase("layer3.0.bn1.running_var"); }, "lacks tensor(s) layer3.0.bn1.running_var"},
      {[](TensorMap& t) { t["fc2.weight"] = torch::zeros({2, 2}); }, "does not have: fc2.weight"},
      {[](TensorMap& t) { t["layer5.0.conv1.weight"] = torch::zeros({2, 2, 3, 3}); }, "layer5.0.conv1.weight"},
      {[](TensorMap& t) { t.erase("fc.weight"); }, "has no tensor 'fc.weight'"},
      {[](TensorMap& t) { t["conv1.weight"] = torch::zeros({8, 3, 5, 5}); },
       "'conv1.weight' is [8, 3, 5, 5], expected (width, in_channels, 7, 7)"},
      {[](TensorMap& t) { t["layer1.0.bn2.weight"] = torch::zeros({8}, torch::kLong); },
       "'layer1.0.bn2.weight' has dtype Long"},
      {[](TensorMap& t) {
         TensorMap p;
         for (auto& [k, v] : t) p["module." + k] = v;
         t = p;
       },
       "the names carry a prefix ('module.')"},
      {[](TensorMap& t) { t = {{"transformer.wte.weight", torch::zeros({4, 4})}}; }, "holds no tensor 'conv1.weight'"},
  };
  for (const auto& tc : cases) {
    SCOPED_TRACE(tc.expected);
    const std::string msg = read_error(tmp, tc.edit);
    EXPECT_NE(msg.find(tc.expected), std::string::npos) << msg;
    EXPECT_NE(msg.find(tmp.path + "/w.safetensors"), std::string::npos) << msg;
  }
}

TEST(TorchvisionResnet, AcceptsHalfPrecisionAndMissingBatchCounters) {
  TempDir tmp("tv_lenient");
  // Exporters that drop num_batches_tracked (it does not change the outputs) and half-precision files.
  EXPECT_EQ(read_error(tmp,
                       [](TensorMap& t) {
                         for (auto it = t.begin(); it != t.end();)
                           it = it->first.find("num_batches_tracked") != std::string::npos ? t.erase(it) : std::next(it);
                         for (auto& [k, v] : t) v = v.to(torch::kHalf);
                       }),
            "");
  const Checkpoint c = read_checkpoint(tmp.path + "/w.safetensors", false);
  EXPECT_EQ(c.model.at("bn1.num_batches_tracked").item<int64_t>(), 0);
  EXPECT_EQ(c.model.at("bn1.num_batches_tracked").scalar_type(), torch::kLong);
  EXPECT_EQ(c.model.at("conv1.weight").scalar_type(), torch::kFloat);
}

TEST(TorchvisionResnet, OnlySafetensorsFilesAndConfiglessDirectoriesAreBareWeights) {
  TempDir tmp("tv_bare");
  save_tensors(tmp.path + "/w.safetensors", state_dict(ResNetImpl(small_config())));
  EXPECT_TRUE(is_bare_weights(tmp.path + "/w.safetensors"));
  sfs::copy_file(tmp.path + "/w.safetensors", tmp.path + "/w.bin");
  EXPECT_FALSE(is_bare_weights(tmp.path + "/w.bin"));
  EXPECT_FALSE(is_bare_weights(tmp.path));  // no model.safetensors
  sfs::create_directories(tmp.path + "/ckpt");
  sfs::copy_file(tmp.path + "/w.safetensors", tmp.path + "/ckpt/model.safetensors");
  EXPECT_TRUE(is_bare_weights(tmp.path + "/ckpt"));
  std::ofstream(tmp.path + "/ckpt/config.json") << ResNetImpl(small_config()).config_json().dump();
  EXPECT_FALSE(is_bare_weights(tmp.path + "/ckpt"));  // a ptft checkpoint
  EXPECT_TRUE(is_model_path(tmp.path + "/ckpt"));
}

}  // namespace
}  // namespace ptft
