#include "ptft/train/detection_task.h"

#include <algorithm>
#include <optional>

#include "ptft/core/error.h"
#include "ptft/train/detection_map.h"
#include "ptft/models/detector.h"
#include "ptft/train/center_sampling.h"
#include "ptft/train/ciou_loss.h"
#include "ptft/train/focal_loss.h"

namespace ptft {
namespace {

const torch::Tensor& field(const Batch& b, const char* name) {
  auto it = b.data.find(name);
  PTFT_CHECK(it != b.data.end(), std::string("detection batch has no '") + name + "'");
  return it->second;
}

const DetectorImpl& detector(const ModelImpl& model) {
  const auto* d = dynamic_cast<const DetectorImpl*>(&model);
  if (!d)
    throw UserError("task detection needs a yolo detector, but the model is a " + model.family() + " model",
                    "set model.family: yolo (or remove `task`: " + model.family() + " has its own default task)");
  return *d;
}

// Ground truth of image b: (G,4) boxes and (G) labels without the -1 padding.
std::pair<torch::Tensor, torch::Tensor> image_truth(const Batch& batch, int64_t b) {
  const torch::Tensor labels = field(batch, "labels")[b];  // (M)
  const torch::Tensor keep = labels.ge(0).nonzero().squeeze(1);
  return {field(batch, "boxes")[b].index_select(0, keep).to(torch::kFloat), labels.index_select(0, keep)};
}

}  // namespace

DetectionLoss detection_loss(ModelImpl& model, const TensorMap& out, const Batch& batch) {
  const DetectorConfig& cfg = detector(model).config();
  const torch::Tensor cls = out.at("cls_logits").to(torch::kFloat);  // (B,P,C)
  const torch::Tensor ltrb = out.at("box_ltrb");                      // (B,P,4) float
  const torch::Tensor points = out.at("points"), strides = out.at("strides");
  const int64_t B = cls.size(0), P = cls.size(1), C = cls.size(2);
  // Targets built in loops over the images' assignments on the CPU (they need no gradient); the
  // predicted boxes of all positives gathered from ltrb in one op: per image, ~20 small tensor
  // ops here were on the step's serial path. Positives in image order, points ascending.
  const torch::Tensor pts = points.to(torch::kCPU, torch::kFloat), st = strides.to(torch::kCPU);
  torch::Tensor targets = torch::zeros({B * P, C}, torch::kFloat);  // (B*P,C)
  float* tp = targets.data_ptr<float>();
  std::vector<int64_t> positive;  // b * P + p
  std::vector<torch::Tensor> gt_rows;
  for (int64_t b = 0; b < B; ++b) {
    auto [gt_dev, labels_dev] = image_truth(batch, b);  // (G,4), (G)
    const torch::Tensor gt = gt_dev.to(torch::kCPU), labels = labels_dev.to(torch::kCPU, torch::kLong).contiguous();
    const PointAssignment a = center_sampling_assign(pts, st, gt, cfg.center_radius);
    const int64_t* gi = a.gt_index.data_ptr<int64_t>();
    const int64_t* lp = labels.data_ptr<int64_t>();
    std::vector<int64_t> picked;
    for (int64_t p = 0; p < P; ++p) {
      if (gi[p] < 0) continue;
      PTFT_CHECK(lp[gi[p]] < C, "detection label " + std::to_string(lp[gi[p]]) + " outside the head's " +
                                    std::to_string(C) + " classes");
      tp[(b * P + p) * C + lp[gi[p]]] = 1.0f;
      positive.push_back(b * P + p);
      picked.push_back(gi[p]);
    }
    if (!picked.empty()) gt_rows.push_back(gt.index_select(0, torch::tensor(picked, torch::kLong)));
  }
  DetectionLoss l;
  l.positives = static_cast<int64_t>(positive.size());
  l.cls_sum = sigmoid_focal_loss(cls.reshape({-1, C}), targets.to(cls.device()), cfg.focal_alpha, cfg.focal_gamma).sum();
  if (positive.empty()) {
    l.box_sum = ltrb.sum() * 0.0;
  } else {
    const torch::Tensor idx = torch::tensor(positive, torch::kLong).to(ltrb.device());  // (N)
    const torch::Tensor p = points.index_select(0, idx.remainder(P));                   // (N,2)
    const torch::Tensor d = ltrb.reshape({B * P, 4}).index_select(0, idx);             // (N,4)
    const torch::Tensor pred = torch::cat({p - d.narrow(1, 0, 2), p + d.narrow(1, 2, 2)}, 1);
    l.box_sum = ciou_loss(pred, torch::cat(gt_rows, 0).to(ltrb.device())).sum();
  }
  const double per_image = static_cast<double>(B) / static_cast<double>(std::max<int64_t>(1, l.positives));
  l.loss = (l.cls_sum + cfg.box_weight * l.box_sum) * per_image;
  l.cls_loss = l.cls_sum.item<double>() * per_image;
  l.box_loss = l.box_sum.item<double>() * per_image;
  return l;
}

torch::Tensor DetectionTask::loss_sum(ModelImpl& model, const Batch& batch) {
  detector(model);  // refuses another family before its forward runs
  const TensorMap out = model.forward({{"x", field(batch, "x")}});
  const DetectionLoss l = detection_loss(model, out, batch);
  cls_ += l.cls_loss;
  box_ += l.box_loss;
  images_ += field(batch, "x").size(0);
  return l.loss;  // sum over the batch's images of the per-image loss
}

std::map<std::string, double> DetectionTask::take_loss_components() {
  if (images_ == 0) return {};
  std::map<std::string, double> m = {{"box_loss", box_ / static_cast<double>(images_)},
                                     {"cls_loss", cls_ / static_cast<double>(images_)}};
  box_ = cls_ = 0;
  images_ = 0;
  return m;
}

namespace {

class DetectionEval : public EvalAccumulator {
 public:
  void add(ModelImpl& model, const Batch& batch) override {
    const DetectorImpl& det = detector(model);
    const int64_t C = det.config().num_classes;
    if (!all_) {
      all_.emplace(C, /*max_detections=*/300);
      confident_.emplace(C, /*max_detections=*/300);
    }
    const TensorMap out = model.forward({{"x", field(batch, "x")}});
    const DetectionLoss l = detection_loss(model, out, batch);
    const int64_t B = field(batch, "x").size(0);
    cls_ += l.cls_loss;
    box_ += l.box_loss;
    loss_ += l.loss.item<double>();
    images_ += B;
    const auto dets = decode_detections(out, /*conf=*/0.001, /*iou=*/0.7, /*max_det=*/300);
    for (int64_t b = 0; b < B; ++b) {
      auto [gt_boxes, labels] = image_truth(batch, b);
      gt_boxes = gt_boxes.cpu();
      labels = labels.cpu();
      std::vector<GroundTruth> gt;
      for (int64_t g = 0; g < labels.size(0); ++g) {
        const auto bx = gt_boxes[g];
        gt.push_back({Box{bx[0].item<double>(), bx[1].item<double>(), bx[2].item<double>(), bx[3].item<double>()},
                      labels[g].item<int64_t>()});
      }
      std::vector<Detection> confident;
      for (const auto& d : dets[b])
        if (d.score >= DetectionTask::kReportConfidence) confident.push_back(d);
      all_->add(gt, dets[b]);
      confident_->add(gt, std::move(confident));
    }
  }

