// ptft predict --model CKPT IMAGE... [--top-k K] [--json] [--batch-size N] [--threads N]
//              [--size S --channels C --mean M --std S]
// ptft predict --model CKPT --text TEXT [--text TEXT]... [--pair TEXT]... [--top-k K] [--json]
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "image_options.h"
#include "ptft/core/device.h"
#include "ptft/core/error.h"
#include "ptft/infer/image_classifier.h"
#include "ptft/infer/text_classifier.h"

namespace ptft::cli {

Action add_predict(CLI::App& app) {
  auto* sub = app.add_subcommand("predict", "Label images with an image classifier, or texts with a text classifier "
                                            "(label and probability per input)");
  auto model = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto texts = std::make_shared<std::vector<std::string>>();
  auto pairs = std::make_shared<std::vector<std::string>>();
  auto top_k = std::make_shared<int64_t>(1);
  auto batch = std::make_shared<int64_t>(32);
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  auto img = std::make_shared<ImageOptions>();
  sub->add_option("--model", *model, "checkpoint, run or Hugging Face directory of an image or text classifier")->required();
  sub->add_option("images", *files, "image files (PNG, JPEG, BMP)");
  sub->add_option("--text", *texts, "a text to classify (repeat for several); text classifiers (bert)");
  sub->add_option("--pair", *pairs, "the second text of a sentence pair, one per --text (text_b)");
  sub->add_option("--top-k", *top_k, "also list the K most likely classes")->capture_default_str();
  sub->add_option("--batch-size", *batch, "images per forward pass")->capture_default_str();
  sub->add_flag("--json", *json,
                "print {\"predictions\": [{\"file\" (or \"text\"), \"label\", \"probability\", \"top\"}]} on stdout");
  sub->add_option("--threads", *threads, "intra-op threads (0 = all cores)")->capture_default_str();
  img->add_to(*sub);
  return [=] {
    set_threads(*threads);
    if (!texts->empty() && !files->empty())
      throw UserError("give either image files or --text, not both", "predict labels one kind of input per call");
    if (texts->empty() && files->empty())
      throw UserError("nothing to predict", "pass image files, or --text \"...\" for a text classifier");
    if (!pairs->empty() && pairs->size() != texts->size())
      throw UserError(std::to_string(pairs->size()) + " --pair for " + std::to_string(texts->size()) + " --text",
                      "give one --pair per --text (sentence pairs), or none");
    std::vector<std::string> names;           // file or text of each prediction
    std::vector<ClassScores> tops;
    std::vector<bool> truncated;
    if (!texts->empty()) {
      const TextClassifier clf = load_text_classifier(*model);
      std::vector<TextInput> in;
      for (size_t i = 0; i < texts->size(); ++i)
        in.push_back({(*texts)[i], pairs->empty() ? std::nullopt : std::optional<std::string>((*pairs)[i])});
      for (auto& p : predict_texts(clf, in, std::max<int64_t>(1, *top_k), *batch)) {
        names.push_back(p.input.text);
        tops.push_back(std::move(p.top));
        truncated.push_back(p.truncated);
      }
    } else {
      const ImageClassifier clf = load_image_classifier(*model, img->get());
      for (auto& p : predict_images(clf, *files, std::max<int64_t>(1, *top_k), *batch)) {
        names.push_back(p.file);
        tops.push_back(std::move(p.top));
        truncated.push_back(false);
      }
    }
    const char* key = texts->empty() ? "file" : "text";
    if (*json) {
      nlohmann::json arr = nlohmann::json::array();
      for (size_t i = 0; i < names.size(); ++i) {
        nlohmann::json top = nlohmann::json::array();
        for (const auto& [name, prob] : tops[i]) top.push_back({{"label", name}, {"probability", prob}});
        nlohmann::json row = {{key, names[i]}, {"label", tops[i][0].first}, {"probability", tops[i][0].second}, {"top", top}};
        if (truncated[i]) row["truncated"] = true;
        arr.push_back(row);
      }
      std::cout << nlohmann::json{{"predictions", arr}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
      return 0;
    }
    for (size_t i = 0; i < names.size(); ++i) {
      std::string line = names[i] + "\t" + tops[i][0].first;
      char prob[32];
      std::snprintf(prob, sizeof prob, "\t%.4f", tops[i][0].second);
      line += prob;
      for (size_t j = 1; j < tops[i].size(); ++j) {
        std::snprintf(prob, sizeof prob, " %.4f", tops[i][j].second);
        line += (j == 1 ? "\t(" : ", ") + tops[i][j].first + prob + (j + 1 == tops[i].size() ? ")" : "");
      }
      std::cout << line << "\n";
    }
    std::cout.flush();
    return 0;
  };
}

}  // namespace ptft::cli
