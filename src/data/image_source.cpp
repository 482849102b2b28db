#include "ptft/data/image_source.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <map>
#include <set>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/core/hash.h"
#include "ptft/core/log.h"
#include "ptft/data/augment.h"
#include "ptft/data/idx.h"
#include "ptft/data/image_io.h"
#include "ptft/data/text_inputs.h"

namespace ptft {
namespace {

namespace fsys = std::filesystem;

const char* const kFormatsHint =
    "image data is an IDX images file (*-images-idx3-ubyte[.gz]), a folder with one sub-folder per class, or a CSV "
    "of `path,label` rows (docs/formats.md)";

// One example before decoding. label: index into Catalogue::available.
struct Entry {
  std::string file;   // folders/CSV: the image file; IDX: empty
  std::string key;    // split-hash key and identity: IDX "#<index>", else the path as listed
  int64_t label = 0;
  int64_t index = 0;  // IDX: row in the file
};

struct Catalogue {
  std::string kind;                    // "IDX", "folder", "CSV"
  std::vector<std::string> available;  // every class of the data, label i = available[i]
  std::vector<Entry> entries;
  torch::Tensor idx_images;            // IDX: (N, H, W) uint8
  int64_t ignored = 0;                 // folders: files that are not images
};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Names of numeric labels 0..max_label: data.images.class_names, or "0", "1", ...
std::vector<std::string> numeric_classes(int64_t max_label, const ImageDataConfig& cfg, const std::string& spec) {
  const auto named = static_cast<int64_t>(cfg.class_names.size());
  if (named > 0 && max_label >= named)
    throw UserError("data.images.class_names has " + std::to_string(named) + " names, but '" + spec +
                        "' has label " + std::to_string(max_label),
                    "name every label 0.." + std::to_string(max_label) + ", or leave class_names empty");
  std::vector<std::string> out;
  for (int64_t i = 0; i < std::max(max_label + 1, named); ++i) out.push_back(named ? cfg.class_names[i] : std::to_string(i));
  return out;
}

Catalogue read_idx_catalogue(const std::string& spec, const ImageDataConfig& cfg) {
  Catalogue c;
  c.kind = "IDX";
  c.idx_images = read_idx(spec);
  if (c.idx_images.dim() != 3)
    throw UserError("IDX file '" + spec + "' holds " + std::to_string(c.idx_images.dim()) +
                        "-dimensional data, expected images (N, H, W)",
                    kFormatsHint);
  const std::string labels_path = idx_labels_path(spec);
  std::error_code ec;
  if (!fsys::exists(labels_path, ec))
    throw UserError("IDX images '" + spec + "' have no labels file: '" + labels_path + "' does not exist",
                    "put the matching *-labels-idx1-ubyte[.gz] next to the images");
  const torch::Tensor labels = read_idx(labels_path);
  if (labels.dim() != 1 || labels.size(0) != c.idx_images.size(0))
    throw UserError("IDX labels '" + labels_path + "' do not match the images '" + spec + "': " +
                        std::to_string(labels.numel()) + " labels in " + std::to_string(labels.dim()) +
                        " dimensions for " + std::to_string(c.idx_images.size(0)) + " images",
                    "use the labels file of the same data set and split");
  const auto* l = labels.data_ptr<uint8_t>();
  const int64_t n = labels.size(0);
  int64_t max_label = 0;
  c.entries.resize(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    c.entries[i].key = "#" + std::to_string(i);
    c.entries[i].label = l[i];
    c.entries[i].index = i;
    max_label = std::max<int64_t>(max_label, l[i]);
  }
  c.available = numeric_classes(max_label, cfg, spec);
  return c;
}

Catalogue read_folder_catalogue(const std::string& dir) {
  Catalogue c;
  c.kind = "folder";
  std::vector<fsys::path> class_dirs;
  for (const auto& e : fsys::directory_iterator(dir))
    if (e.is_directory() && e.path().filename().string()[0] != '.') class_dirs.push_back(e.path());
  std::sort(class_dirs.begin(), class_dirs.end());
  if (class_dirs.empty())
    throw UserError("image folder '" + dir + "' has no class sub-folders",
                    "put each class's images in a sub-folder named after it (DIR/cat/1.png, DIR/dog/2.jpg)");
  for (std::size_t k = 0; k < class_dirs.size(); ++k) {
    c.available.push_back(class_dirs[k].filename().string());
    std::vector<Entry> found;
    for (auto it = fsys::recursive_directory_iterator(class_dirs[k]); it != fsys::recursive_directory_iterator(); ++it) {
      if (it->path().filename().string()[0] == '.') {  // hidden files and folders
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file()) continue;
      if (!is_image_file(it->path().string())) {
        ++c.ignored;
        continue;
      }
      Entry e;
      e.file = it->path().string();
      e.key = fsys::relative(it->path(), dir).generic_string();
      e.label = static_cast<int64_t>(k);
      found.push_back(std::move(e));
    }
    std::sort(found.begin(), found.end(), [](const Entry& a, const Entry& b) { return a.key < b.key; });
    c.entries.insert(c.entries.end(), found.begin(), found.end());
  }
  return c;
}

// The fields of one CSV line: comma-separated, "quoted" fields may hold commas ("" = a quote).
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') out.back() += '"', ++i;
      else if (ch == '"') quoted = false;
      else out.back() += ch;
    } else if (ch == '"') {
      quoted = true;
    } else if (ch == ',') {
      out.emplace_back();
    } else {
      out.back() += ch;
    }
  }
  for (auto& f : out) {  // trim spaces
    const auto b = f.find_first_not_of(" \t"), e = f.find_last_not_of(" \t");
    f = b == std::string::npos ? std::string() : f.substr(b, e - b + 1);
  }
  return out;
}

