// The model phases of run_training (run_state.h): the model (fresh from the config, or the
// architecture and weights of a checkpoint), its tokenizer, and the task it trains.
#include <algorithm>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/data/token_windows.h"
#include "ptft/infer/pretrained.h"
#include "ptft/models/model_files.h"
#include "ptft/transfer/lora.h"
#include "run_state.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

// Whether the trained weights of a `donor` family model can seed the backbone of a new model of
// family `want` (its registry entry's backbone_from).
bool seeds_backbone(const std::string& want, const std::string& donor) {
  for (const ModelFamily& f : model_families())
    if (f.name == want) return std::find(f.backbone_from.begin(), f.backbone_from.end(), donor) != f.backbone_from.end();
  return false;
}

// A new model (the run config's model section) whose backbone is the trunk of the model in `src`
// (e.g. a detector on a ResNet classifier, which it replaces in `model`), with the input
// normalisation of `src` unless the config sets one. Returns a line saying so.
std::string new_model_on_backbone(config::Document& doc, const Checkpoint& src, ModelPtr& model) {
  const nlohmann::json& cfg = src.config;
  if (cfg.contains("ptft") && cfg["ptft"].contains("images") && cfg["ptft"]["images"].contains("preprocess")) {
    const nlohmann::json& pre = cfg["ptft"]["images"]["preprocess"];
    for (const auto& [key, from] : {std::pair<const char*, const char*>{"pixel_mean", "mean"}, {"pixel_std", "std"}}) {
      const YAML::Node& section = doc.root()["model"];
      if (!section[key] && pre.contains(from)) doc.set(std::string("model.") + key + "=" + pre[from].dump());
    }
  }
  ModelPtr fresh = create_model(doc, "model");
  const int64_t n = fresh->load_backbone(src.model, src.dir + "/model.safetensors");
  const std::string donor = model->family();
  model = fresh;
  return "backbone: " + std::to_string(n) + " tensors from the " + donor + " classifier '" + src.dir +
         "' (its fc head is dropped; neck and detection head start fresh)";
}

// Architecture keys cannot change a trained model: say so rather than ignore them silently.
// Keys whose value is the checkpoint's (a run's own config.yaml, resumed) change nothing.
void warn_ignored_model_keys(const RunState& s) {
  if (!s.backbone_note.empty() || !s.cfg.model || !s.cfg.model.IsMap() || s.quiet) return;
  const YAML::Node have = s.model->config_yaml();
  std::string ignored;
  for (const auto& kv : s.cfg.model) {
    const std::string key = kv.first.as<std::string>();
    if (key == "family" || key == "preset") continue;
    if (have[key] && config::emit_inline(have[key]) == config::emit_inline(kv.second)) continue;
    ignored += (ignored.empty() ? "model." : ", model.") + key;
  }
  if (!ignored.empty())
    log_warn(ignored + ": ignored when fine-tuning; the architecture (dropout included) is the checkpoint's ('" +
             s.from_dir + "/config.json')");
}

// finetune.from's model (a LoRA checkpoint's adapters folded in: fine-tuning starts from the
// adapted model), or a new model of model.family on its backbone; and its tokenizer.
void load_checkpoint_model(RunState& s) {
  const RunConfig& cfg = s.cfg;
  std::error_code from_ec;
  if (!sfs::exists(cfg.finetune.from, from_ec))
    throw UserError("checkpoint '" + cfg.finetune.from + "' does not exist (finetune.from, " +
                        s.doc.origin_of("finetune.from") + ")",
                    "pass --from a checkpoint directory (runs/NAME/checkpoints/best), a run directory (its best "
                    "checkpoint is used), a Hugging Face directory or a .safetensors state dict");
  s.from_dir = resolve_checkpoint_dir(cfg.finetune.from);  // a run directory means its best checkpoint
  Checkpoint src = read_checkpoint(s.from_dir, /*with_training_state=*/false);
  s.from_config = src.config;
  s.model = model_from_checkpoint(src);
  if (has_lora(*s.model)) merge_lora(*s.model);
  const std::string want_family =
      cfg.model && cfg.model.IsMap() && cfg.model["family"] ? cfg.model["family"].as<std::string>() : "";
  if (!want_family.empty() && seeds_backbone(want_family, s.model->family())) {
    // The seed's "pre-train on ImageNet, then adapt": e.g. an image classifier's trunk becomes
    // the backbone of a new detector.
    s.backbone_note = new_model_on_backbone(s.doc, src, s.model);
  } else if (!want_family.empty() && want_family != s.model->family())
    throw UserError(s.doc.origin_of("model.family") + ": model.family is '" + cfg.model["family"].as<std::string>() +
                        "' but checkpoint '" + s.from_dir + "' holds a '" + s.model->family() + "' model",
                    "remove the model section (fine-tuning uses the checkpoint's architecture)");
  warn_ignored_model_keys(s);
  s.tokenizer = find_tokenizer(s.from_dir);
}

