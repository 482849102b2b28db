// ptft predict --model CKPT IMAGE... [--top-k K] [--json] [--batch-size N] [--threads N]
//              [--size S --channels C --mean M --std S]
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "image_options.h"
#include "ptft/core/device.h"
#include "ptft/infer/image_classifier.h"

namespace ptft::cli {

Action add_predict(CLI::App& app) {
  auto* sub = app.add_subcommand("predict", "Label images with an image classifier (label and probability per image)");
  auto model = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto top_k = std::make_shared<int64_t>(1);
  auto batch = std::make_shared<int64_t>(32);
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  auto img = std::make_shared<ImageOptions>();
  sub->add_option("--model", *model, "checkpoint directory or run directory of an image classifier")->required();
  sub->add_option("images", *files, "image files (PNG, JPEG, BMP)")->required();
  sub->add_option("--top-k", *top_k, "also list the K most likely classes")->capture_default_str();
  sub->add_option("--batch-size", *batch, "images per forward pass")->capture_default_str();
  sub->add_flag("--json", *json, "print {\"predictions\": [{\"file\", \"label\", \"probability\", \"top\"}]} on stdout");
  sub->add_option("--threads", *threads, "intra-op threads (0 = all cores)")->capture_default_str();
  img->add_to(*sub);
  return [=] {
    set_threads(*threads);
    const ImageClassifier clf = load_image_classifier(*model, img->get());
    const auto preds = predict_images(clf, *files, std::max<int64_t>(1, *top_k), *batch);
    if (*json) {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& p : preds) {
        nlohmann::json top = nlohmann::json::array();
        for (const auto& [name, prob] : p.top) top.push_back({{"label", name}, {"probability", prob}});
        arr.push_back({{"file", p.file}, {"label", p.top[0].first}, {"probability", p.top[0].second}, {"top", top}});
      }
      std::cout << nlohmann::json{{"predictions", arr}}.dump() << std::endl;
      return 0;
    }
    for (const auto& p : preds) {
      std::string line = p.file + "\t" + p.top[0].first;
      char prob[32];
      std::snprintf(prob, sizeof prob, "\t%.4f", p.top[0].second);
      line += prob;
      for (size_t j = 1; j < p.top.size(); ++j) {
        std::snprintf(prob, sizeof prob, " %.4f", p.top[j].second);
        line += (j == 1 ? "\t(" : ", ") + p.top[j].first + prob + (j + 1 == p.top.size() ? ")" : "");
      }
      std::cout << line << "\n";
    }
    std::cout.flush();
    return 0;
  };
}

}  // namespace ptft::cli
