#include "ptft/train/center_sampling.h"

#include "ptft/core/error.h"

namespace ptft {

PointAssignment center_sampling_assign(const torch::Tensor& points, const torch::Tensor& strides,
                                       const torch::Tensor& gt, double radius) {
  PTFT_CHECK(points.dim() == 2 && points.size(1) == 2, "points must be (P,2)");
  PTFT_CHECK(strides.dim() == 1 && strides.size(0) == points.size(0), "strides must be (P)");
  PTFT_CHECK(gt.dim() == 2 && gt.size(1) == 4, "gt boxes must be (G,4)");
  const int64_t P = points.size(0), G = gt.size(0);
  PointAssignment a;
  a.gt_index = torch::full({P}, -1, torch::kLong);
  a.ltrb = torch::zeros({P, 4}, points.options());
  if (G == 0) return a;
  auto x = points.select(1, 0).view({P, 1}), y = points.select(1, 1).view({P, 1});  // (P,1)
  auto b = gt.to(points.dtype());
  auto x1 = b.select(1, 0).view({1, G}), y1 = b.select(1, 1).view({1, G});
  auto x2 = b.select(1, 2).view({1, G}), y2 = b.select(1, 3).view({1, G});              // (1,G)
  auto ltrb = torch::stack({x - x1, y - y1, x2 - x, y2 - y}, 2);                        // (P,G,4)
  auto inside = std::get<0>(ltrb.min(2)).gt(0);                                        // (P,G)
  auto r = (strides.to(points.dtype()) * radius).view({P, 1});                          // (P,1)
  auto cx = (x1 + x2) / 2, cy = (y1 + y2) / 2;
  auto central = ((x - cx).abs() < r) & ((y - cy).abs() < r);                           // (P,G)
  auto area = ((x2 - x1) * (y2 - y1)).expand({P, G});
  auto cost = torch::where(inside & central, area, torch::full_like(area, std::numeric_limits<float>::infinity()));
  auto [best, idx] = cost.min(1);                                                       // (P)
  auto positive = torch::isfinite(best);
  a.gt_index = torch::where(positive, idx, torch::full_like(idx, -1));
  auto picked = ltrb.gather(1, idx.view({P, 1, 1}).expand({P, 1, 4})).squeeze(1);     // (P,4)
  a.ltrb = torch::where(positive.view({P, 1}), picked, torch::zeros_like(picked));
  return a;
}

}  // namespace ptft
