// End-to-end detection with the real binary on synthetic Fashion-MNIST scenes: pre-train a tiny
// yolo detector (results.csv, per-class table, mAP evaluation), fine-tune it to other classes,
// initialise a detector's backbone from a resnet classifier, and the errors that keep detection
// data and non-detectors apart.
#include <gtest/gtest.h>

#include <fstream>

#include "run_ptft.h"

namespace e2e {
namespace {

const char* kFmnist = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";

// A tiny detector config on 64 px scenes; `data` is a data.yaml (train and val splits).
std::string write_config(const TempDir& tmp, const std::string& name, const std::string& data, int steps) {
  const std::string path = tmp.path(name);
  std::ofstream(path) << "model: {family: yolo, backbone: {layers: [1, 1, 1, 1], width: 8}, fpn_channels: 16,\n"
                         "        head_convs: 1, image_size: 64}\n"
                         "data: {train: " << data << ", val: " << data << ",\n"
                         "       detection: {mosaic: 0.5, close_mosaic: 1}}\n"
                         "train: {steps: " << steps << ", batch_size: 8, lr: 3.0e-3, warmup: 5, eval_every: " << steps
                      << ", save_every: " << steps << ", log_every: 5, precision: fp32, ema: 0.9, ema_tau: 5}\n";
  return path;
}

class DetectionE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!sfs::exists(kFmnist)) GTEST_SKIP() << "dataset-fashion-mnist is not installed (scripts/setup.sh)";
  }
  std::string scenes(const TempDir& tmp, const std::string& name, const std::string& classes, int seed) {
    auto r = run_ptft({"data", "synth-detection", "--out", tmp.path(name), "--classes", classes, "--train", "24",
                       "--val", "8", "--size", "64", "--min-scale", "0.8", "--max-scale", "1.6", "--seed",
                       std::to_string(seed)});
    EXPECT_EQ(r.exit_code, 0) << r.text();
    return tmp.path(name + "/data.yaml");
  }
};

