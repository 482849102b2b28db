#include "ptft/infer/detection_output.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace ptft {
namespace {

// v rounded to 1 / per_unit (the nearest double to the decimal, so JSON prints it short).
double round_to(double v, double per_unit) { return std::round(v * per_unit) / per_unit; }

std::string class_name(int64_t cls, const std::vector<std::string>& classes) {
  return cls >= 0 && cls < static_cast<int64_t>(classes.size()) ? classes[static_cast<size_t>(cls)] : std::to_string(cls);
}

}  // namespace

std::vector<std::string> unique_output_stems(const std::vector<std::string>& files) {
  std::set<std::string> taken;
  std::vector<std::string> out;
  for (const std::string& f : files) {
    std::string stem = std::filesystem::path(f).stem().string();
    if (stem.empty()) stem = "image";
    std::string name = stem;
    for (int k = 2; taken.count(name); ++k) name = stem + "_" + std::to_string(k);
    taken.insert(name);
    out.push_back(name);
  }
  return out;
}

nlohmann::ordered_json detections_json(const std::string& image, int64_t width, int64_t height,
                               const std::vector<Detection>& dets, const std::vector<std::string>& classes) {
  nlohmann::ordered_json arr = nlohmann::ordered_json::array();
  for (const Detection& d : dets)
    arr.push_back({{"class", class_name(d.cls, classes)},
                   {"class_id", d.cls},
                   {"score", round_to(d.score, 1e4)},
                   {"box", {round_to(d.box.x1, 100), round_to(d.box.y1, 100), round_to(d.box.x2, 100),
                            round_to(d.box.y2, 100)}}});
  return {{"image", image}, {"width", width}, {"height", height}, {"detections", arr}};
}

std::string count_by_class(const std::vector<Detection>& dets, const std::vector<std::string>& classes) {
  if (dets.empty()) return "no objects";
  std::map<int64_t, int64_t> counts;
  for (const Detection& d : dets) ++counts[d.cls];
  std::vector<std::pair<int64_t, int64_t>> order(counts.begin(), counts.end());  // (class, count)
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  std::string s;
  for (const auto& [cls, n] : order) s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + class_name(cls, classes);
  return s;
}

}  // namespace ptft
