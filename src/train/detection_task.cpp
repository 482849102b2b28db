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
  const int64_t B = cls.size(0), C = cls.size(2);
  std::vector<torch::Tensor> targets, pred_boxes, gt_boxes;
  DetectionLoss l;
  for (int64_t b = 0; b < B; ++b) {
    auto [gt, labels] = image_truth(batch, b);
    const PointAssignment a = center_sampling_assign(points, strides, gt, cfg.center_radius);
    torch::Tensor t = torch::zeros({points.size(0), C}, cls.options());  // (P,C)
    const torch::Tensor pos = a.gt_index.ge(0).nonzero().squeeze(1);      // (N_b)
    if (pos.numel() > 0) {
      const torch::Tensor gi = a.gt_index.index_select(0, pos);
      t.index_put_({pos, labels.index_select(0, gi)}, 1.0);
      const torch::Tensor p = points.index_select(0, pos);                  // (N_b,2)
      const torch::Tensor d = ltrb[b].index_select(0, pos);                 // (N_b,4)
      pred_boxes.push_back(torch::cat({p - d.narrow(1, 0, 2), p + d.narrow(1, 2, 2)}, 1));
      gt_boxes.push_back(gt.index_select(0, gi));
      l.positives += pos.size(0);
    }
    targets.push_back(t);
  }
  l.cls_sum = sigmoid_focal_loss(cls.reshape({-1, C}), torch::cat(targets, 0), cfg.focal_alpha, cfg.focal_gamma).sum();
  l.box_sum = pred_boxes.empty() ? ltrb.sum() * 0.0
                                 : ciou_loss(torch::cat(pred_boxes, 0), torch::cat(gt_boxes, 0)).sum();
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
