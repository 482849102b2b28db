// The data phases of run_training (run_state.h): the training data (which may name the model's
// classes and turn its task to classification), the transfer plan with its replay of general
// data, and the validation and general-validation data.
#include <cmath>
#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/data/detection_source.h"
#include "ptft/data/replay_mix.h"
#include "ptft/data/sft_jsonl.h"
#include "ptft/data/text_classification.h"
#include "ptft/data/yolo_dataset.h"
#include "ptft/models/detector.h"
#include "run_state.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

// Names the model's classes after the data's (classification data): a pre-training run whose
// model.num_classes was left to the preset, and every fine-tuning run whose data has other
// classes than its checkpoint, get a new, freshly initialised head. Returns a line saying so
// (empty when nothing changed).
std::string match_classes(ModelImpl& model, const std::vector<std::string>& data_classes, bool finetune,
                          bool user_num_classes, const config::Document& doc) {
  if (data_classes.empty()) return {};
  const std::vector<std::string> have = model.class_names();
  if (!model.can_classify())
    throw UserError("data.train names " + std::to_string(data_classes.size()) + " classes, but a " + model.family() +
                        " model has no classifier head",
                    "use a classifier family: resnet or mlp for images, bert for text");
  if (have == data_classes) return {};
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 12; ++i) s += (i ? ", " : "") + v[i];
    return s + (v.size() > 12 ? ", ..." : "");
  };
  const bool same_count = have.size() == data_classes.size();
  if (!finetune && !same_count && user_num_classes)
    throw UserError(doc.origin_of("model.num_classes") + ": model.num_classes is " + std::to_string(have.size()) +
                        " but the training data has " + std::to_string(data_classes.size()) + " classes (" +
                        list(data_classes) + ")",
                    "remove model.num_classes (the data sets it), or select classes with data.images.classes");
  // Pre-training: same count, just names. Fine-tuning: other classes always mean a new head.
  const bool new_head = finetune || !same_count;
  model.set_classes(data_classes, new_head);
  if (!new_head) return {};
  return std::string(finetune ? "new head: " : "head: ") + std::to_string(data_classes.size()) + " classes (" +
         list(data_classes) + ")" +
         (!finetune     ? ""
          : have.empty() ? " replace the checkpoint's " + model.family() + " output head"
                         : " replace the checkpoint's " + std::to_string(have.size()) + " (" + list(have) + ")");
}

// The general validation set watched while fine-tuning: finetune.general_val, or else the
// validation data the checkpoint was pre-trained on (recorded in its config.json), if present.
std::string general_val_spec(const TransferConfig& t, const nlohmann::json& ckpt_config, bool quiet) {
  if (t.general_val == "none") return "";
  if (!t.general_val.empty()) return t.general_val;
  if (!ckpt_config.contains("ptft")) return "";
  const auto& p = ckpt_config["ptft"];
  const char* key = p.contains("pretrain_data") ? "pretrain_data" : "data";
  if (!p.contains(key) || !p[key].is_object()) return "";
  const auto& d = p[key];
  const std::string v = d.value("val", std::string()).empty() ? d.value("train", std::string()) : d.value("val", std::string());
  std::error_code ec;
  if (v.empty() || v.rfind("synthetic:", 0) == 0) return v;
  if (!sfs::exists(v, ec)) {
    if (!quiet)
      log_warn("the checkpoint was pre-trained on '" + v + "', which is gone: forgetting is not measured "
               "(set finetune.general_val to a general validation set)");
    return "";
  }
  return v;
}

// Conversations (SFT JSONL) render with data.chat_template, else the checkpoint's, else the
// Jinja template of the model's tokenizer (a Hugging Face model's), else ptft-chat; the template
// is stored in every checkpoint so `ptft chat` speaks the same format.
std::shared_ptr<const ChatTemplate> chat_template(const RunState& s) {
  const DataConfig& data = s.cfg.data;
  const bool sft_data = is_sft_jsonl_path(data.train) && !is_text_classification_jsonl(data.train);
  const bool from_has_chat = s.from_config.contains("ptft") && s.from_config["ptft"].contains("chat_template");
  if (!data.chat_template.empty())
    return std::make_shared<ChatTemplate>(ChatTemplate::from_spec(data.chat_template, s.doc.origin_of("data.chat_template")));
  if (from_has_chat)
    return std::make_shared<ChatTemplate>(
        ChatTemplate::from_json(s.from_config["ptft"]["chat_template"], s.from_dir + "/config.json"));
  if (s.tokenizer)
    if (auto t = ChatTemplate::of_tokenizer(*s.tokenizer, "the chat_template of the model's tokenizer (tokenizer_config.json)")) return t;
  if (sft_data) return std::make_shared<ChatTemplate>(ChatTemplate::builtin("ptft-chat"));
  return nullptr;
}