// The vocabulary size of the tokenizer the training data brings (token shards' own, or
// data.tokenizer); 0 when it brings none.
int64_t data_vocab_size(const RunState& s) {
  const DataConfig& data = s.cfg.data;
  TokenizerPtr tok = !data.tokenizer.empty()            ? load_tokenizer(data.tokenizer)
                     : is_token_shard_dir(data.train) ? find_tokenizer(data.train)
                                                      : nullptr;
  return tok ? tok->vocab_size() : 0;
}

// A new model (the config's model section, its preset filled in). Unless the config sets
// model.vocab_size, a text model takes the vocabulary size of the data's tokenizer: a preset's
// 8000 or 50257 is a guess, the tokenizer is the fact.
void create_fresh_model(RunState& s) {
  const YAML::Node section = s.doc.root()["model"];
  const bool user_vocab = section && section.IsMap() && section["vocab_size"];
  s.model = create_model(s.doc, "model");
  if (user_vocab || s.model->vocab_size() <= 0) return;
  const int64_t v = data_vocab_size(s);
  if (v <= 0 || v == s.model->vocab_size()) return;
  if (!s.quiet)
    log_info("model.vocab_size " + std::to_string(v) + ": the tokenizer's (the preset has " +
             std::to_string(s.model->vocab_size()) + "; set model.vocab_size to choose)");
  YAML::Node root = s.doc.root();  // shares the document's tree
  root["model"]["vocab_size"] = v;
  s.model = create_model(s.doc, "model");
}

}  // namespace

void load_model(RunState& s) {
  if (s.finetune) load_checkpoint_model(s);
  else create_fresh_model(s);
}

// A pre-training run on token shards uses (and passes on) the shards' tokenizer; text data
// (JSONL) without a checkpoint takes data.tokenizer.
void attach_tokenizer(RunState& s) {
  const DataConfig& data = s.cfg.data;
  if (!s.tokenizer && is_token_shard_dir(data.train)) s.tokenizer = find_tokenizer(data.train);
  if (!data.tokenizer.empty()) {
    TokenizerPtr given = load_tokenizer(data.tokenizer);
    if (s.tokenizer && s.tokenizer->content_hash() != given->content_hash())
      throw UserError(s.doc.origin_of("data.tokenizer") + ": data.tokenizer '" + data.tokenizer + "' is not the " +
                          (s.finetune ? "checkpoint's" : "shards'") + " tokenizer (hash " + given->content_hash() +
                          " vs " + s.tokenizer->content_hash() + ")",
                      "remove data.tokenizer: the model's own tokenizer is used");
    s.tokenizer = given;
  }
  // (Shards check their own tokenizer against the model; a checkpoint's tokenizer/ must fit it.)
  if (s.finetune && s.tokenizer && s.model->vocab_size() > 0 && s.tokenizer->vocab_size() > s.model->vocab_size())
    throw UserError("the tokenizer of checkpoint '" + s.from_dir + "' has " + std::to_string(s.tokenizer->vocab_size()) +
                        " tokens but its model's vocab_size is " + std::to_string(s.model->vocab_size()),
                    "the checkpoint's tokenizer/ does not belong to its weights; restore it");
}

// The config's task, else the family's default (open_train_data may still turn it to
// classification when the data is labelled).
void choose_task(RunState& s) {
  const ModelFamily& family = find_model_family(s.model->family(), "model.family");
  s.task_name = s.cfg.task.empty() ? family.default_task : s.cfg.task;
  s.task = create_task(s.task_name, s.doc.origin_of("task"));
  // Detection selects its best checkpoint by mAP50-95 unless the config names a metric.
  if (s.task_name == "detection" && !(s.doc.root()["train"] && s.doc.root()["train"]["metric"]))
    s.cfg.train.metric = "val_map50_95";
}

}  // namespace ptft
