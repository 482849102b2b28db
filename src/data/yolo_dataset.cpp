#include "ptft/data/yolo_dataset.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "ptft/core/config.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/data/image_decode.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

const std::vector<std::string> kKeys = {"path", "train", "val", "test", "names", "nc", "download"};

std::string resolve(const std::string& base, const std::string& p) {
  return sfs::path(p).is_absolute() ? p : (sfs::path(base) / p).lexically_normal().string();
}

std::vector<std::string> entries(const YAML::Node& n, const std::string& key, const std::string& file) {
  if (!n) return {};
  if (n.IsScalar()) return {n.as<std::string>()};
  if (n.IsSequence()) {
    std::vector<std::string> v;
    for (const auto& e : n) {
      if (!e.IsScalar()) throw UserError(file + ": '" + key + "' must list paths", "e.g. " + key + ": [images/a, images/b]");
      v.push_back(e.as<std::string>());
    }
    return v;
  }
  throw UserError(file + ": '" + key + "' must be a path or a list of paths", "e.g. " + key + ": images/" + key);
}

}  // namespace

namespace {

YoloDataYaml parse_data_yaml(const std::string& path, const YAML::Node& root);

}  // namespace

YoloDataYaml read_yolo_data_yaml(const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::Load(fs::read_file(path, "data.yaml"));
  } catch (const YAML::Exception& e) {
    throw UserError("'" + path + "' is not valid YAML: " + e.what(), "fix the file (Ultralytics data.yaml layout)");
  }
  if (!root.IsMap()) throw UserError("'" + path + "' is not a YAML mapping", "give path, train, val and names");
  try {
    return parse_data_yaml(path, root);
  } catch (const YAML::Exception& e) {  // a value of the wrong kind (a list where a name belongs, nc: two)
    throw UserError("'" + path + "': a value has the wrong type: " + e.what(),
                    "path/train/val/test are paths (or lists of paths), names a list or {id: name}, nc an integer");
  }
}

namespace {

YoloDataYaml parse_data_yaml(const std::string& path, const YAML::Node& root) {
  for (const auto& kv : root) {
    const std::string k = kv.first.as<std::string>();
    if (std::find(kKeys.begin(), kKeys.end(), k) == kKeys.end()) {
      const std::string near = config::nearest(k, kKeys);
      throw UserError("'" + path + "': unknown key '" + k + "'",
                      (near.empty() ? std::string() : "did you mean '" + near + "'? ") +
                          "data.yaml keys: path, train, val, test, names, nc, download");
    }
  }
  YoloDataYaml d;
  d.file = path;
  const std::string dir = sfs::path(path).parent_path().string();
  d.root = resolve(dir.empty() ? "." : dir, root["path"] ? root["path"].as<std::string>() : ".");
  const YAML::Node names = root["names"];
  if (!names) throw UserError("'" + path + "' has no 'names'", "list the class names: names: [plate, car] or {0: plate, 1: car}");
  if (names.IsSequence()) {
    for (const auto& n : names) d.names.push_back(n.as<std::string>());
  } else if (names.IsMap()) {
    std::map<int64_t, std::string> by_id;
    for (const auto& kv : names) {
      int64_t id = -1;
      try {
        id = kv.first.as<int64_t>();
      } catch (const YAML::Exception&) {
      }
      if (id < 0) throw UserError("'" + path + "': names key '" + kv.first.as<std::string>() + "' is not a class id", "use 0, 1, 2, ...");
      by_id[id] = kv.second.as<std::string>();
    }
    int64_t expect = 0;
    for (const auto& [id, name] : by_id) {
      if (id != expect)
        throw UserError("'" + path + "': names has no class " + std::to_string(expect) + " (ids must be 0..K-1)",
                        "number the classes from 0 without gaps");
      d.names.push_back(name);
      ++expect;
    }
  } else {
    throw UserError("'" + path + "': 'names' must be a list or a mapping of ids to names", "names: [plate, car]");
  }
  if (d.names.empty()) throw UserError("'" + path + "': 'names' is empty", "list at least one class");
  if (root["nc"] && root["nc"].as<int64_t>() != static_cast<int64_t>(d.names.size()))
    throw UserError("'" + path + "': nc is " + root["nc"].as<std::string>() + " but names has " +
                        std::to_string(d.names.size()) + " classes",
                    "make them agree (or drop nc)");
  for (auto [key, out] : {std::pair{"train", &d.train}, std::pair{"val", &d.val}, std::pair{"test", &d.test}})
    for (const auto& e : entries(root[key], key, "'" + path + "'")) out->push_back(resolve(d.root, e));
  if (d.train.empty()) throw UserError("'" + path + "' has no 'train'", "train: images/train (relative to path)");
  return d;
}

}  // namespace

