#include "ptft/data/synth_detection.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/data/idx.h"
#include "ptft/data/image_io.h"
#include "ptft/data/sampling.h"
#include "ptft/core/boxes.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

constexpr int kVisible = 25;        // grey level above which an item pixel counts for its box
constexpr double kMaxOverlap = 0.3;  // IoU above which a placement is redrawn
constexpr int kTries = 20;

std::string quote_yaml(const std::string& s) {
  std::string q = "\"";
  for (char c : s) q += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  return q + "\"";
}

// A textured background (3,S,S) float in [0,1]: a smooth colour field (8x8 noise upsampled),
// diagonal stripes of random period and strength, and fine grain.
torch::Tensor background(int64_t S, std::mt19937_64& rng) {
  std::uniform_real_distribution<float> u(0.f, 1.f);
  auto coarse = torch::empty({1, 3, 8, 8});
  for (int64_t i = 0; i < coarse.numel(); ++i) coarse.data_ptr<float>()[i] = 0.15f + 0.6f * u(rng);
  auto bg = resize_bilinear(coarse, S, S)[0];  // (3,S,S)
  const float period = 6.f + 20.f * u(rng), strength = 0.15f * u(rng), phase = 6.283f * u(rng);
  auto yy = torch::arange(S).to(torch::kFloat).view({S, 1}), xx = torch::arange(S).to(torch::kFloat).view({1, S});
  bg = bg + strength * torch::sin((xx + yy) * (6.283f / period) + phase);  // (S,S) broadcast
  auto grain = torch::empty({3, S, S});
  for (int64_t i = 0; i < grain.numel(); ++i) grain.data_ptr<float>()[i] = u(rng) - 0.5f;
  return (bg + 0.08f * grain).clamp(0, 1);
}

}  // namespace

void SynthDetectionOptions::validate() const {
  if (out.empty()) throw UserError("--out is not set", "name the output directory");
  if (train < 1 || val < 0) throw UserError("--train must be >= 1 and --val >= 0 scenes");
  if (size < 32 || size > 4096) throw UserError("--size " + std::to_string(size) + " is outside 32..4096 pixels");
  if (min_objects < 1 || max_objects < min_objects)
    throw UserError("--min-objects / --max-objects must satisfy 1 <= min <= max, got " + std::to_string(min_objects) +
                    " / " + std::to_string(max_objects));
  if (!(min_scale > 0) || max_scale < min_scale)
    throw UserError("--min-scale / --max-scale must satisfy 0 < min <= max");
  if (negatives < 0 || negatives >= 1) throw UserError("--negatives must be in [0, 1)");
}

std::string SynthDetectionSummary::text() const {
  return "wrote " + std::to_string(scenes[0]) + " train scenes (" + std::to_string(objects[0]) + " objects) and " +
         std::to_string(scenes[1]) + " val scenes (" + std::to_string(objects[1]) + " objects) of " +
         std::to_string(names.size()) + " classes";
}