TEST_F(DetectionE2E, PretrainEvalAndFinetuneToNewClasses) {
  TempDir tmp("det-e2e");
  const std::string general = scenes(tmp, "general", "Trouser,Dress,Sandal", 1);
  const std::string target = scenes(tmp, "target", "Bag,Sneaker", 2);
  auto pre = run_ptft({"pretrain", "--config", write_config(tmp, "pre.yaml", general, 20), "--out", tmp.path("pre"),
                       "--threads", "1"});
  ASSERT_EQ(pre.exit_code, 0) << pre.text();
  EXPECT_NE(pre.err.find("task detection"), std::string::npos) << pre.err;
  EXPECT_NE(pre.err.find("AP50-95"), std::string::npos) << pre.err;   // per-class table at the end
  EXPECT_NE(pre.err.find("Sandal"), std::string::npos) << pre.err;
  EXPECT_TRUE(complete_checkpoint(tmp.path("pre/checkpoints/last")));
  // results.csv: Ultralytics columns, one row per evaluation.
  const std::string csv = read_text(tmp.path("pre/results.csv"));
  for (const char* col : {"train/box_loss", "train/cls_loss", "metrics/mAP50(B)", "metrics/mAP50-95(B)",
                          "metrics/precision(B)", "val/box_loss", "lr/pg0"})
    EXPECT_NE(csv.find(col), std::string::npos) << col << "\n" << csv;
  // The best checkpoint is chosen by mAP50-95; the train events carry both loss parts.
  auto events = read_jsonl(tmp.path("pre/metrics.jsonl"));
  bool parts = false;
  for (const auto& e : events)
    if (e["event"] == "train" && e.contains("box_loss") && e.contains("cls_loss")) parts = true;
  EXPECT_TRUE(parts);
  const auto summary = nlohmann::json::parse(read_text(tmp.path("pre/summary.json")));
  EXPECT_EQ(summary["metric"], "val_map50_95");

  auto ev = run_ptft({"eval", "--model", tmp.path("pre/checkpoints/last"), "--data", general, "--json"});
  ASSERT_EQ(ev.exit_code, 0) << ev.text();
  const auto m = nlohmann::json::parse(ev.out);
  EXPECT_EQ(m["images"], 8);
  EXPECT_GE(m["map50"].get<double>(), m["map50_95"].get<double>());
  EXPECT_EQ(m["per_class"].size(), 3u);
  // The last evaluation of the run and `ptft eval` of its last checkpoint agree.
  EXPECT_NEAR(m["map50_95"].get<double>(), summary["last_eval"]["val_map50_95"].get<double>(), 1e-9);

  auto wrong = run_ptft({"eval", "--model", tmp.path("pre/checkpoints/last"), "--data", target});
  EXPECT_EQ(wrong.exit_code, 1) << wrong.text();
  EXPECT_NE(wrong.err.find("Bag, Sneaker"), std::string::npos) << wrong.err;
  auto idx = run_ptft({"eval", "--model", tmp.path("pre/checkpoints/last"), "--data", kFmnist});
  EXPECT_EQ(idx.exit_code, 1) << idx.text();
  EXPECT_NE(idx.err.find("evaluated on a data.yaml"), std::string::npos) << idx.err;
  auto bogus = run_ptft({"eval", "--model", tmp.path("pre/checkpoints/last"), "--data", general, "--split", "tset"});
  EXPECT_EQ(bogus.exit_code, 1) << bogus.text();
  EXPECT_NE(bogus.err.find("use train, val or test"), std::string::npos) << bogus.err;
  auto train_split = run_ptft({"eval", "--model", tmp.path("pre/checkpoints/last"), "--data", general, "--split",
                               "train", "--json"});
  ASSERT_EQ(train_split.exit_code, 0) << train_split.text();
  EXPECT_EQ(nlohmann::json::parse(train_split.out)["images"], 24);

  // Fine-tune to the 2 new classes: a new class predictor, backbone frozen then unfrozen.
  auto ft = run_ptft({"finetune", "--config", write_config(tmp, "ft.yaml", target, 10), "--from",
                      tmp.path("pre"), "--set", "finetune.strategy=head", "--set", "finetune.unfreeze_after=5",
                      "--set", "finetune.backbone_lr=0.1", "--out", tmp.path("ft"), "--threads", "1"});
  ASSERT_EQ(ft.exit_code, 0) << ft.text();
  EXPECT_NE(ft.err.find("new head: 2 classes (Bag, Sneaker)"), std::string::npos) << ft.err;
  bool unfroze = false;
  for (const auto& e : read_jsonl(tmp.path("ft/metrics.jsonl")))
    if (e["event"] == "unfreeze" && e["step"] == 6) unfroze = true;
  EXPECT_TRUE(unfroze);
  auto ft_eval = run_ptft({"eval", "--model", tmp.path("ft/checkpoints/last"), "--data", target, "--json"});
  ASSERT_EQ(ft_eval.exit_code, 0) << ft_eval.text();
  EXPECT_EQ(nlohmann::json::parse(ft_eval.out)["per_class"].size(), 2u);
}

