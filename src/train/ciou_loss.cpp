#include "ptft/train/ciou_loss.h"

#include <cmath>

#include "ptft/core/error.h"

namespace ptft {

torch::Tensor ciou_loss(const torch::Tensor& pred, const torch::Tensor& target, double eps) {
  PTFT_CHECK(pred.dim() == 2 && pred.size(1) == 4 && target.sizes() == pred.sizes(), "ciou_loss expects (N,4) boxes");
  auto p = pred.unbind(1), t = target.unbind(1);  // x1 y1 x2 y2
  auto pw = p[2] - p[0], ph = p[3] - p[1] + eps;
  auto tw = t[2] - t[0], th = t[3] - t[1] + eps;
  auto iw = (torch::min(p[2], t[2]) - torch::max(p[0], t[0])).clamp_min(0);
  auto ih = (torch::min(p[3], t[3]) - torch::max(p[1], t[1])).clamp_min(0);
  auto inter = iw * ih;
  auto uni = pw * ph + tw * th - inter + eps;
  auto iou = inter / uni;                                                  // (N)
  auto cw = torch::max(p[2], t[2]) - torch::min(p[0], t[0]);              // enclosing box
  auto ch = torch::max(p[3], t[3]) - torch::min(p[1], t[1]);
  auto c2 = cw.pow(2) + ch.pow(2) + eps;                                   // diagonal^2
  auto rho2 = ((p[0] + p[2] - t[0] - t[2]).pow(2) + (p[1] + p[3] - t[1] - t[3]).pow(2)) / 4;  // centre distance^2
  auto v = (4 / (M_PI * M_PI)) * (torch::atan(tw / th) - torch::atan(pw / ph)).pow(2);
  torch::Tensor alpha;
  {
    torch::NoGradGuard ng;
    alpha = v / (v - iou + (1 + eps));
  }
  return 1 - (iou - (rho2 / c2 + v * alpha));  // (N)
}

}  // namespace ptft