SynthDetectionSummary synth_detection(const SynthDetectionOptions& o) {
  o.validate();
  if (!is_idx_images_path(o.source))
    throw UserError("--source '" + o.source + "' is not an IDX images file (*-images-idx3-ubyte[.gz])",
                    "e.g. /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz (apt-get install dataset-fashion-mnist)");
  const torch::Tensor images = read_idx(o.source);                    // (N,H,W) uint8
  const torch::Tensor labels = read_idx(idx_labels_path(o.source));   // (N)
  if (images.dim() != 3 || labels.dim() != 1 || labels.size(0) != images.size(0))
    throw UserError("'" + o.source + "' and its labels file do not hold one label per image");
  // Output classes: the chosen source classes, in the order given.
  std::vector<int64_t> source_of;  // output id -> source label
  SynthDetectionSummary s;
  if (o.classes.empty()) {
    for (size_t i = 0; i < o.class_names.size(); ++i) source_of.push_back(static_cast<int64_t>(i));
    s.names = o.class_names;
  } else {
    for (const auto& c : o.classes) {
      auto it = std::find(o.class_names.begin(), o.class_names.end(), c);
      if (it == o.class_names.end()) {
        std::string known;
        for (const auto& n : o.class_names) known += (known.empty() ? "" : ", ") + n;
        throw UserError("--classes: '" + c + "' is not a class of the source", "the classes are: " + known);
      }
      source_of.push_back(it - o.class_names.begin());
      s.names.push_back(c);
    }
  }
  // Source items per output class and split (index % 5 == 0: val).
  const int64_t N = images.size(0);
  const auto* lab = labels.data_ptr<uint8_t>();
  std::vector<std::vector<int64_t>> pool[2];
  for (auto& p : pool) p.resize(source_of.size());
  for (int64_t i = 0; i < N; ++i)
    for (size_t c = 0; c < source_of.size(); ++c)
      if (lab[i] == source_of[c]) pool[i % 5 == 0 ? 1 : 0][c].push_back(i);
  for (int sp = 0; sp < 2; ++sp)
    for (size_t c = 0; c < source_of.size(); ++c)
      if (pool[sp][c].empty())
        throw UserError("'" + o.source + "' has no images of class '" + s.names[c] + "'",
                        "check --classes against the source's labels");

  fs::require_new_dir(o.out, "--out");
  const int64_t S = o.size, H = images.size(1), W = images.size(2);
  fs::write_dir_atomic(o.out, [&](const std::string& tmp) {
    const char* split_names[2] = {"train", "val"};
    for (int sp = 0; sp < 2; ++sp) {
      const int64_t n_scenes = sp == 0 ? o.train : o.val;
      if (n_scenes == 0) continue;  // --val 0: no val split at all
      sfs::create_directories(tmp + "/images/" + split_names[sp]);
      sfs::create_directories(tmp + "/labels/" + split_names[sp]);
      for (int64_t k = 0; k < n_scenes; ++k) {
        std::mt19937_64 rng(splitmix64(o.seed ^ splitmix64(static_cast<uint64_t>(sp) * 0x9e3779b97f4a7c15ULL + static_cast<uint64_t>(k))));
        std::uniform_real_distribution<double> u(0.0, 1.0);
        torch::Tensor scene = background(S, rng);  // (3,S,S)
        std::vector<Box> boxes;
        std::string label_text;
        const bool negative = u(rng) < o.negatives;
        const int64_t want = negative ? 0 : o.min_objects + static_cast<int64_t>(u(rng) * static_cast<double>(o.max_objects - o.min_objects + 1));
        for (int64_t j = 0; j < std::min(want, o.max_objects); ++j) {
          const auto c = static_cast<size_t>(u(rng) * static_cast<double>(source_of.size())) % source_of.size();
          const auto& items = pool[sp][c];
          const int64_t idx = items[static_cast<size_t>(u(rng) * static_cast<double>(items.size())) % items.size()];
          const double scale = o.min_scale + (o.max_scale - o.min_scale) * u(rng);
          const int64_t h = std::min<int64_t>(S, std::max<int64_t>(4, static_cast<int64_t>(H * scale + 0.5)));
          const int64_t w = std::min<int64_t>(S, std::max<int64_t>(4, static_cast<int64_t>(W * scale + 0.5)));
          auto mask = resize_bilinear(images[idx].to(torch::kFloat).view({1, 1, H, W}), h, w)[0][0];  // (h,w) 0..255
          // The tight box of the visible pixels, within the item.
          auto visible = mask.gt(kVisible);
          if (!visible.any().item<bool>()) continue;
          auto rows = visible.any(1).nonzero(), cols = visible.any(0).nonzero();
          const int64_t r0 = rows.min().item<int64_t>(), r1 = rows.max().item<int64_t>() + 1;
          const int64_t c0 = cols.min().item<int64_t>(), c1 = cols.max().item<int64_t>() + 1;
          bool placed = false;
          int64_t y = 0, x = 0;
          Box b;
          for (int t = 0; t < kTries && !placed; ++t) {
            y = static_cast<int64_t>(u(rng) * static_cast<double>(S - h + 1));
            x = static_cast<int64_t>(u(rng) * static_cast<double>(S - w + 1));
            b = Box{static_cast<double>(x + c0), static_cast<double>(y + r0), static_cast<double>(x + c1),
                    static_cast<double>(y + r1)};
            placed = std::none_of(boxes.begin(), boxes.end(), [&](const Box& o2) { return iou(o2, b) > kMaxOverlap; });
          }
          if (!placed) continue;
          // Paste: the grey level is the opacity, the colour a random saturated one.
          auto alpha = (mask / 255.0).clamp(0, 1).unsqueeze(0);  // (1,h,w)
          auto colour = torch::tensor({static_cast<float>(u(rng)), static_cast<float>(u(rng)), static_cast<float>(u(rng))})
                            .view({3, 1, 1});
          colour = (colour - colour.min()) / std::max(1e-3f, (colour.max() - colour.min()).item<float>());  // saturate
          auto region = scene.slice(1, y, y + h).slice(2, x, x + w);  // (3,h,w) view
          region.copy_(region * (1 - alpha) + colour * alpha);
          boxes.push_back(b);
          char line[96];
          std::snprintf(line, sizeof line, "%zu %.6f %.6f %.6f %.6f\n", c, (b.x1 + b.x2) / 2 / S, (b.y1 + b.y2) / 2 / S,
                        (b.x2 - b.x1) / S, (b.y2 - b.y1) / S);
          label_text += line;
        }
        char name[32];
        std::snprintf(name, sizeof name, "%06lld", static_cast<long long>(k));
        const std::string sub = std::string("/") + split_names[sp] + "/" + name;
        write_png(tmp + "/images" + sub + ".png", (scene * 255).round().to(torch::kUInt8).permute({1, 2, 0}).contiguous());
        fs::write_file_atomic(tmp + "/labels" + sub + ".txt", label_text);
        ++s.scenes[sp];
        s.objects[sp] += static_cast<int64_t>(boxes.size());
      }
    }
    std::string yaml = "# ptft data synth-detection: items of " + o.source + " on textured backgrounds\npath: .\ntrain: images/train\n" + std::string(o.val > 0 ? "val: images/val\n" : "") + "names:\n";
    for (size_t c = 0; c < s.names.size(); ++c) yaml += "  " + std::to_string(c) + ": " + quote_yaml(s.names[c]) + "\n";
    fs::write_file_atomic(tmp + "/data.yaml", yaml);
  });
  return s;
}

}  // namespace ptft