Catalogue read_csv_catalogue(const std::string& spec, const ImageDataConfig& cfg) {
  Catalogue c;
  c.kind = "CSV";
  const fsys::path base = fsys::path(spec).parent_path();
  text::TextFile file(spec);
  std::string line;
  int64_t line_no = 0;
  std::vector<std::string> labels;
  while (file.getline(line)) {
    ++line_no;
    if (line_no == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);  // byte-order mark
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (text::is_blank(line)) continue;
    const auto fields = csv_fields(line);
    const std::string where = spec + ":" + std::to_string(line_no);
    if (c.entries.empty() && labels.empty() && fields.size() == 2) {
      static const std::set<std::string> header = {"path", "file", "filename", "image", "img", "filepath", "image_path"};
      if (header.count(lower(fields[0]))) continue;
    }
    if (fields.size() != 2 || fields[0].empty() || fields[1].empty())
      throw UserError(where + ": expected `path,label`, got '" + line + "'",
                      "one image per row: a path (relative to the CSV's folder) and a label (an integer or a name)");
    Entry e;
    const fsys::path p(fields[0]);
    e.file = (p.is_absolute() ? p : base / p).string();
    e.key = fields[0];
    c.entries.push_back(std::move(e));
    labels.push_back(fields[1]);
  }
  if (c.entries.empty())
    throw UserError("CSV '" + spec + "' lists no images", "add rows `path,label` (an optional first row `path,label`)");
  const bool numeric = std::all_of(labels.begin(), labels.end(), [](const std::string& s) {
    return s.size() <= 9 && std::all_of(s.begin(), s.end(), [](unsigned char ch) { return std::isdigit(ch); });
  });
  if (numeric) {
    int64_t max_label = 0;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      c.entries[i].label = std::stoll(labels[i]);
      max_label = std::max(max_label, c.entries[i].label);
    }
    c.available = numeric_classes(max_label, cfg, spec);
  } else {
    std::set<std::string> names(labels.begin(), labels.end());
    c.available.assign(names.begin(), names.end());
    for (std::size_t i = 0; i < labels.size(); ++i)
      c.entries[i].label = std::lower_bound(c.available.begin(), c.available.end(), labels[i]) - c.available.begin();
  }
  return c;
}

// A fixed number in [0, 1) per example key: below val_fraction = the val share.
double split_hash(const std::string& key) {
  return static_cast<double>(splitmix64(fnv1a64("ptft-image-val/" + key)) >> 11) * 0x1.0p-53;
}

}  // namespace

bool is_image_data_path(const std::string& spec) {
  std::error_code ec;
  if (fsys::is_directory(spec, ec)) return true;
  return is_idx_images_path(spec) || ends_with(lower(spec), ".csv");
}

