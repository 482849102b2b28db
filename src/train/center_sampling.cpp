#include "ptft/train/center_sampling.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ptft/core/error.h"

namespace ptft {

// One loop over points x boxes (a training step called ~40 small tensor ops per image here, on
// the step's serial path): the same float arithmetic as the tensor form it replaced — distances
// x - x1, y - y1, x2 - x, y2 - y; inside when their minimum is > 0; central when |x - cx| and
// |y - cy| are < stride * radius with cx = (x1 + x2) / 2; the smallest area wins, the first box
// on a tie.
PointAssignment center_sampling_assign(const torch::Tensor& points, const torch::Tensor& strides,
                                       const torch::Tensor& gt, double radius) {
  PTFT_CHECK(points.dim() == 2 && points.size(1) == 2, "points must be (P,2)");
  PTFT_CHECK(strides.dim() == 1 && strides.size(0) == points.size(0), "strides must be (P)");
  PTFT_CHECK(gt.dim() == 2 && gt.size(1) == 4, "gt boxes must be (G,4)");
  PTFT_CHECK(points.scalar_type() == torch::kFloat && points.is_cpu(), "points must be float32 on the CPU");
  const int64_t P = points.size(0), G = gt.size(0);
  PointAssignment a;
  a.gt_index = torch::full({P}, -1, torch::kLong);
  a.ltrb = torch::zeros({P, 4}, points.options());
  if (G == 0) return a;
  const torch::Tensor pts = points.contiguous(), st = strides.to(torch::kFloat).contiguous();
  const torch::Tensor boxes = gt.to(torch::kFloat).contiguous();
  const float* xy = pts.data_ptr<float>();
  const float* s = st.data_ptr<float>();
  const float* bx = boxes.data_ptr<float>();
  int64_t* index = a.gt_index.data_ptr<int64_t>();
  float* out = a.ltrb.data_ptr<float>();
  const auto rad = static_cast<float>(radius);
  for (int64_t p = 0; p < P; ++p) {
    const float x = xy[2 * p], y = xy[2 * p + 1], r = s[p] * rad;
    float best = std::numeric_limits<float>::infinity();
    int64_t pick = -1;
    for (int64_t g = 0; g < G; ++g) {
      const float* b = bx + 4 * g;  // x1, y1, x2, y2
      const float d[4] = {x - b[0], y - b[1], b[2] - x, b[3] - y};
      const bool inside = std::min(std::min(d[0], d[1]), std::min(d[2], d[3])) > 0;
      const float cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2;
      const bool central = std::abs(x - cx) < r && std::abs(y - cy) < r;
      const float area = (b[2] - b[0]) * (b[3] - b[1]);
      if (inside && central && area < best) {
        best = area;
        pick = g;
      }
    }
    if (pick < 0) continue;
    index[p] = pick;
    const float* b = bx + 4 * pick;
    out[4 * p] = x - b[0];
    out[4 * p + 1] = y - b[1];
    out[4 * p + 2] = b[2] - x;
    out[4 * p + 3] = b[3] - y;
  }
  return a;
}

}  // namespace ptft
