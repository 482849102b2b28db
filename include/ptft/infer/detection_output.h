// ptft/infer/detection_output.h — what `ptft detect` writes per image: the output names (one per
// input, never two alike), the JSON record of the detections and the one-line summary.
//
//   auto stems = unique_output_stems({"a/cat.jpg", "b/cat.png", "dog.png"});  // cat, cat_2, dog
//   nlohmann::ordered_json j = detections_json("a/cat.jpg", 640, 480, dets, det.classes);
//   // {"image": "a/cat.jpg", "width": 640, "height": 480,
//   //  "detections": [{"class": "cat", "class_id": 0, "score": 0.91, "box": [x1, y1, x2, y2]}]}
//   count_by_class(dets, det.classes);                                        // "2 cat, 1 dog"
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ptft/core/boxes.h"

namespace ptft {

// The file stem of each path, with "_2", "_3", ... appended to repeats (and to names an earlier
// suffix already took), so DIR/<stem>.json of one input never overwrites another's.
std::vector<std::string> unique_output_stems(const std::vector<std::string>& files);

// The detections of one image as JSON (above): boxes in original image pixels rounded to 0.01,
// scores to 1e-4, in the given order; keys in the order above. A class id without a name is named by its number.
nlohmann::ordered_json detections_json(const std::string& image, int64_t width, int64_t height,
                               const std::vector<Detection>& dets, const std::vector<std::string>& classes);

// "2 cat, 1 dog": detections per class, the most frequent first (ties: by class id); "no objects"
// when there are none.
std::string count_by_class(const std::vector<Detection>& dets, const std::vector<std::string>& classes);

}  // namespace ptft
