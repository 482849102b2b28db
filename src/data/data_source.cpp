#include "ptft/data/data_source.h"

#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/data/text_inputs.h"
#include "ptft/data/detection_source.h"
#include "ptft/data/image_source.h"
#include "ptft/data/mlm_windows.h"
#include "ptft/data/sft_jsonl.h"
#include "ptft/data/synthetic.h"
#include "ptft/data/text_classification.h"
#include "ptft/data/token_windows.h"
#include "ptft/tokenizer/tokenizer.h"

namespace ptft {

std::unique_ptr<DataSource> open_data_source(const std::string& spec, const std::string& split,
                                             const DataContext& ctx, const std::string& key) {
  const std::string synth = "synthetic:";
  if (spec.rfind(synth, 0) == 0) return make_synthetic(spec.substr(synth.size()), split, ctx, key);
  if (spec.empty())
    throw UserError("'" + key + "' is not set", "set it in the config or with --set " + key + "=PATH");
  std::error_code ec;
  if (!std::filesystem::exists(spec, ec))
    throw UserError(key + ": '" + spec + "' does not exist", text::missing_path_hint(spec));
  if (is_text_classification_jsonl(spec)) {  // before SFT: both are *.jsonl; this one has "label"
    try {
      return std::make_unique<TextClassificationJsonl>(spec, split, ctx);
    } catch (const UserError& e) {
      throw e.with_context(key);
    }
  }
  if (is_sft_jsonl_path(spec)) {
    try {
      return open_sft_jsonl(spec, split, ctx);
    } catch (const UserError& e) {
      throw e.with_context(key);
    }
  }
  if (is_token_shard_dir(spec)) {
    if (ctx.block_size <= 0)
      throw UserError(key + ": '" + spec + "' is a token shard directory (ptft data prepare), but this model "
                      "does not read token sequences",
                      "token shards are read by the language-model families (gpt, bert); use a data set "
                      "for this model's task, or model.family: gpt");
    try {
      if (ctx.mlm_probability > 0) return open_mlm_windows(spec, split, ctx, ctx.block_size);
      return open_token_windows(spec, split, ctx, ctx.block_size,
                                ctx.tokenizer ? ctx.tokenizer->content_hash() : std::string());
    } catch (const UserError& e) {
      throw e.with_context(key);
    }
  }
  if (is_detection_data_path(spec)) {
    try {
      return std::make_unique<DetectionSource>(spec, split, ctx);
    } catch (const UserError& e) {
      throw e.with_context(key);
    }
  }
  if (is_image_data_path(spec)) {
    try {
      return open_image_source(spec, split, ctx);
    } catch (const UserError& e) {
      throw e.with_context(key);
    }
  }
  throw UserError(key + ": no reader recognises '" + spec + "'",
                  "supported sources: synthetic:spirals, synthetic:tokens, token shard directories (ptft data "
                  "prepare; they hold meta.json), text classification data (*.jsonl: text or text_a/text_b rows "
                  "with a label), SFT chat data (*.jsonl: prompt/response or messages rows), "
                  "image data (IDX *-images-idx3-ubyte[.gz], a folder of class folders, a CSV of path,label "
                  "rows), detection data (an Ultralytics data.yaml with names and train/val image folders)");
}

}  // namespace ptft
