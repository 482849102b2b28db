#include "ptft/train/detection_map.h"

#include <cstdio>

#include <algorithm>
#include <cmath>

#include "ptft/core/error.h"

namespace ptft {
namespace {

double threshold(int k) { return 0.5 + 0.05 * k; }

// 101-point interpolated AP of detections sorted by descending score.
double interpolated_ap(const std::vector<const bool*>& tp, int k, int64_t n_gt) {
  const size_t n = tp.size();
  std::vector<double> precision(n), recall(n);
  double tps = 0;
  for (size_t i = 0; i < n; ++i) {
    tps += tp[i][k] ? 1.0 : 0.0;
    precision[i] = tps / static_cast<double>(i + 1);
    recall[i] = tps / static_cast<double>(n_gt);
  }
  for (size_t i = n; i-- > 1;) precision[i - 1] = std::max(precision[i - 1], precision[i]);  // envelope
  double sum = 0;
  for (int r = 0; r <= 100; ++r) {
    // np.linspace(0, 1, 101) exactly (r * step, the last point 1), and the first point whose
    // recall reaches it (recall is non-decreasing): pycocotools' searchsorted(side='left').
    const double at = r == 100 ? 1.0 : r * 0.01;
    auto it = std::lower_bound(recall.begin(), recall.end(), at);
    if (it != recall.end()) sum += precision[static_cast<size_t>(it - recall.begin())];
  }
  return sum / 101.0;
}

}  // namespace

DetectionEvaluator::DetectionEvaluator(int64_t num_classes, int64_t max_detections)
    : num_classes_(num_classes), max_det_(max_detections), gt_count_(static_cast<size_t>(std::max<int64_t>(num_classes, 0))),
      scored_(static_cast<size_t>(std::max<int64_t>(num_classes, 0))) {
  PTFT_CHECK(num_classes >= 1, "DetectionEvaluator needs at least one class");
}

void DetectionEvaluator::add(const std::vector<GroundTruth>& gt, std::vector<Detection> dets) {
  ++images_;
  for (const auto& g : gt) {
    PTFT_CHECK(g.cls >= 0 && g.cls < num_classes_, "ground-truth class " + std::to_string(g.cls) + " out of range");
    ++gt_count_[static_cast<size_t>(g.cls)];
  }
  std::stable_sort(dets.begin(), dets.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  // COCOeval keeps the max_detections best of each (image, class).
  if (max_det_ > 0) {
    std::vector<int64_t> per_class(static_cast<size_t>(num_classes_), 0);
    std::vector<Detection> kept;
    for (const auto& d : dets) {
      PTFT_CHECK(d.cls >= 0 && d.cls < num_classes_, "detection class " + std::to_string(d.cls) + " out of range");
      if (per_class[static_cast<size_t>(d.cls)]++ < max_det_) kept.push_back(d);
    }
    dets.swap(kept);
  }
  // Matching per threshold: which ground truth each threshold has used up.
  std::vector<std::vector<bool>> used(kThresholds, std::vector<bool>(gt.size(), false));
  for (const auto& d : dets) {
    PTFT_CHECK(d.cls >= 0 && d.cls < num_classes_, "detection class " + std::to_string(d.cls) + " out of range");
    Scored s{d.score, {}};
    for (int k = 0; k < kThresholds; ++k) {
      double best = threshold(k) - 1e-10;  // IoU >= t matches
      int64_t match = -1;
      for (size_t g = 0; g < gt.size(); ++g) {
        if (gt[g].cls != d.cls || used[static_cast<size_t>(k)][g]) continue;
        const double o = iou(d.box, gt[g].box);
        if (o >= best) {
          best = o;
          match = static_cast<int64_t>(g);
        }
      }
      s.tp[k] = match >= 0;
      if (match >= 0) used[static_cast<size_t>(k)][static_cast<size_t>(match)] = true;
    }
    scored_[static_cast<size_t>(d.cls)].push_back(s);
  }
}

double DetectionEvaluator::ap(int64_t c, int k) const {
  PTFT_CHECK(c >= 0 && c < num_classes_ && k >= 0 && k < kThresholds, "ap() index out of range");
  const int64_t n_gt = gt_count_[static_cast<size_t>(c)];
  if (n_gt == 0) return -1;
  std::vector<const Scored*> order;
  for (const auto& s : scored_[static_cast<size_t>(c)]) order.push_back(&s);
  std::stable_sort(order.begin(), order.end(), [](const Scored* a, const Scored* b) { return a->score > b->score; });
  std::vector<const bool*> tp;
  for (const auto* s : order) tp.push_back(s->tp);
  return interpolated_ap(tp, k, n_gt);
}

nlohmann::json DetectionEvaluator::result() const {
  nlohmann::json per = nlohmann::json::array();
  double m50 = 0, m5095 = 0, p_sum = 0, r_sum = 0;
  int64_t counted = 0;
  for (int64_t c = 0; c < num_classes_; ++c) {
    const auto& sc = scored_[static_cast<size_t>(c)];
    const int64_t n_gt = gt_count_[static_cast<size_t>(c)];
    int64_t tp50 = 0;
    for (const auto& s : sc) tp50 += s.tp[0] ? 1 : 0;
    const double precision = sc.empty() ? 0.0 : static_cast<double>(tp50) / static_cast<double>(sc.size());
    const double recall = n_gt == 0 ? 0.0 : static_cast<double>(tp50) / static_cast<double>(n_gt);
    double a50 = -1, a5095 = -1;
    if (n_gt > 0) {
      a50 = ap(c, 0);
      a5095 = 0;
      for (int k = 0; k < kThresholds; ++k) a5095 += ap(c, k) / kThresholds;
      m50 += a50;
      m5095 += a5095;
      p_sum += precision;
      r_sum += recall;
      ++counted;
    }
    per.push_back({{"class", c}, {"ground_truth", n_gt}, {"detections", sc.size()}, {"ap50", a50},
                   {"ap50_95", a5095}, {"precision", precision}, {"recall", recall}});
  }
  const double n = counted > 0 ? static_cast<double>(counted) : 1.0;
  return {{"map50", m50 / n}, {"map50_95", m5095 / n}, {"precision", p_sum / n}, {"recall", r_sum / n},
          {"images", images_}, {"per_class", per}};
}

std::string detection_table(const nlohmann::json& per_class, const std::vector<std::string>& names) {
  size_t width = 5;
  for (const auto& n : names) width = std::max(width, n.size());
  auto row = [&](const std::string& name, const std::string& gt, double a50, double a5095, double p, double r) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%-*s %8s %8.3f %8.3f %9.3f %7.3f\n", static_cast<int>(width), name.c_str(),
                  gt.c_str(), a50, a5095, p, r);
    return std::string(buf);
  };
  char head[160];
  std::snprintf(head, sizeof head, "%-*s %8s %8s %8s %9s %7s\n", static_cast<int>(width), "class", "boxes", "AP50",
                "AP50-95", "precision", "recall");
  std::string out = head;
  double s50 = 0, s5095 = 0, sp = 0, sr = 0;
  int64_t n = 0, boxes = 0;
  for (const auto& c : per_class) {
    const int64_t id = c.value("class", int64_t{0});
    const std::string name = id >= 0 && id < static_cast<int64_t>(names.size()) ? names[static_cast<size_t>(id)]
                                                                                : std::to_string(id);
    const int64_t gt = c.value("ground_truth", int64_t{0});
    if (gt == 0) {
      out += name + std::string(width > name.size() ? width - name.size() : 0, ' ') + "        0  (no ground truth)\n";
      continue;
    }
    const double a50 = c.value("ap50", 0.0), a5095 = c.value("ap50_95", 0.0);
    const double p = c.value("precision", 0.0), r = c.value("recall", 0.0);
    out += row(name, std::to_string(gt), a50, a5095, p, r);
    s50 += a50;
    s5095 += a5095;
    sp += p;
    sr += r;
    boxes += gt;
    ++n;
  }
  if (n > 0) {
    const double k = static_cast<double>(n);
    out += row("all", std::to_string(boxes), s50 / k, s5095 / k, sp / k, sr / k);
  }
  return out;
}

}  // namespace ptft
