#include "ptft/infer/image_classifier.h"

#include <algorithm>

#include "ptft/core/error.h"
#include "ptft/data/image_source.h"
#include "ptft/infer/class_scores.h"

namespace ptft {

nlohmann::json image_record(const ImagePreprocess& preprocess, const ImageClassSelection& selection) {
  return {{"preprocess", preprocess}, {"selection", selection}};
}

ImageClassifier load_image_classifier(const std::string& path, const std::optional<ImagePreprocess>& preprocess) {
  return as_image_classifier(load_pretrained(path, {/*require_tokenizer=*/false, /*language_model_for=*/""}), preprocess);
}

ImageClassifier as_image_classifier(Pretrained pretrained, const std::optional<ImagePreprocess>& preprocess) {
  ImageClassifier clf;
  clf.pretrained = std::move(pretrained);
  const ModelImpl& m = *clf.pretrained.model;
  clf.classes = m.class_names();
  if (find_model_family(m.family(), clf.pretrained.dir).default_task == "detection")
    throw UserError("'" + clf.pretrained.dir + "' holds a " + m.family() + " object detector, not an image classifier",
                    "find objects with `ptft detect --model " + clf.pretrained.dir + " IMAGE... --out DIR`");
  if (clf.classes.empty())
    throw UserError("'" + clf.pretrained.dir + "' holds a " + m.family() + " model, not an image classifier",
                    "predict and image evaluation need a classifier checkpoint (e.g. a resnet run)");
  const std::string where = clf.pretrained.dir + "/config.json ptft.images";
  const nlohmann::json& cfg = clf.pretrained.config;
  const bool recorded = cfg.contains("ptft") && cfg["ptft"].is_object() && cfg["ptft"].contains("images");
  if (recorded) {
    const nlohmann::json& rec = cfg["ptft"]["images"];
    try {
      clf.preprocess = rec.at("preprocess").get<ImagePreprocess>();
      clf.selection = rec.at("selection").get<ImageClassSelection>();
    } catch (const UserError& e) {
      throw e.with_context(where);
    } catch (const nlohmann::json::exception& e) {
      throw UserError(where + " is malformed: " + e.what(), "re-export the checkpoint with ptft");
    }
  } else if (!preprocess) {
    throw UserError("'" + clf.pretrained.dir + "' does not record how its images were preprocessed (no " + where + ")",
                    "pass --size, --channels, --mean and --std (e.g. 224, 3, 0.485,0.456,0.406 and 0.229,0.224,0.225 "
                    "for ImageNet weights)");
  }
  if (preprocess) clf.preprocess = *preprocess;
  // Without a record the classes are the model's own names.
  if (clf.selection.classes.empty()) clf.selection.classes = clf.classes;
  return clf;
}

std::vector<ImagePrediction> predict_images(const ImageClassifier& clf, const std::vector<std::string>& files,
                                            int64_t top_k, int64_t batch_size) {
  batch_size = std::max<int64_t>(1, batch_size);
  std::vector<ImagePrediction> out;
  torch::NoGradGuard ng;
  for (size_t start = 0; start < files.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(files.size(), start + static_cast<size_t>(batch_size));
    std::vector<torch::Tensor> xs;
    for (size_t i = start; i < end; ++i) xs.push_back(load_image_for_model(files[i], clf.preprocess));  // (C,H,W)
    auto logits = clf.pretrained.model->forward({{"x", torch::stack(xs)}}).at("logits");  // (B, C)
    auto tops = top_classes(logits, clf.classes, top_k);
    for (size_t i = start; i < end; ++i) out.push_back({files[i], std::move(tops[i - start])});
  }
  return out;
}

nlohmann::json evaluate_image_classifier(const ImageClassifier& clf, const std::string& data_spec,
                                         int64_t batch_size) {
  auto images = std::make_shared<ImageDataConfig>();
  images->class_names = clf.selection.class_names;
  images->classes = clf.classes;
  images->size = clf.preprocess.size;
  images->channels = clf.preprocess.channels;
  images->mean = clf.preprocess.mean;
  images->std = clf.preprocess.std;
  DataContext ctx;
  ctx.images = images;
  ImageSource src(data_spec, "test", ctx);
  return evaluate_classifier(*clf.pretrained.model, src, clf.classes, batch_size);
}

}  // namespace ptft