ImageSource::ImageSource(const std::string& spec, const std::string& split, const DataContext& ctx)
    : spec_(spec), split_(split), ctx_(ctx), cfg_(ctx.images ? *ctx.images : ImageDataConfig{}) {
  cfg_.validate();
  std::error_code ec;
  Catalogue cat = fsys::is_directory(spec, ec) ? read_folder_catalogue(spec)
                  : is_idx_images_path(spec)   ? read_idx_catalogue(spec, cfg_)
                  : ends_with(lower(spec), ".csv")
                      ? read_csv_catalogue(spec, cfg_)
                      : throw UserError("'" + spec + "' is not image data", kFormatsHint);
  kind_ = cat.kind;
  ignored_files_ = cat.ignored;
  file_examples_ = static_cast<int64_t>(cat.entries.size());

  // Class ids: data.images.classes in its order, else every class of the data.
  std::vector<int64_t> id_of(cat.available.size(), -1);
  if (cfg_.classes.empty()) {
    class_names_ = cat.available;
    for (std::size_t i = 0; i < id_of.size(); ++i) id_of[i] = static_cast<int64_t>(i);
  } else {
    for (std::size_t k = 0; k < cfg_.classes.size(); ++k) {
      const auto it = std::find(cat.available.begin(), cat.available.end(), cfg_.classes[k]);
      if (it == cat.available.end()) {
        const std::string near = config::nearest(cfg_.classes[k], cat.available);
        throw UserError("data.images.classes: '" + cfg_.classes[k] + "' is not a class of " + spec + " (classes: " +
                            config::list_names(cat.available) + ")",
                        near.empty() ? "use the class names of the data"
                                     : "did you mean '" + near + "'?");
      }
      id_of[it - cat.available.begin()] = static_cast<int64_t>(k);
    }
    class_names_ = cfg_.classes;
  }

  // Which examples this split holds (before decoding anything).
  const bool holdout = cfg_.val_fraction > 0;
  std::vector<Entry> kept;
  for (auto& e : cat.entries) {
    if (id_of[e.label] < 0) continue;
    const bool in_val = holdout && split_hash(e.key) < cfg_.val_fraction;
    held_out_ += (split == "train" && in_val) || (split == "val" && holdout && !in_val);
    if ((split == "train" && in_val) || (split == "val" && holdout && !in_val)) continue;
    e.label = id_of[e.label];
    kept.push_back(std::move(e));
  }
  if (split == "train" && cfg_.per_class > 0) {  // few-shot: a seeded choice per class
    auto gen = at::detail::createCPUGenerator(splitmix64(ctx.seed ^ fnv1a64("ptft-image-per-class")));
    const auto perm = torch::randperm(static_cast<int64_t>(kept.size()), gen, torch::kLong);
    std::vector<int64_t> per(class_names_.size(), 0);
    std::vector<bool> keep(kept.size(), false);
    for (int64_t i = 0; i < perm.numel(); ++i) {
      const int64_t j = perm.data_ptr<int64_t>()[i];
      if (per[kept[j].label] < cfg_.per_class) ++per[kept[j].label], keep[j] = true;
    }
    std::vector<Entry> few;
    for (std::size_t j = 0; j < kept.size(); ++j)
      if (keep[j]) few.push_back(std::move(kept[j]));
    cut_ = static_cast<int64_t>(kept.size() - few.size());
    kept = std::move(few);
  }
  const int64_t S = cfg_.size;
  int64_t C = cfg_.channels;

  if (cat.kind == "IDX") {
    const int64_t h = cat.idx_images.size(1), w = cat.idx_images.size(2);
    native_shape_ = "1x" + std::to_string(h) + "x" + std::to_string(w);
    if (S == 0 && h != w)
      throw UserError("IDX images '" + spec + "' are " + std::to_string(h) + "x" + std::to_string(w) +
                          ", not square, and data.images.size is 0 (the data's own size)",
                      "set data.images.size (the images are resized and centre-cropped to it)");
    std::vector<int64_t> rows;
    for (const auto& e : kept) rows.push_back(e.index);
    auto picked = cat.idx_images.index_select(0, torch::tensor(rows, torch::kLong)).unsqueeze(1);  // (n, 1, h, w)
    if (S > 0 && (S != h || S != w)) {
      std::vector<torch::Tensor> parts;
      for (int64_t b = 0; b < picked.size(0); b += 4096)
        parts.push_back(fit_images(picked.slice(0, b, std::min(b + 4096, picked.size(0))), S));
      picked = parts.empty() ? torch::empty({0, 1, S, S}, torch::kUInt8) : torch::cat(parts);
    }
    images_ = picked.contiguous();  // grey; expanded to 3 channels per batch when asked
    if (C == 0) C = 1;
  } else {
    // Decode every image of the split (in parallel), each converted and fitted as predict does.
    const auto n = static_cast<int64_t>(kept.size());
    const int64_t limit = cfg_.cache_mb * (int64_t{1} << 20);
    if (S > 0 && n * (C ? C : 3) * S * S > limit)
      throw UserError("data set '" + spec + "' (" + split + "): " + std::to_string(n) + " images of " +
                          std::to_string(C ? C : 3) + "x" + std::to_string(S) + "x" + std::to_string(S) + " take " +
                          std::to_string(n * (C ? C : 3) * S * S >> 20) + " MB decoded, above data.images.cache_mb = " +
                          std::to_string(cfg_.cache_mb),
                      "raise data.images.cache_mb if the memory is there, or use a smaller data.images.size or "
                      "fewer images (images are decoded into memory at the start)");
    std::vector<torch::Tensor> decoded(static_cast<std::size_t>(n));
    std::vector<std::string> errors(static_cast<std::size_t>(n));
    std::atomic<int64_t> bytes{0};
    std::atomic<bool> over{false};
    at::parallel_for(0, n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end && !over; ++i) {
        try {
          auto chw = decode_image(kept[i].file).permute({2, 0, 1});  // (c, h, w)
          if (C == 1) chw = convert_channels(chw, 1);
          chw = S > 0 ? fit_images(chw.unsqueeze(0).contiguous(), S)[0] : chw.contiguous();
          if ((bytes += chw.numel()) > limit) over = true;
          decoded[i] = chw;
        } catch (const Error& e) {
          errors[i] = e.message();
        } catch (const std::exception& e) {
          errors[i] = "image '" + kept[i].file + "': " + e.what();
        }
      }
    });
    if (over)
      throw UserError("data set '" + spec + "' (" + split + ") takes more than data.images.cache_mb = " +
                          std::to_string(cfg_.cache_mb) + " MB decoded at its own image size",
                      "set data.images.size to shrink the images, or raise data.images.cache_mb");
    std::vector<Entry> ok;
    std::vector<torch::Tensor> imgs;
    for (int64_t i = 0; i < n; ++i) {
      if (errors[i].empty()) {
        ok.push_back(std::move(kept[i]));
        imgs.push_back(std::move(decoded[i]));
        continue;
      }
      if (!cfg_.skip_corrupt)
        throw UserError(errors[i], "fix or remove the file, or set data.images.skip_corrupt: true to skip unreadable images");
      ++skipped_;
      if (skipped_files_.size() < 5) skipped_files_.push_back(kept[i].file);
    }
    if (skipped_ > 0)
      log_warn("image data '" + spec + "': " + std::to_string(skipped_) + " unreadable images skipped (first: " +
               skipped_files_[0] + ")");
    kept = std::move(ok);
    if (C == 0) C = std::any_of(imgs.begin(), imgs.end(), [](const torch::Tensor& t) { return t.size(0) == 3; }) ? 3 : 1;
    int64_t side = S;
    for (std::size_t i = 0; i < imgs.size() && S == 0; ++i) {
      const int64_t h = imgs[i].size(1), w = imgs[i].size(2);
      if (h != w || (side > 0 && h != side))
        throw UserError("image '" + kept[i].file + "' is " + std::to_string(h) + "x" + std::to_string(w) +
                            (h != w ? ", not square" : ", but the images before it are " + std::to_string(side) + "x" +
                                                           std::to_string(side)) +
                            ", and data.images.size is 0 (every image at its own size)",
                        "set data.images.size (images are resized and centre-cropped to it)");
      side = h;
    }
    native_shape_ = S > 0 ? "decoded at " + std::to_string(S) + "x" + std::to_string(S)
                          : std::to_string(side) + "x" + std::to_string(side);
    images_ = torch::empty({static_cast<int64_t>(imgs.size()), C, side, side}, torch::kUInt8);
    for (std::size_t i = 0; i < imgs.size(); ++i) images_[static_cast<int64_t>(i)].copy_(convert_channels(imgs[i], C));
  }

  if (kept.empty())
    throw UserError("image data '" + spec + "' has no examples in its " + split + " split (" +
                        std::to_string(file_examples_) + " in the data" +
                        (cfg_.classes.empty() ? "" : ", classes kept: " + config::list_names(cfg_.classes)) +
                        (holdout ? ", val_fraction " + std::to_string(cfg_.val_fraction) : "") +
                        (skipped_ ? ", " + std::to_string(skipped_) + " unreadable" : "") + ")",
                    "check the path and data.images.classes / val_fraction");
  std::vector<int64_t> labels;
  for (auto& e : kept) {
    labels.push_back(e.label);
    keys_.push_back(std::move(e.key));
  }
  labels_ = torch::tensor(labels, torch::kLong);
  const int64_t side = images_.size(2);
  pre_ = ImagePreprocess{side, C, resolve_norm(cfg_.mean, C, "data.images.mean"),
                         resolve_norm(cfg_.std, C, "data.images.std")};
  order_ = std::make_unique<EpochShuffle>(size(), splitmix64(ctx.seed ^ splitmix64(fnv1a64("images:" + split))));
  augment_key_ = splitmix64(ctx.seed ^ splitmix64(fnv1a64("image-augment:" + split)));
}

