// End-to-end: image classification with the real binary on real and generated images.
//  - Fashion-MNIST (Debian's dataset-fashion-mnist): pre-train the small ResNet on 3 classes,
//    fine-tune a new 2-class head on 2 other classes, evaluate on the official test file.
//  - A class-folder data set of generated BMPs (horizontal vs vertical stripes): train, then
//    `ptft predict` labels unseen images; corrupt images are errors naming the file.
//  - precision: auto for a ResNet-18 step on a bf16 CPU: measured, recorded, kept on resume.
#include <gtest/gtest.h>

#include <fstream>

#include "run_ptft.h"

namespace {
namespace sfs = std::filesystem;
using e2e::contains;

const std::string kFmnist = "/usr/share/datasets/fashion-mnist";
const std::string kNames =
    "[T-shirt/top, Trouser, Pullover, Dress, Coat, Sandal, Shirt, Sneaker, Bag, Ankle boot]";

// A 24-bit BMP (bottom-up rows padded to 4 bytes), written by hand so the test does not use the
// decoder under test to make its input. pixel(x, y) -> grey value.
void write_bmp(const std::string& path, int w, int h, const std::function<uint8_t(int, int)>& pixel) {
  const int row = (3 * w + 3) / 4 * 4;
  const uint32_t data = static_cast<uint32_t>(row * h), file = 54 + data;
  std::vector<uint8_t> b(file, 0);
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
  };
  b[0] = 'B';
  b[1] = 'M';
  put32(2, file);
  put32(10, 54);
  put32(14, 40);
  put32(18, static_cast<uint32_t>(w));
  put32(22, static_cast<uint32_t>(h));
  b[26] = 1;   // planes
  b[28] = 24;  // bits per pixel
  put32(34, data);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) {
      const uint8_t v = pixel(x, h - 1 - y);
      for (int c = 0; c < 3; ++c) b[54 + y * row + 3 * x + c] = v;
    }
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), b.size());
}

// Stripes of period 4 with a random phase: "horizontal" varies along y, "vertical" along x.
void write_stripes(const std::string& path, bool horizontal, int phase, int size = 20) {
  write_bmp(path, size, size, [&](int x, int y) {
    const int t = (horizontal ? y : x) + phase;
    return static_cast<uint8_t>(t % 4 < 2 ? 230 : 25);
  });
}

std::string stripes_dataset(const e2e::TempDir& tmp, const std::string& name, int per_class, int seed) {
  const std::string dir = tmp.path(name);
  for (const char* cls : {"horizontal", "vertical"}) {
    sfs::create_directories(dir + "/" + cls);
    for (int i = 0; i < per_class; ++i)
      write_stripes(dir + "/" + cls + "/img" + std::to_string(i) + ".bmp", std::string(cls) == "horizontal",
                    (i * 7 + seed) % 4);
  }
  return dir;
}

std::string write_config(const e2e::TempDir& tmp, const std::string& name, const std::string& yaml) {
  const std::string path = tmp.path(name);
  e2e::write_text(path, yaml);
  return path;
}

std::vector<std::string> train_args(const std::string& command, const std::string& config, const std::string& out,
                                    std::vector<std::string> extra = {}) {
  return e2e::concat({command, "--config", config, "--out", out, "--threads", "1", "--quiet"}, extra);
}

