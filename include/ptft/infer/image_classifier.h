// ptft/infer/image_classifier.h — a trained image classifier ready to use: labels for image
// files (`ptft predict`), metrics on a labelled data set (`ptft eval`).
//
// A checkpoint trained by ptft on image data records how its inputs were made and which classes
// its outputs are (config.json `ptft.images`):
//   {"preprocess": {"size", "channels", "mean", "std"},            // ptft/data/image_preprocess.h
//    "selection": {"class_names": [...], "classes": [...]}}         // ptft/data/image_config.h
// so prediction applies the same deterministic transform as evaluation did, and `eval` on a test
// file keeps the same classes in the same order. Weights from elsewhere (a torchvision state dict)
// have no such record: pass `preprocess` explicitly.
//
//   ImageClassifier clf = load_image_classifier("runs/tshirt-vs-shirt", std::nullopt);
//   auto preds = predict_images(clf, {"a.png", "b.jpg"}, /*top_k=*/3, /*batch_size=*/32);
//   preds[0].top[0].first;   // "Shirt"; .second: its probability
//   nlohmann::json m = evaluate_image_classifier(clf, "t10k-images-idx3-ubyte.gz", 256);
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ptft/data/image_config.h"
#include "ptft/data/image_preprocess.h"
#include "ptft/infer/pretrained.h"

namespace ptft {

struct ImageClassifier {
  Pretrained pretrained;            // model in eval mode
  ImagePreprocess preprocess;       // the eval transform
  ImageClassSelection selection;    // how the training data's labels became class ids
  std::vector<std::string> classes; // output i is classes[i]
};

// Loads a checkpoint / run directory / foreign weights (see pretrained.h). `preprocess`, when
// given, replaces the recorded transform; without one and without a record: UserError.
ImageClassifier load_image_classifier(const std::string& path, const std::optional<ImagePreprocess>& preprocess);
// The same for a model already loaded.
ImageClassifier as_image_classifier(Pretrained pretrained, const std::optional<ImagePreprocess>& preprocess);

struct ImagePrediction {
  std::string file;
  std::vector<std::pair<std::string, double>> top;  // (class, probability), most likely first
};

// Softmax probabilities of each image's classes, the `top_k` most likely (all when top_k <= 0 or
// above the class count). Unreadable files are UserErrors naming them.
std::vector<ImagePrediction> predict_images(const ImageClassifier& clf, const std::vector<std::string>& files,
                                            int64_t top_k, int64_t batch_size);

// Classification metrics (loss, accuracy, top5_accuracy above 5 classes, macro_f1, per_class,
// confusion; ptft/train/classification_task.h) over every example of `data_spec` (an image data
// set: IDX, class folders, CSV) whose class is one of the model's, labelled by the recorded
// selection. A data set without some of the model's classes is a UserError naming them.
nlohmann::json evaluate_image_classifier(const ImageClassifier& clf, const std::string& data_spec,
                                         int64_t batch_size);

// The `ptft.images` record of a checkpoint's config.json (see above).
nlohmann::json image_record(const ImagePreprocess& preprocess, const ImageClassSelection& selection);

}  // namespace ptft