  nlohmann::json result() const override {
    const double n = images_ > 0 ? static_cast<double>(images_) : 1.0;
    nlohmann::json r = {{"loss", loss_ / n}, {"box_loss", box_ / n}, {"cls_loss", cls_ / n}, {"images", images_}};
    if (!all_) return r;
    const nlohmann::json m = all_->result(), p = confident_->result();
    r["map50"] = m["map50"];
    r["map50_95"] = m["map50_95"];
    r["precision"] = p["precision"];
    r["recall"] = p["recall"];
    nlohmann::json per = nlohmann::json::array();
    for (size_t c = 0; c < m["per_class"].size(); ++c) {
      nlohmann::json e = m["per_class"][c];
      e["precision"] = p["per_class"][c]["precision"];
      e["recall"] = p["per_class"][c]["recall"];
      per.push_back(e);
    }
    r["per_class"] = per;  // not a float: eval lines and metric selection skip it
    return r;
  }

 private:
  std::optional<DetectionEvaluator> all_, confident_;
  double loss_ = 0, box_ = 0, cls_ = 0;
  int64_t images_ = 0;
};

}  // namespace

std::unique_ptr<EvalAccumulator> DetectionTask::new_eval() const { return std::make_unique<DetectionEval>(); }

}  // namespace ptft
