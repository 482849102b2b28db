#include "ptft/data/detection_source.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/core/hash.h"
#include "ptft/data/augment.h"
#include "ptft/data/image_io.h"
#include "ptft/data/yolo_dataset.h"

namespace ptft {
namespace {

namespace fsys = std::filesystem;

// Label boxes (normalised centre and size) -> (N, 4) float corners in pixels of a w x h image,
// and (N) int64 class ids.
std::pair<torch::Tensor, torch::Tensor> pixel_boxes(const std::vector<YoloBox>& labels, int64_t w, int64_t h) {
  const auto n = static_cast<int64_t>(labels.size());
  auto boxes = torch::empty({n, 4}, torch::kFloat);
  auto cls = torch::empty({n}, torch::kLong);
  auto* pb = boxes.data_ptr<float>();
  auto* pc = cls.data_ptr<int64_t>();
  const double W = static_cast<double>(w), H = static_cast<double>(h);
  for (int64_t i = 0; i < n; ++i) {
    const YoloBox& b = labels[static_cast<std::size_t>(i)];
    pb[4 * i + 0] = static_cast<float>(std::clamp(b.cx - b.w / 2, 0.0, 1.0) * W);
    pb[4 * i + 1] = static_cast<float>(std::clamp(b.cy - b.h / 2, 0.0, 1.0) * H);
    pb[4 * i + 2] = static_cast<float>(std::clamp(b.cx + b.w / 2, 0.0, 1.0) * W);
    pb[4 * i + 3] = static_cast<float>(std::clamp(b.cy + b.h / 2, 0.0, 1.0) * H);
    pc[i] = b.cls;
  }
  return {boxes, cls};
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

bool is_detection_data_path(const std::string& spec) {
  std::error_code ec;
  const std::string ext = lower(fsys::path(spec).extension().string());
  return (ext == ".yaml" || ext == ".yml") && fsys::is_regular_file(spec, ec);
}

DetectionSource::DetectionSource(const std::string& data_yaml, const std::string& split, const DataContext& ctx)
    : file_(data_yaml), split_(split), ctx_(ctx), cfg_(ctx.detection ? *ctx.detection : DetectionDataConfig{}) {
  cfg_.validate();
  size_ = cfg_.size > 0 ? cfg_.size : ctx.image_size;
  if (size_ <= 0)
    throw UserError("detection data '" + data_yaml + "': no input size (data.detection.size is 0 and the model "
                    "has no image_size)",
                    "set data.detection.size, e.g. 160 (a multiple of 32)");
  const YoloDataYaml d = read_yolo_data_yaml(data_yaml);
  names_ = d.names;
  // Another split (val data, a test set) must number the classes as the training data / model do.
  if (!ctx.classes.empty() && ctx.classes != names_) {
    auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& n : v) s += (s.empty() ? "" : ", ") + n;
      return "[" + s + "]";
    };
    throw UserError("'" + data_yaml + "' names the classes " + list(names_) + " but the model's are " +
                        list(ctx.classes),
                    "use data with the same `names`, in the same order (class ids must mean the same objects)");
  }
  paths_ = yolo_split_images(d, split == "train" || split == "val" ? split : "test");
  listed_ = static_cast<int64_t>(paths_.size());
  if (split == "train" && cfg_.per_split > 0 && cfg_.per_split < listed_) paths_.resize(static_cast<std::size_t>(cfg_.per_split));

  // Labels and pixels of every image, in parallel; the first failure in split order is reported.
  const auto n = static_cast<int64_t>(paths_.size());
  const auto num_classes = static_cast<int64_t>(names_.size());
  images_.resize(paths_.size());
  orig_hw_.resize(paths_.size());
  std::vector<std::exception_ptr> errors(paths_.size());
  std::vector<char> missing(paths_.size(), 0);
  at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const auto k = static_cast<std::size_t>(i);
      try {
        const std::string label_file = yolo_label_path(paths_[k]);
        std::error_code ec;
        missing[k] = fsys::exists(label_file, ec) ? 0 : 1;
        const auto labels = read_yolo_labels(label_file, num_classes);
        if (static_cast<int64_t>(labels.size()) > cfg_.max_objects)
          throw UserError("label file '" + label_file + "' has " + std::to_string(labels.size()) +
                              " objects, more than data.detection.max_objects = " + std::to_string(cfg_.max_objects),
                          "raise data.detection.max_objects (Ultralytics keeps up to 300 per image)");
        const torch::Tensor hwc = decode_image(paths_[k]);  // (H0, W0, C)
        orig_hw_[k] = {hwc.size(0), hwc.size(1)};
        const auto [boxes, cls] = pixel_boxes(labels, hwc.size(1), hwc.size(0));
        images_[k] = load_resize(hwc, boxes, cls, size_);  // (3, h, w), longer side S
      } catch (...) {
        errors[k] = std::current_exception();
      }
    }
  });
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  for (std::size_t k = 0; k < images_.size(); ++k) {
    const int64_t count = images_[k].boxes.size(0);
    boxes_ += count;
    negatives_ += count == 0;
    missing_labels_ += missing[k];
  }

  if (ctx.total_steps > 0 && ctx.examples_per_step > 0)
    total_epochs_ = (ctx.total_steps * ctx.examples_per_step + n - 1) / n;
  order_ = std::make_unique<EpochShuffle>(n, splitmix64(ctx.seed ^ splitmix64(fnv1a64("detection:" + split))));
  augment_key_ = splitmix64(ctx.seed ^ splitmix64(fnv1a64("detection-augment:" + split)));
}