TEST(VisionE2E, FashionMnistPretrainThenNewHeadThenTestEval) {
  if (!sfs::exists(kFmnist + "/train-images-idx3-ubyte.gz")) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  e2e::TempDir tmp;
  const std::string common =
      "model: {family: resnet, preset: resnet-fmnist}\n"
      "data:\n"
      "  train: " + kFmnist + "/train-images-idx3-ubyte.gz\n"
      "  images:\n"
      "    val_fraction: 0.01\n"
      "    class_names: " + kNames + "\n";
  const std::string pre_cfg = write_config(tmp, "pre.yaml", common +
      "    classes: [Trouser, Bag, Sneaker]\n"
      "    per_class: 100\n"
      "    augment: {hflip: 0.5, pad_crop: 2}\n"
      "train: {steps: 30, batch_size: 32, lr: 2.0e-3, warmup: 5, eval_every: 30, save_every: 30}\n");
  const std::string pre = tmp.path("pre");
  auto r = e2e::run_ptft(train_args("pretrain", pre_cfg, pre), {}, std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto cfg = e2e::read_json(pre + "/checkpoints/last/config.json");
  EXPECT_EQ(cfg["id2label"]["0"], "Trouser") << cfg.dump();
  EXPECT_EQ(cfg["ptft"]["images"]["preprocess"]["size"], 28) << cfg.dump();
  auto summary = e2e::read_json(pre + "/summary.json");
  EXPECT_GT(summary["last_eval"]["val_accuracy"].get<double>(), 0.6) << summary.dump();
  EXPECT_EQ(summary["last_eval"]["val_confusion"].size(), 3u);

  // Fine-tune: other classes -> a new 2-class head; the stem stays frozen (strategy freeze).
  const std::string ft_cfg = write_config(tmp, "ft.yaml", common +
      "    classes: [Pullover, Coat]\n"
      "    per_class: 20\n"
      "train: {steps: 10, batch_size: 20, lr: 1.0e-3, warmup: 2, eval_every: 10, save_every: 10}\n"
      "finetune: {strategy: freeze, freeze_layers: 1}\n");
  const std::string ft = tmp.path("ft");
  r = e2e::run_ptft(e2e::concat(train_args("finetune", ft_cfg, ft), {"--from", pre}), {}, std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto pre_w = e2e::read_tensors(pre + "/checkpoints/last/model.safetensors");
  auto ft_w = e2e::read_tensors(ft + "/checkpoints/last/model.safetensors");
  EXPECT_EQ(ft_w.at("fc.weight").shape, (std::vector<int64_t>{2, pre_w.at("fc.weight").shape[1]}));
  EXPECT_EQ(ft_w.at("conv1.weight").bytes, pre_w.at("conv1.weight").bytes);          // frozen stem
  EXPECT_EQ(ft_w.at("bn1.running_mean").bytes, pre_w.at("bn1.running_mean").bytes);  // frozen BN: stats untouched
  EXPECT_NE(ft_w.at("layer4.0.conv1.weight").bytes, pre_w.at("layer4.0.conv1.weight").bytes);
  auto ft_cfg_json = e2e::read_json(ft + "/checkpoints/last/config.json");
  EXPECT_EQ(ft_cfg_json["id2label"]["1"], "Coat");

  // Test file: the 1,000 + 1,000 Pullover and Coat images of t10k, labelled by the record.
  r = e2e::run_ptft({"eval", "--model", ft, "--data", kFmnist + "/t10k-images-idx3-ubyte.gz", "--json", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto m = nlohmann::json::parse(r.out);
  EXPECT_EQ(m["examples"], 2000) << m.dump();
  EXPECT_EQ(m["classes"], nlohmann::json::parse(R"(["Pullover", "Coat"])"));
  EXPECT_EQ(m["confusion"][0][0].get<int64_t>() + m["confusion"][0][1].get<int64_t>(), 1000);
  EXPECT_GT(m["accuracy"].get<double>(), 0.5) << m.dump();
  // Without --json: the per-class table.
  r = e2e::run_ptft({"eval", "--model", ft, "--data", kFmnist + "/t10k-images-idx3-ubyte.gz", "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.out, "Pullover") && contains(r.out, "confusion matrix")) << r.out;

  // finetune.strategy auto on a ResNet: LoRA has nothing to adapt (no projections), so the default
  // candidates lose it with a warning; listing it explicitly is an error.
  const std::string auto_run = tmp.path("auto");
  r = e2e::run_ptft({"finetune", "--config", ft_cfg, "--out", auto_run, "--threads", "1", "--from", pre, "--set",
                     "finetune.strategy=auto", "--set", "finetune.auto.trial_steps=3"},
                    {}, std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.err, "the model has no projections LoRA can adapt, so lora is not tried")) << r.err;
  const auto search = e2e::read_json(auto_run + "/strategy_search.json");
  std::vector<std::string> tried;
  for (const auto& c : search["candidates"]) tried.push_back(c["strategy"]);
  EXPECT_EQ(tried, (std::vector<std::string>{"head", "freeze", "full"})) << search.dump();
  EXPECT_EQ(e2e::read_json(auto_run + "/summary.json")["steps"], 10);
  r = e2e::run_ptft({"finetune", "--config", ft_cfg, "--out", tmp.path("auto-lora"), "--threads", "1", "--from", pre,
                     "--set", "finetune.strategy=auto", "--set", "finetune.auto.trial_steps=3", "--set",
                     "finetune.auto.candidates=[head, lora]"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "candidate lora needs a model with projections LoRA can adapt")) << r.err;
}

TEST(VisionE2E, FolderDataTrainsAndPredictLabelsUnseenImages) {
  e2e::TempDir tmp;
  const std::string train = stripes_dataset(tmp, "train", 24, 0);
  const std::string cfg = write_config(tmp, "stripes.yaml",
      "model: {family: resnet, preset: resnet-fmnist, in_channels: 3}\n"
      "data: {train: " + train + ", images: {size: 16, channels: 3, val_fraction: 0.25}}\n"
      "train: {steps: 40, batch_size: 16, lr: 3.0e-3, warmup: 4, eval_every: 40, save_every: 40}\n");
  const std::string run = tmp.path("run");
  auto r = e2e::run_ptft(train_args("pretrain", cfg, run), {}, std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.text();

  // Unseen images, another size (resized by the recorded preprocessing).
  write_stripes(tmp.path("h.bmp"), true, 1, 24);
  write_stripes(tmp.path("v.bmp"), false, 3, 24);
  r = e2e::run_ptft({"predict", "--model", run, tmp.path("h.bmp"), tmp.path("v.bmp"), "--json", "--top-k", "2",
                     "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto p = nlohmann::json::parse(r.out)["predictions"];
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0]["label"], "horizontal") << p.dump();
  EXPECT_EQ(p[1]["label"], "vertical") << p.dump();
  EXPECT_GT(p[0]["probability"].get<double>(), 0.5);
  ASSERT_EQ(p[0]["top"].size(), 2u);
  EXPECT_NEAR(p[0]["top"][0]["probability"].get<double>() + p[0]["top"][1]["probability"].get<double>(), 1.0, 1e-5);

  // Human output: file, label, probability.
  r = e2e::run_ptft({"predict", "--model", run, tmp.path("h.bmp"), "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.out, "h.bmp\thorizontal\t")) << r.out;

  // A file that is no image: exit 1, named.
  e2e::write_text(tmp.path("broken.png"), "not a png at all");
  r = e2e::run_ptft({"predict", "--model", run, tmp.path("broken.png"), "--threads", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "broken.png")) << r.err;
  // A model path that does not exist: a clear error, exit 1.
  r = e2e::run_ptft({"predict", "--model", tmp.path("missing"), tmp.path("h.bmp")});
  EXPECT_EQ(r.exit_code, 1) << r.text();
}

TEST(VisionE2E, AutoPrecisionIsMeasuredRecordedAndKeptOnResume) {
  // ResNet-18, 64 images of 32 px a step (~14 GFLOP): on a CPU with bf16 instructions the run
  // times a step in bf16 and fp32 and keeps the faster (ptft/train/precision_probe.h); without
  // them it is fp32, unmeasured.
  e2e::TempDir tmp;
  const std::string train = stripes_dataset(tmp, "train", 24, 0);
  const std::string cfg = write_config(tmp, "r18.yaml",
      "model: {family: resnet, preset: resnet18}\n"
      "data: {train: " + train + ", images: {size: 32, channels: 3}}\n"
      "train: {steps: 2, batch_size: 64, warmup: 1, eval_every: 0, save_every: 2}\n");
  const std::string run = tmp.path("run");
  auto r = e2e::run_ptft({"pretrain", "--config", cfg, "--out", run, "--threads", "1"}, {}, std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  auto events = e2e::read_jsonl(run + "/metrics.jsonl");
  ASSERT_FALSE(events.empty());
  const nlohmann::json start = events.front();
  const std::string chosen = start["precision"];
  if (start.contains("precision_probe")) {
    const double fp32 = start["precision_probe"]["fp32_ms"], bf16 = start["precision_probe"]["bf16_ms"];
    EXPECT_GT(fp32, 0);
    EXPECT_GT(bf16, 0);
    EXPECT_EQ(chosen, fp32 < 0.9 * bf16 ? "fp32" : "bf16");
    EXPECT_TRUE(contains(r.err, "precision: " + chosen + " (auto: a training step took")) << r.err;
    EXPECT_TRUE(contains(e2e::read_text(run + "/config.yaml"), "precision: " + chosen));  // re-runs as this one
  } else {
    EXPECT_EQ(chosen, "fp32") << "a bf16 CPU must measure this model";
  }
  auto state = nlohmann::json::parse(e2e::read_text(run + "/checkpoints/last/trainer_state.json"));
  EXPECT_EQ(state["precision"], chosen);

  // Resumed with the original config (auto) and more steps: the recorded choice, not a new probe.
  r = e2e::run_ptft({"pretrain", "--config", cfg, "--out", run, "--resume", "--set", "train.steps=4", "--threads", "1"},
                    {}, std::chrono::seconds(300));
  ASSERT_EQ(r.exit_code, 0) << r.text();
  events = e2e::read_jsonl(run + "/metrics.jsonl");
  nlohmann::json second;
  int starts = 0;
  for (const auto& e : events)
    if (e["event"] == "start" && ++starts == 2) second = e;
  ASSERT_EQ(starts, 2);
  EXPECT_EQ(second["precision"], chosen);
  EXPECT_FALSE(second.contains("precision_probe"));
  EXPECT_EQ(events.back()["event"], "end");

  // A recorded precision that is neither: exit 1 naming the file and the way on; nothing written.
  const std::string state_path = run + "/checkpoints/last/trainer_state.json";
  state = nlohmann::json::parse(e2e::read_text(state_path));
  state["precision"] = "fp16";
  e2e::write_text(state_path, state.dump());
  const std::string metrics = e2e::read_text(run + "/metrics.jsonl");
  r = e2e::run_ptft({"pretrain", "--config", cfg, "--out", run, "--resume", "--set", "train.steps=6", "--threads", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "trainer_state.json: precision \"fp16\" is neither")) << r.err;
  EXPECT_TRUE(contains(r.err, "--precision fp32")) << r.err;
  EXPECT_EQ(e2e::read_text(run + "/metrics.jsonl"), metrics);
}

TEST(VisionE2E, CorruptImageInTheTrainingDataIsNamedOrSkipped) {
  e2e::TempDir tmp;
  const std::string train = stripes_dataset(tmp, "train", 6, 1);
  e2e::write_text(train + "/vertical/corrupt.png", "\x89PNG garbage");
  const std::string cfg = write_config(tmp, "c.yaml",
      "model: {family: resnet, preset: resnet-fmnist, in_channels: 3}\n"
      "data: {train: " + train + ", images: {size: 16, channels: 3}}\n"
      "train: {steps: 2, batch_size: 4, save_every: 2}\n");
  auto r = e2e::run_ptft(train_args("pretrain", cfg, tmp.path("a")));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "corrupt.png")) << r.err;
  EXPECT_FALSE(sfs::exists(tmp.path("a")));  // nothing half-made
  r = e2e::run_ptft(train_args("pretrain", cfg, tmp.path("b"), {"--set", "data.images.skip_corrupt=true"}));
  EXPECT_EQ(r.exit_code, 0) << r.text();
}

TEST(VisionE2E, ExplicitNumClassesThatContradictsTheDataIsAnError) {
  e2e::TempDir tmp;
  const std::string train = stripes_dataset(tmp, "train", 4, 2);
  const std::string cfg = write_config(tmp, "n.yaml",
      "model: {family: resnet, preset: resnet-fmnist, in_channels: 3, num_classes: 5}\n"
      "data: {train: " + train + ", images: {size: 16, channels: 3}}\n"
      "train: {steps: 2, batch_size: 4}\n");
  auto r = e2e::run_ptft(train_args("pretrain", cfg, tmp.path("a")));
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_TRUE(contains(r.err, "model.num_classes")) << r.err;
}

}  // namespace
