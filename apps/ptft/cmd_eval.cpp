// ptft eval --model CKPT --data FILE|SHARD_DIR [--split val] [--batch-size 8] [--json] [--threads N]
// Language models: loss and perplexity. Image classifiers (--data an image data set) and text
// classifiers (--data a labelled JSONL file): accuracy, macro-F1, per-class precision/recall and
// the confusion matrix.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "ptft/core/error.h"
#include "ptft/core/device.h"
#include "image_options.h"
#include "ptft/train/confusion.h"
#include "ptft/eval/detection_eval.h"
#include "ptft/train/detection_map.h"
#include "ptft/eval/lm_eval.h"
#include "ptft/infer/image_classifier.h"
#include "ptft/infer/pretrained.h"
#include "ptft/infer/text_classifier.h"

namespace ptft::cli {
namespace {

// Classifier metrics: one JSON object, or the per-class table + confusion matrix and the loss.
void print_classification(const nlohmann::json& m, const std::vector<std::string>& classes, bool json) {
  if (json) {
    std::cout << m.dump() << std::endl;
    return;
  }
  if (m.contains("confusion")) {
    std::cout << ConfusionMatrix::from_rows(m["confusion"]).table(classes);
  } else {
    char acc[96];
    std::snprintf(acc, sizeof acc, "accuracy %.4f, macro-F1 %.4f over %lld examples\n", m.at("accuracy").get<double>(),
                  m.at("macro_f1").get<double>(), static_cast<long long>(m.at("examples").get<int64_t>()));
    std::cout << acc;
  }
  char line[96];
  std::snprintf(line, sizeof line, "loss %.4f", m.at("loss").get<double>());
  std::cout << line;
  if (m.contains("top5_accuracy")) {
    std::snprintf(line, sizeof line, "  top-5 accuracy %.4f", m.at("top5_accuracy").get<double>());
    std::cout << line;
  }
  std::cout << std::endl;
}

}  // namespace

Action add_eval(CLI::App& app) {
  auto* sub = app.add_subcommand("eval", "Measure a language model's perplexity on text or token shards, or an image "
                                         "classifier's accuracy on labelled images");
  auto model = std::make_shared<std::string>();
  auto o = std::make_shared<LmEvalOptions>();
  auto json = std::make_shared<bool>(false);
  auto threads = std::make_shared<int>(0);
  sub->add_option("--model", *model, "checkpoint directory, run directory or Hugging Face model directory")->required();
  sub->add_option("--data", o->data,
                  "a text file or a token shard directory (language models); an IDX file, class folders or CSV "
                  "(image classifiers); a JSONL file of {\"text\", \"label\"} rows (text classifiers)")
      ->required();
  sub->add_option("--split", o->split, "split of a shard directory (train | val) or of a detection data.yaml (train | val | test)")->capture_default_str();
  sub->add_option("--batch-size", o->batch_size, "windows per forward pass")->capture_default_str();
  sub->add_option("--max-tokens", o->max_tokens,
                  "shards: evaluate only the split's first windows, about this many tokens (0 = all)")
      ->capture_default_str();
  sub->add_flag("--json", *json,
                "print {\"loss\", \"perplexity\", \"tokens\"} (masked LMs: + accuracy; classifiers: loss, accuracy, macro_f1, per_class, "
                "confusion, ...; detectors: map50, map50_95, precision, recall, per_class, losses) on stdout");
  auto img = std::make_shared<ImageOptions>();
  img->add_to(*sub);
  sub->add_option("--threads", *threads, "intra-op threads (0 = all cores)")->capture_default_str();
  return [=] {
    set_threads(*threads);
    Pretrained p = load_pretrained(*model, {/*require_tokenizer=*/false, /*language_model_for=*/""});
    // A detector evaluates the train | val | test split of a data.yaml (checked there).
    if (find_model_family(p.model->family(), p.dir).default_task == "detection") {
      const nlohmann::json m = evaluate_detector(*p.model, o->data, o->split, o->batch_size);
      if (*json) {
        std::cout << m.dump() << std::endl;
      } else {
        std::cout << detection_table(m["per_class"], p.model->class_names());
        std::printf("mAP50 %.4f  mAP50-95 %.4f  (%lld images; precision/recall at confidence 0.25)\n",
                    m["map50"].get<double>(), m["map50_95"].get<double>(), static_cast<long long>(m["images"].get<int64_t>()));
      }
      return 0;
    }
    o->validate();
    if (!p.model->class_names().empty() && p.model->context_length() > 0 && !is_text_classification_jsonl(o->data))
      throw UserError("'" + p.dir + "' is a text classifier, and --data '" + o->data +
                          "' is not labelled JSONL (no \"label\" in its first row)",
                      "pass a JSONL file of {\"text\", \"label\"} rows, e.g. data/fortunes/test.jsonl");
    if (!p.model->class_names().empty() && is_text_classification_jsonl(o->data)) {
      const TextClassifier clf = as_text_classifier(std::move(p));
      const nlohmann::json m = evaluate_text_classifier(clf, o->data, o->batch_size);
      print_classification(m, clf.classes, *json);
      return 0;
    }
    if (!p.model->class_names().empty()) {
      const ImageClassifier clf = as_image_classifier(std::move(p), img->get());
      const nlohmann::json m = evaluate_image_classifier(clf, o->data, o->batch_size);
      print_classification(m, clf.classes, *json);
      return 0;
    }
    const nlohmann::json m = evaluate_lm(*p.model, p.tokenizer, *o);
    // Masked LMs also report the accuracy of the masked-token predictions.
    if (*json) {
      nlohmann::json out = {{"loss", m.at("loss")}, {"perplexity", m.at("perplexity")}, {"tokens", m.at("tokens")}};
      if (m.contains("accuracy")) out["accuracy"] = m["accuracy"];
      std::cout << out.dump() << std::endl;
    } else {
      char line[200];
      std::snprintf(line, sizeof line, "loss %.4f  perplexity %.3f  (%lld %stokens)", m.at("loss").get<double>(),
                    m.at("perplexity").get<double>(), static_cast<long long>(m.at("tokens").get<int64_t>()),
                    m.contains("accuracy") ? "masked " : "");
      std::cout << line;
      if (m.contains("accuracy")) {
        std::snprintf(line, sizeof line, "  accuracy %.4f", m.at("accuracy").get<double>());
        std::cout << line;
      }
      std::cout << std::endl;
    }
    return 0;
  };
}

}  // namespace ptft::cli
