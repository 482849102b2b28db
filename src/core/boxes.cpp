#include "ptft/core/boxes.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace ptft {

double iou(const Box& a, const Box& b) {
  const double iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
  const double ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0.0;
  const double inter = iw * ih;
  const double uni = a.area() + b.area() - inter;
  return uni > 0 ? inter / uni : 0.0;
}

std::vector<Detection> nms_per_class(std::vector<Detection> dets, double iou_threshold, int64_t max_detections) {
  std::stable_sort(dets.begin(), dets.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::map<int64_t, std::vector<const Detection*>> kept_of_class;
  std::vector<Detection> out;
  for (const auto& d : dets) {
    if (max_detections > 0 && static_cast<int64_t>(out.size()) >= max_detections) break;
    auto& kept = kept_of_class[d.cls];
    const bool suppressed =
        std::any_of(kept.begin(), kept.end(), [&](const Detection* k) { return iou(k->box, d.box) > iou_threshold; });
    if (suppressed) continue;
    kept.push_back(&d);
    out.push_back(d);
  }
  return out;
}

}  // namespace ptft