std::string ImageSource::describe() const {
  std::string s = "images '" + spec_ + "' (" + kind_ + ", " + split_ + ": " + std::to_string(size()) + " of " +
                  std::to_string(file_examples_) + " examples, " + std::to_string(class_names_.size()) + " classes";
  if (held_out_ > 0)
    s += "; " + std::to_string(held_out_) + (split_ == "train" ? " held out for val" : " kept for train") +
         " (val_fraction " + std::to_string(cfg_.val_fraction).substr(0, 6) + ")";
  if (cfg_.per_class > 0 && split_ == "train")
    s += "; per_class " + std::to_string(cfg_.per_class) + " (" + std::to_string(cut_) + " left out)";
  s += "; " + native_shape_ + " -> " + std::to_string(pre_.channels) + "x" + std::to_string(pre_.size) + "x" +
       std::to_string(pre_.size);
  if (skipped_ > 0) {
    s += "; " + std::to_string(skipped_) + " unreadable skipped:";
    for (const auto& f : skipped_files_) s += " " + f;
    if (skipped_ > static_cast<int64_t>(skipped_files_.size())) s += " ...";
  }
  if (ignored_files_ > 0) s += "; " + std::to_string(ignored_files_) + " non-image files ignored";
  return s + ")";
}

std::vector<int64_t> ImageSource::class_counts() const {
  auto counts = torch::bincount(labels_, {}, static_cast<int64_t>(class_names_.size()));
  return {counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel()};
}