TEST_F(DetectionE2E, ClassifierCheckpointBecomesTheBackbone) {
  TempDir tmp("det-backbone-e2e");
  const std::string target = scenes(tmp, "target", "Bag,Sneaker", 2);
  // A resnet classifier with the detector's trunk (3 channels), on Fashion-MNIST at 32 px.
  const std::string cls_cfg = tmp.path("cls.yaml");
  std::ofstream(cls_cfg) << "model: {family: resnet, layers: [1, 1, 1, 1], width: 8, in_channels: 3, stem: imagenet}\n"
                            "data: {train: " << kFmnist << ", images: {size: 32, channels: 3, per_class: 5, "
                            "mean: [0.3], std: [0.35]}}\n"
                            "train: {steps: 3, batch_size: 8, warmup: 1, precision: fp32}\n";
  auto cls = run_ptft({"pretrain", "--config", cls_cfg, "--out", tmp.path("cls"), "--threads", "1"});
  ASSERT_EQ(cls.exit_code, 0) << cls.text();
  auto ft = run_ptft({"finetune", "--config", write_config(tmp, "det.yaml", target, 4), "--from", tmp.path("cls"),
                      "--set", "data.detection.size=96", "--out", tmp.path("det"), "--threads", "1"});
  ASSERT_EQ(ft.exit_code, 0) << ft.text();
  EXPECT_NE(ft.err.find("tensors from the resnet classifier"), std::string::npos) << ft.err;
  const auto cfg = nlohmann::json::parse(read_text(tmp.path("det/checkpoints/last/config.json")));
  EXPECT_EQ(cfg["ptft"]["family"], "yolo");
  EXPECT_NEAR(cfg["detector"]["pixel_mean"][0].get<double>(), 0.3, 1e-9);  // the classifier's normalisation
  EXPECT_EQ(cfg["detector"]["image_size"], 96);  // trained at data.detection.size: detect letterboxes alike

  // A trunk that does not match names the tensor and the keys to fix.
  auto bad = run_ptft({"finetune", "--config", write_config(tmp, "det2.yaml", target, 4), "--from", tmp.path("cls"),
                       "--set", "model.backbone.width=16", "--out", tmp.path("det2"), "--threads", "1"});
  EXPECT_EQ(bad.exit_code, 1) << bad.text();
  EXPECT_NE(bad.err.find("model.backbone"), std::string::npos) << bad.err;
  EXPECT_FALSE(sfs::exists(tmp.path("det2/metrics.jsonl")));
}

TEST_F(DetectionE2E, DetectionDataAndNonDetectorsDoNotMix) {
  TempDir tmp("det-mix-e2e");
  const std::string target = scenes(tmp, "target", "Bag,Sneaker", 2);
  auto r = run_ptft({"pretrain", "--config", write_config(tmp, "c.yaml", target, 2), "--set", "model={family: resnet}",
                     "--out", tmp.path("r"), "--threads", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.text();
  EXPECT_NE(r.err.find("object-detection data"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("family: yolo"), std::string::npos) << r.err;
  auto y = run_ptft({"pretrain", "--config", write_config(tmp, "d.yaml", target, 2), "--set",
                     std::string("data.train=") + kFmnist, "--set", "data.val=''", "--out", tmp.path("y"), "--threads", "1"});
  EXPECT_EQ(y.exit_code, 1) << y.text();
  EXPECT_NE(y.err.find("not a data.yaml"), std::string::npos) << y.err;
  // Val data that names other classes than the training data would be scored with the wrong ids.
  const std::string other = scenes(tmp, "other", "Trouser,Dress", 3);
  auto v = run_ptft({"pretrain", "--config", write_config(tmp, "v.yaml", target, 2), "--set", "data.val=" + other,
                     "--out", tmp.path("v"), "--threads", "1"});
  EXPECT_EQ(v.exit_code, 1) << v.text();
  EXPECT_NE(v.err.find("names the classes [Trouser, Dress] but the model's are [Bag, Sneaker]"), std::string::npos)
      << v.err;
  EXPECT_FALSE(sfs::exists(tmp.path("v/metrics.jsonl")));
}

// As Ultralytics: without data.val, the data.yaml's own val split validates the run.
TEST_F(DetectionE2E, TheDataYamlsValSplitValidatesWithoutDataVal) {
  TempDir tmp("det-val-e2e");
  const std::string data = scenes(tmp, "scenes", "Bag,Sneaker", 4);
  auto r = run_ptft({"pretrain", "--config", write_config(tmp, "c.yaml", data, 2), "--set", "data.val=''", "--out",
                     tmp.path("r"), "--threads", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.text();
  EXPECT_TRUE(contains(r.err, "validation: the val split of " + data)) << r.err;
  const auto summary = read_json(tmp.path("r/summary.json"));
  ASSERT_TRUE(summary["last_eval"].is_object()) << summary.dump();
  EXPECT_TRUE(summary["last_eval"].contains("val_map50")) << summary.dump();
  EXPECT_EQ(summary["metric"], "val_map50_95");
}

}  // namespace
}  // namespace e2e