// What every data source of the run is opened with. Token shards must come from the model's
// tokenizer (content hash compared).
void data_context(RunState& s) {
  const RunConfig& cfg = s.cfg;
  DataContext& dctx = s.dctx;
  dctx.seed = static_cast<uint64_t>(cfg.train.seed);
  dctx.block_size = s.model->context_length();  // token windows for sequence models
  dctx.vocab_size = s.model->vocab_size();
  dctx.tokenizer = s.tokenizer;
  s.chat = chat_template(s);
  dctx.chat_template = s.chat;
  dctx.images = std::make_shared<ImageDataConfig>(cfg.data.images);
  dctx.detection = std::make_shared<DetectionDataConfig>(cfg.data.detection);
  dctx.total_steps = cfg.train.steps;
  dctx.rank = s.launch.rank;
  dctx.world_size = s.launch.world_size;
  dctx.examples_per_step = cfg.train.batch_size * cfg.train.grad_accum * s.launch.world_size;
  if (auto* det = dynamic_cast<DetectorImpl*>(s.model.get())) {
    // The detector is trained (and later run by `ptft detect`) at data.detection.size when set.
    if (cfg.data.detection.size > 0) det->set_image_size(cfg.data.detection.size);
    dctx.image_size = det->config().image_size;
  }
  if (s.task_name == "masked_lm") dctx.mlm_probability = cfg.data.mlm_probability;
}

// Labelled data trains a classifier: a family whose default task is not classification (BERT:
// masked LM) classifies it; a language-model task asked for explicitly cannot train on it.
void classify_labelled_data(RunState& s) {
  if (s.data_classes.empty() || s.task_name == "classification" || s.task_name == "detection") return;
  if (!s.cfg.task.empty())
    throw UserError(s.doc.origin_of("task") + ": task " + s.task_name + " cannot train on '" + s.cfg.data.train +
                        "', which is classification data (" + std::to_string(s.data_classes.size()) + " classes)",
                    "remove `task` (labelled data trains a classifier), or give token shards for " + s.task_name);
  s.task_name = "classification";
  s.task = create_task(s.task_name, s.doc.origin_of("task"));
  s.dctx.mlm_probability = 0;
}

// train.epochs > 0: the run's steps from the training data's size (examples, or token windows)
// and the examples one optimizer step takes over all processes. When train.steps is set too, a
// --set of one wins over the file's other; set in the same place they must agree (a resumed
// run's config.yaml holds both).
void steps_from_epochs(RunState& s) {
  TrainConfig& t = s.cfg.train;
  auto by_set = [&](const char* key) { return s.doc.origin_of(key).rfind("--set ", 0) == 0; };
  const YAML::Node train = s.doc.root()["train"];
  const bool steps_given = train && train.IsMap() && train["steps"];
  if (steps_given && by_set("train.steps") && !by_set("train.epochs")) {
    t.epochs = 0;  // the command line's train.steps over the file's train.epochs
    return;
  }
  const int64_t per_step = t.batch_size * t.grad_accum * s.launch.world_size;
  const int64_t n = s.train_src->size();
  const auto steps = std::max<int64_t>(
      1, static_cast<int64_t>(std::ceil(t.epochs * static_cast<double>(n) / static_cast<double>(per_step))));
  if (steps_given && t.steps != steps && by_set("train.steps") == by_set("train.epochs"))
    throw UserError(s.doc.origin_of("train.steps") + ": train.steps " + std::to_string(t.steps) + " and train.epochs " +
                        config::detail::format_double(t.epochs) + " (= " + std::to_string(steps) +
                        " steps) both set the length",
                    "set one of them");
  t.steps = steps;
  if (!s.quiet)
    log_info("train.epochs " + config::detail::format_double(t.epochs) + ": " + std::to_string(t.steps) + " steps (" +
             std::to_string(n) + " examples, " + std::to_string(per_step) + " per step)");
}

}  // namespace