Batch ImageSource::make_batch(const torch::Tensor& index, const std::vector<uint64_t>* augment_keys) const {
  auto x = convert_channels(images_.index_select(0, index), pre_.channels).to(torch::kFloat).div_(255.0);  // (B, C, S, S)
  x = augment_keys ? augment_batch(x, cfg_.augment, *augment_keys, pre_.mean, pre_.std)
                   : normalize(x, pre_.mean, pre_.std);
  return Batch{{{"x", x}, {"y", labels_.index_select(0, index)}}, index.numel()};
}

Batch ImageSource::train_batch(const BatchAddress& at) {
  const int64_t first = stream_position(at, ctx_);
  std::vector<int64_t> idx(static_cast<std::size_t>(at.micro_batch));
  std::vector<uint64_t> keys(idx.size());
  for (int64_t j = 0; j < at.micro_batch; ++j) {
    idx[j] = order_->example(first + j);
    keys[j] = splitmix64(augment_key_ ^ splitmix64(static_cast<uint64_t>(first + j)));
  }
  return make_batch(torch::tensor(idx, torch::kLong), &keys);
}

int64_t ImageSource::eval_batches(int64_t batch_size) const { return eval_batch_count(size(), batch_size); }

Batch ImageSource::eval_batch(int64_t index, int64_t batch_size) {
  const auto [begin, end] = eval_batch_range(size(), index, batch_size);
  return make_batch(torch::arange(begin, end, torch::kLong), nullptr);
}

std::unique_ptr<ImageSource> open_image_source(const std::string& spec, const std::string& split,
                                               const DataContext& ctx) {
  return std::make_unique<ImageSource>(spec, split, ctx);
}

}  // namespace ptft