std::vector<std::string> yolo_split_images(const YoloDataYaml& d, const std::string& split) {
  const std::vector<std::string>* list = split == "train" ? &d.train : split == "val" ? &d.val : split == "test" ? &d.test : nullptr;
  PTFT_CHECK(list != nullptr, "unknown split " + split);
  if (list->empty()) throw UserError("'" + d.file + "' has no '" + split + "' split", "add " + split + ": images/" + split);
  std::vector<std::string> out;
  for (const auto& e : *list) {
    std::error_code ec;
    std::vector<std::string> here;
    if (sfs::is_directory(e, ec)) {
      for (auto it = sfs::recursive_directory_iterator(e, ec); it != sfs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && is_image_file(it->path().string())) here.push_back(it->path().string());
    } else if (sfs::is_regular_file(e, ec) && sfs::path(e).extension() == ".txt") {
      std::istringstream in(fs::read_file(e, "image list"));
      std::string line;
      const std::string base = sfs::path(e).parent_path().string();
      while (std::getline(in, line)) {
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
        if (!line.empty()) here.push_back(resolve(base, line));
      }
    } else {
      throw UserError("'" + d.file + "': " + split + " entry '" + e + "' is neither a folder nor a .txt list of images",
                      "check the path (relative to data.yaml's `path`, " + d.root + ")");
    }
    std::sort(here.begin(), here.end());
    out.insert(out.end(), here.begin(), here.end());
  }
  if (out.empty()) throw UserError("'" + d.file + "': the " + split + " split holds no images", "images are files decode_image reads (.png, .jpg, .jpeg, .bmp, ...)");
  return out;
}

std::string yolo_label_path(const std::string& image_path) {
  const std::string sa = "/images/", sb = "/labels/";
  std::string p = image_path;
  const auto at = p.rfind(sa);
  if (at != std::string::npos) p.replace(at, sa.size(), sb);
  const auto dot = p.rfind('.');
  const auto slash = p.rfind('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) p.erase(dot);
  return p + ".txt";
}

std::vector<YoloBox> read_yolo_labels(const std::string& path, int64_t num_classes, bool missing_ok) {
  std::error_code ec;
  if (!sfs::exists(path, ec)) {
    if (missing_ok) return {};
    throw UserError("label file '" + path + "' does not exist", "every image needs labels/<name>.txt (empty = no objects)");
  }
  std::istringstream in(fs::read_file(path, "label file"));
  std::vector<YoloBox> out;
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    const std::string where = path + ":" + std::to_string(n);
    std::istringstream ls(line);
    std::vector<std::string> tok;
    for (std::string t; ls >> t;) tok.push_back(t);
    if (tok.empty()) continue;
    if (tok.size() != 5)
      throw UserError(where + ": " + std::to_string(tok.size()) + " values, expected 5 (class cx cy w h)",
                      tok.size() > 5 ? "polygon (segment) labels are not supported: convert them to boxes"
                                     : "one object per line: class cx cy w h, normalised to 0..1");
    double v[5];
    for (int i = 0; i < 5; ++i) {
      char* end = nullptr;
      errno = 0;
      v[i] = std::strtod(tok[static_cast<size_t>(i)].c_str(), &end);
      if (end == tok[static_cast<size_t>(i)].c_str() || *end != '\0' || errno == ERANGE || !std::isfinite(v[i]))
        throw UserError(where + ": '" + tok[static_cast<size_t>(i)] + "' is not a number", "class cx cy w h");
    }
    if (v[0] != std::floor(v[0]) || v[0] < 0 || v[0] >= static_cast<double>(num_classes))
      throw UserError(where + ": class " + tok[0] + " is not a class id 0.." + std::to_string(num_classes - 1),
                      "the ids index data.yaml's names (" + std::to_string(num_classes) + " classes)");
    for (int i = 1; i < 5; ++i)
      if (v[i] < 0 || v[i] > 1)
        throw UserError(where + ": " + tok[static_cast<size_t>(i)] + " is outside [0, 1]",
                        "coordinates are normalised by the image size (pixel labels must be divided by width/height)");
    const YoloBox b{static_cast<int64_t>(v[0]), v[1], v[2], v[3], v[4]};
    if (b.w <= 0 || b.h <= 0) throw UserError(where + ": the box has zero width or height", "drop the line or fix the box");
    if (b.cx - b.w / 2 < -kYoloEdgeSlack || b.cx + b.w / 2 > 1 + kYoloEdgeSlack || b.cy - b.h / 2 < -kYoloEdgeSlack ||
        b.cy + b.h / 2 > 1 + kYoloEdgeSlack)
      throw UserError(where + ": the box reaches outside the image (cx " + tok[1] + " cy " + tok[2] + " w " + tok[3] +
                          " h " + tok[4] + ")",
                      "clip the box to the image");
    out.push_back(b);
  }
  return out;
}

}  // namespace ptft