std::string DetectionSource::describe() const {
  std::string s = "data.yaml '" + file_ + "' (" + split_ + "): " + std::to_string(size()) + " images";
  if (size() < listed_) s += " (the first of " + std::to_string(listed_) + ", data.detection.per_split)";
  s += ", " + std::to_string(boxes_) + " boxes, " + std::to_string(names_.size()) + " classes (" +
       config::list_names(names_) + "), " + std::to_string(negatives_) + " negatives";
  if (missing_labels_ > 0) s += " (" + std::to_string(missing_labels_) + " without a label file)";
  s += ", " + std::to_string(size_) + " px";
  if (split_ == "train" && cfg_.mosaic > 0) {
    const int64_t open = total_epochs_ - cfg_.close_mosaic;
    s += total_epochs_ == 0 ? std::string(", mosaic on")
         : open > 0 ? ", mosaic in epochs 1.." + std::to_string(open) + " of " + std::to_string(total_epochs_)
                    : ", no mosaic (data.detection.close_mosaic " + std::to_string(cfg_.close_mosaic) + " >= " +
                          std::to_string(total_epochs_) + " epochs)";
  }
  return s;
}

const DetectionImage& DetectionSource::image(int64_t i) const {
  PTFT_CHECK(i >= 0 && i < size(), "DetectionSource::image: index outside the split");
  return images_[static_cast<std::size_t>(i)];
}

Letterbox DetectionSource::letterbox_info(int64_t i) const {
  const DetectionImage& im = image(i);
  Letterbox lb;
  lb.orig_h = orig_hw_[static_cast<std::size_t>(i)][0];
  lb.orig_w = orig_hw_[static_cast<std::size_t>(i)][1];
  lb.scale = static_cast<double>(size_) / static_cast<double>(std::max(lb.orig_h, lb.orig_w));
  lb.pad_x = static_cast<double>((size_ - im.image.size(2)) / 2);
  lb.pad_y = static_cast<double>((size_ - im.image.size(1)) / 2);
  return lb;
}

bool DetectionSource::mosaic_open(int64_t position) const {
  if (total_epochs_ == 0) return true;
  return position / size() < total_epochs_ - cfg_.close_mosaic;
}

Batch DetectionSource::collate(std::vector<DetectionImage> examples) const {
  const auto B = static_cast<int64_t>(examples.size());
  int64_t M = 1;
  for (const auto& e : examples) M = std::max(M, e.boxes.size(0));
  auto x = torch::empty({B, 3, size_, size_}, torch::kUInt8);  // (B, 3, S, S)
  auto boxes = torch::zeros({B, M, 4}, torch::kFloat);
  auto labels = torch::full({B, M}, -1, torch::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const DetectionImage& e = examples[static_cast<std::size_t>(b)];
    x[b].copy_(e.image);
    const int64_t n = e.boxes.size(0);
    if (n == 0) continue;
    boxes[b].narrow(0, 0, n).copy_(e.boxes);
    labels[b].narrow(0, 0, n).copy_(e.labels);
  }
  return Batch{{{"x", x.to(torch::kFloat).div_(255.0)}, {"boxes", boxes}, {"labels", labels}}, B};
}

Batch DetectionSource::train_batch(const BatchAddress& at) {
  const int64_t first = stream_position(at, ctx_);
  const std::vector<int64_t> idx = order_->examples(first, at.micro_batch);
  std::vector<DetectionImage> examples(idx.size());
  at::parallel_for(0, at.micro_batch, 1, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; ++j) {
      ExampleRng rng(splitmix64(augment_key_ ^ splitmix64(static_cast<uint64_t>(first + j))));
      examples[static_cast<std::size_t>(j)] =
          train_example(images_, idx[static_cast<std::size_t>(j)], mosaic_open(first + j), cfg_, size_, rng);
    }
  });
  return collate(std::move(examples));
}

int64_t DetectionSource::eval_batches(int64_t batch_size) const { return eval_batch_count(size(), batch_size); }

Batch DetectionSource::eval_batch(int64_t index, int64_t batch_size) {
  std::vector<DetectionImage> examples;
  for (const int64_t i : eval_batch_examples(size(), index, batch_size))
    examples.push_back(letterbox_square(images_[static_cast<std::size_t>(i)], size_));
  return collate(std::move(examples));
}

}  // namespace ptft