void open_train_data(RunState& s) {
  data_context(s);
  const DataConfig& data = s.cfg.data;
  // Detection data trains a detector, and a detector trains on nothing else.
  s.detection_data = is_detection_data_path(data.train);
  if (s.detection_data && s.task_name != "detection")
    throw UserError("data.train '" + data.train + "' is object-detection data (a data.yaml), but the " +
                        s.model->family() + " model trains task " + s.task_name,
                    "detect objects with `model: {family: yolo, preset: yolo-tiny}` (configs/models/yolo-tiny.yaml); "
                    "a classifier checkpoint given to --from becomes the detector's backbone");
  if (!s.detection_data && s.task_name == "detection")
    throw UserError("task detection needs object-detection data, but data.train '" + data.train + "' is not a data.yaml",
                    "give the data.yaml of an Ultralytics-layout data set (ptft data synth-detection writes one)");
  s.train_src = open_data_source(data.train, "train", s.dctx, "data.train");
  if (s.cfg.train.epochs > 0) {
    steps_from_epochs(s);
    s.dctx.total_steps = s.cfg.train.steps;
    // A detection source plans its last epochs (close_mosaic) from the run's length when it opens.
    if (s.detection_data) s.train_src = open_data_source(data.train, "train", s.dctx, "data.train");
  }
  // Classifiers take their classes from the data: names, and a new head when they differ.
  s.data_classes = s.train_src->class_names();
  classify_labelled_data(s);
  s.dctx.classes = s.data_classes;  // val data numbers its labels as the training data does
  s.head_change = match_classes(*s.model, s.data_classes, s.finetune, s.user_num_classes, s.doc);
  if (!s.data_classes.empty() && data.images.classes.empty()) {
    // The val data must number the classes as the training data does.
    auto images = std::make_shared<ImageDataConfig>(data.images);
    images->classes = s.data_classes;
    s.dctx.images = images;
  }
}

// Fine-tuning: what trains (transfer/transfer_plan.h), and general data replayed into the batches.
void apply_transfer_plan(RunState& s) {
  const RunConfig& cfg = s.cfg;
  if (s.finetune) s.plan = TransferPlan::apply(*s.model, cfg.finetune, s.doc);
  if (s.finetune && cfg.finetune.replay.fraction > 0) {
    auto general = open_data_source(cfg.finetune.replay.data, "train", s.dctx, "finetune.replay.data");
    auto mix = std::make_unique<ReplayMix>(std::move(s.train_src), std::move(general), cfg.finetune.replay.fraction);
    if (mix->replay_rows(cfg.train.batch_size) == 0)
      throw UserError("finetune.replay.fraction " + std::to_string(cfg.finetune.replay.fraction) +
                          " of train.batch_size " + std::to_string(cfg.train.batch_size) + " rounds to 0 rows",
                      "raise the fraction or the batch size");
    s.train_src = std::move(mix);
  }
}

// Validation data (data.val, or held out of data.train), and while fine-tuning the general
// validation data whose metrics measure forgetting.
void open_eval_data(RunState& s) {
  const DataConfig& data = s.cfg.data;
  if (!data.val.empty() && data.images.val_fraction > 0)
    throw UserError(s.doc.origin_of("data.images.val_fraction") + ": data.val is set and data.images.val_fraction is " +
                        std::to_string(data.images.val_fraction) + ": the val data would be split again",
                    "set either data.val (a separate validation set) or data.images.val_fraction (held out from data.train)");
  if (!data.val.empty()) s.val_src = open_data_source(data.val, "val", s.dctx, "data.val");
  else if (data.images.val_fraction > 0) s.val_src = open_data_source(data.train, "val", s.dctx, "data.train");
  else if (s.detection_data && !read_yolo_data_yaml(data.train).val.empty()) {
    // As Ultralytics does: the data.yaml's own val split validates the run unless data.val says otherwise.
    s.val_src = open_data_source(data.train, "val", s.dctx, "data.train");
    if (!s.quiet) log_info("validation: the val split of " + data.train + " (set data.val to use other data)");
  }
  s.image_src = dynamic_cast<const ImageSource*>(s.train_src.get());
  // (Classifiers: a new head cannot score the pre-training classes, so no general-data watch.)
  if (s.finetune && s.data_classes.empty()) {
    const std::string spec = general_val_spec(s.cfg.finetune, s.from_config, s.quiet);
    if (!spec.empty()) s.general_src = open_data_source(spec, "val", s.dctx, "finetune.general_val");
  }
}

}  // namespace ptft
