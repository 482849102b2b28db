#include "ptft/infer/text_classifier.h"

#include <algorithm>

#include "ptft/core/error.h"

namespace ptft {

TextClassifier load_text_classifier(const std::string& path) {
  return as_text_classifier(load_pretrained(path, {/*require_tokenizer=*/true, /*language_model_for=*/""}));
}

TextClassifier as_text_classifier(Pretrained pretrained) {
  TextClassifier clf;
  clf.pretrained = std::move(pretrained);
  const ModelImpl& m = *clf.pretrained.model;
  clf.classes = m.class_names();
  if (clf.classes.empty() || m.context_length() <= 0)
    throw UserError("'" + clf.pretrained.dir + "' holds a " + m.family() + " model, not a text classifier",
                    "fine-tune a bert checkpoint on classification JSONL ({\"text\", \"label\"} rows) first");
  if (!clf.pretrained.tokenizer)
    throw UserError("'" + clf.pretrained.dir + "' has no tokenizer", "a text classifier keeps its tokenizer in tokenizer/");
  clf.specials = ClassificationSpecials::of(*clf.pretrained.tokenizer, "'" + clf.pretrained.dir + "'");
  clf.max_len = m.context_length();
  return clf;
}

std::vector<TextPrediction> predict_texts(const TextClassifier& clf, const std::vector<TextInput>& texts, int64_t top_k,
                                          int64_t batch_size) {
  batch_size = std::max<int64_t>(1, batch_size);
  std::vector<TextPrediction> out;
  torch::NoGradGuard ng;
  for (size_t start = 0; start < texts.size(); start += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(texts.size(), start + static_cast<size_t>(batch_size));
    std::vector<EncodedText> enc;
    for (size_t i = start; i < end; ++i) {
      const TextInput& t = texts[i];
      enc.push_back(encode_for_classification(*clf.pretrained.tokenizer, clf.specials, t.text,
                                              t.pair ? &*t.pair : nullptr, clf.max_len));
    }
    const TensorMap in = classification_inputs(enc, clf.specials.pad);
    auto tops = top_classes(clf.pretrained.model->forward(in).at("logits"), clf.classes, top_k);  // (B, C) -> top k
    for (size_t i = start; i < end; ++i) out.push_back({texts[i], std::move(tops[i - start]), enc[i - start].truncated});
  }
  return out;
}

nlohmann::json evaluate_text_classifier(const TextClassifier& clf, const std::string& jsonl, int64_t batch_size) {
  DataContext ctx;
  ctx.tokenizer = clf.pretrained.tokenizer;
  ctx.block_size = clf.max_len;
  ctx.vocab_size = clf.pretrained.model->vocab_size();
  ctx.classes = clf.classes;
  TextClassificationJsonl src(jsonl, "test", ctx);
  return evaluate_classifier(*clf.pretrained.model, src, clf.classes, batch_size);
}

}  // namespace ptft
