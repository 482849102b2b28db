#include "ptft/run/run.h"

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>

#include "ptft/core/config.h"
#include "ptft/core/env.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/memory.h"
#include "ptft/core/shell.h"
#include "ptft/core/signals.h"
#include "ptft/data/chat_template.h"
#include "ptft/data/detection_source.h"
#include "ptft/data/image_source.h"
#include "ptft/infer/image_classifier.h"
#include "ptft/models/detector.h"
#include "ptft/data/replay_mix.h"
#include "ptft/data/sft_jsonl.h"
#include "ptft/data/text_classification.h"
#include "ptft/data/token_windows.h"
#include "ptft/dist/launch_env.h"
#include "ptft/dist/process_group.h"
#include "ptft/report/html_report.h"
#include "ptft/tokenizer/tokenizer.h"
#include "ptft/train/confusion.h"
#include "ptft/train/detection_map.h"
#include "ptft/run/run_config.h"
#include "ptft/run/strategy_search.h"
#include "ptft/transfer/lora.h"
#include "ptft/transfer/transfer_plan.h"

namespace ptft {
namespace sfs = std::filesystem;

namespace {

config::Document load_document(const RunRequest& req, const std::string& run_dir) {
  std::string path = req.config_path;
  if (path.empty()) {
    if (req.resume && sfs::exists(run_dir + "/config.yaml")) path = run_dir + "/config.yaml";
    else
      throw UserError("no --config given",
                      "pass --config FILE.yaml (see configs/), or --resume --out RUN_DIR to continue a run");
  }
  config::Document doc = config::Document::from_file(path);
  for (const auto& s : req.sets) doc.set(s);
  if (!req.from.empty()) doc.set("finetune.from=" + req.from);
  return doc;
}

std::string default_run_dir(const RunRequest& req) {
  std::string stem = req.config_path.empty() ? req.command : sfs::path(req.config_path).stem().string();
  return "runs/" + stem;
}

std::string absolute(const std::string& p) {
  std::error_code ec;
  auto a = sfs::absolute(p, ec);
  return ec ? p : a.lexically_normal().string();
}

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

// A new detector (the run config's model section) whose backbone is the trunk of the ResNet
// classifier in `src`; `model` (the classifier) is replaced. Returns a line saying so.
std::string backbone_from_classifier(config::Document& doc, const Checkpoint& src, ModelPtr& model) {
  const nlohmann::json& cfg = src.config;
  if (cfg.contains("ptft") && cfg["ptft"].contains("images") && cfg["ptft"]["images"].contains("preprocess")) {
    const nlohmann::json& pre = cfg["ptft"]["images"]["preprocess"];
    for (const auto& [key, from] : {std::pair<const char*, const char*>{"pixel_mean", "mean"}, {"pixel_std", "std"}}) {
      const YAML::Node& section = doc.root()["model"];
      if (!section[key] && pre.contains(from)) doc.set(std::string("model.") + key + "=" + pre[from].dump());
    }
  }
  ModelPtr det = create_model(doc, "model");
  auto* d = dynamic_cast<DetectorImpl*>(det.get());
  PTFT_CHECK(d != nullptr, "model.family yolo did not build a detector");
  const int64_t n = d->load_backbone(src.model, src.dir + "/model.safetensors");
  model = det;
  return "backbone: " + std::to_string(n) + " tensors from the resnet classifier '" + src.dir +
         "' (its fc head is dropped; neck and detection head start fresh)";
}

}  // namespace

RunOutcome run_training(const RunRequest& req) {
  RunOutcome outcome;
  // Data-parallel: which process this is (torchrun's variables; one process without them).
  // Only rank 0 talks, writes the run directory and checks that it is free.
  const LaunchEnv launch = read_launch_env();
  const bool quiet = req.quiet || !launch.is_main();
  if (!launch.is_main()) set_log_enabled(false);
  const std::string run_dir = req.out.empty() ? default_run_dir(req) : req.out;
  outcome.run_dir = run_dir;
  config::Document doc = load_document(req, run_dir);
  RunConfig cfg;
  config::bind(doc, cfg);
  if (cfg.finetune.strategy == "auto") return run_strategy_search(req, doc, cfg, run_dir);
  if (!cfg.model || !cfg.model.IsMap()) {
    if (req.command == "pretrain")
      throw UserError(doc.source() + ": no 'model' section", "add e.g. `model: {family: mlp}`");
  }
  const bool finetune = req.command == "finetune";
  // Before a preset fills the model section in: did the user set num_classes?
  const YAML::Node& model_section = cfg.model;
  const bool user_num_classes = model_section && model_section.IsMap() && model_section["num_classes"];
  if (finetune && cfg.finetune.from.empty())
    throw UserError("finetune needs a checkpoint to start from", "pass --from CKPT_DIR (or set finetune.from)");
  if (cfg.data.train.empty())
    throw UserError(doc.source() + ": data.train is not set", "set data.train in the config or --set data.train=PATH");

  // Run directory: a fresh one, or an existing one only with --resume (nothing is overwritten).
  std::error_code ec;
  const std::string ckpt_root = run_dir + "/checkpoints";
  const bool has_ckpts = sfs::exists(ckpt_root, ec) && !sfs::is_empty(ckpt_root, ec);
  if (launch.is_main() && !req.resume && (has_ckpts || sfs::exists(run_dir + "/metrics.jsonl", ec)))
    throw UserError("run directory '" + run_dir + "' already holds a run",
                    "continue it with --resume, or choose another --out");

  // Runtime: threads, device, precision — and say what we run on.
  set_threads(static_cast<int>(cfg.train.threads));
  c10::Device device = resolve_device(cfg.train.device);
  // One GPU per process: `cuda` (or auto) means cuda:LOCAL_RANK under a launcher; cuda:N stays.
  if (launch.distributed() && device.is_cuda() && (cfg.train.device == "auto" || cfg.train.device == "cuda"))
    device = resolve_device("cuda:" + std::to_string(launch.local_rank));
  const Precision precision = resolve_precision(cfg.train.precision, device);
  const EnvInfo env = collect_env();
  if (!quiet) {
    log_info((req.report_env ? env_text(env) : std::string()) + "device: " + device.str() +
             " | precision: " + precision.name);
  }
  // Every rank joins before anything else can fail on one of them alone: a rank that stops
  // early then shows in the others as a lost peer, not as a hang.
  std::unique_ptr<ProcessGroup> group;
  if (launch.distributed()) {
    group = ProcessGroup::join(launch, device, cfg.train.dist_timeout);
    if (!quiet)
      log_info("data-parallel: " + std::to_string(launch.world_size) + " processes (" + group->backend() + ", " +
               launch.master_addr + ":" + std::to_string(launch.master_port) + "), " +
               std::to_string(cfg.train.batch_size * cfg.train.grad_accum * launch.world_size) +
               " examples per step (train.batch_size " + std::to_string(cfg.train.batch_size) + " x grad_accum " +
               std::to_string(cfg.train.grad_accum) + " x " + std::to_string(launch.world_size) + ")");
  }
  torch::manual_seed(static_cast<uint64_t>(cfg.train.seed));

  // Model: fresh from the config, or the architecture and weights of a checkpoint (a LoRA
  // checkpoint's adapters are folded in: fine-tuning starts from the adapted model).
  ModelPtr model;
  TokenizerPtr tokenizer;
  std::string from_dir, backbone_note;
  nlohmann::json from_config;
  if (finetune) {
    std::error_code from_ec;
    if (!sfs::exists(cfg.finetune.from, from_ec))
      throw UserError("checkpoint '" + cfg.finetune.from + "' does not exist (finetune.from, " +
                          doc.origin_of("finetune.from") + ")",
                      "pass --from a checkpoint directory (runs/NAME/checkpoints/best), a run directory (its best "
                      "checkpoint is used), a Hugging Face directory or a .safetensors state dict");
    from_dir = resolve_checkpoint_dir(cfg.finetune.from);  // a run directory means its best checkpoint
    Checkpoint src = read_checkpoint(from_dir, /*with_training_state=*/false);
    from_config = src.config;
    model = model_from_checkpoint(src);
    if (has_lora(*model)) merge_lora(*model);
    const std::string want_family =
        cfg.model && cfg.model.IsMap() && cfg.model["family"] ? cfg.model["family"].as<std::string>() : "";
    if (want_family == "yolo" && model->family() == "resnet") {
      // The seed's "pre-train on ImageNet, then adapt": an image classifier's trunk becomes the
      // backbone of a new detector (its input normalisation too, unless the config sets one).
      backbone_note = backbone_from_classifier(doc, src, model);
    } else if (!want_family.empty() && want_family != model->family())
      throw UserError(doc.origin_of("model.family") + ": model.family is '" + cfg.model["family"].as<std::string>() +
                          "' but checkpoint '" + from_dir + "' holds a '" + model->family() + "' model",
                      "remove the model section (fine-tuning uses the checkpoint's architecture)");
    // Architecture keys cannot change a trained model: say so rather than ignore them silently.
    if (backbone_note.empty() && cfg.model && cfg.model.IsMap() && !quiet) {
      std::string ignored;
      for (const auto& kv : cfg.model) {
        const std::string key = kv.first.as<std::string>();
        if (key != "family" && key != "preset") ignored += (ignored.empty() ? "model." : ", model.") + key;
      }
      if (!ignored.empty())
        log_warn(ignored + ": ignored when fine-tuning; the architecture (dropout included) is the checkpoint's ('" +
                 from_dir + "/config.json')");
    }
    tokenizer = find_tokenizer(from_dir);
  } else {
    model = create_model(doc, "model");
  }
  // A pre-training run on token shards uses (and passes on) the shards' tokenizer; text data
  // (JSONL) without a checkpoint takes data.tokenizer.
  if (!tokenizer && is_token_shard_dir(cfg.data.train)) tokenizer = find_tokenizer(cfg.data.train);
  if (!cfg.data.tokenizer.empty()) {
    TokenizerPtr given = load_tokenizer(cfg.data.tokenizer);
    if (tokenizer && tokenizer->content_hash() != given->content_hash())
      throw UserError(doc.origin_of("data.tokenizer") + ": data.tokenizer '" + cfg.data.tokenizer + "' is not the " +
                          (finetune ? "checkpoint's" : "shards'") + " tokenizer (hash " + given->content_hash() + " vs " +
                          tokenizer->content_hash() + ")",
                      "remove data.tokenizer: the model's own tokenizer is used");
    tokenizer = given;
  }
  // (Shards check their own tokenizer against the model; a checkpoint's tokenizer/ must fit it.)
  if (finetune && tokenizer && model->vocab_size() > 0 && tokenizer->vocab_size() > model->vocab_size())
    throw UserError("the tokenizer of checkpoint '" + from_dir + "' has " + std::to_string(tokenizer->vocab_size()) +
                        " tokens but its model's vocab_size is " + std::to_string(model->vocab_size()),
                    "the checkpoint's tokenizer/ does not belong to its weights; restore it");
  const ModelFamily& family = find_model_family(model->family(), "model.family");
  std::string task_name = cfg.task.empty() ? family.default_task : cfg.task;
  TaskPtr task = create_task(task_name, doc.origin_of("task"));
  // Detection selects its best checkpoint by mAP50-95 unless the config names a metric.
  if (task_name == "detection" && !(doc.root()["train"] && doc.root()["train"]["metric"]))
    cfg.train.metric = "val_map50_95";

  // Data. Token shards must come from the model's tokenizer (content hash compared).
  DataContext dctx;
  dctx.seed = static_cast<uint64_t>(cfg.train.seed);
  dctx.block_size = model->context_length();  // token windows for sequence models
  dctx.vocab_size = model->vocab_size();
  dctx.tokenizer = tokenizer;
  // Conversations (SFT JSONL) render with data.chat_template, else the checkpoint's, else
  // ptft-chat; the template is stored in every checkpoint so `ptft chat` speaks the same format.
  std::shared_ptr<const ChatTemplate> chat;
  const bool sft_data = is_sft_jsonl_path(cfg.data.train) && !is_text_classification_jsonl(cfg.data.train);
  const bool from_has_chat = from_config.contains("ptft") && from_config["ptft"].contains("chat_template");
  if (!cfg.data.chat_template.empty())
    chat = std::make_shared<ChatTemplate>(ChatTemplate::from_spec(cfg.data.chat_template, doc.origin_of("data.chat_template")));
  else if (from_has_chat)
    chat = std::make_shared<ChatTemplate>(
        ChatTemplate::from_json(from_config["ptft"]["chat_template"], from_dir + "/config.json"));
  else if (sft_data)
    chat = std::make_shared<ChatTemplate>(ChatTemplate::builtin("ptft-chat"));
  dctx.chat_template = chat;
  dctx.images = std::make_shared<ImageDataConfig>(cfg.data.images);
  dctx.detection = std::make_shared<DetectionDataConfig>(cfg.data.detection);
  dctx.total_steps = cfg.train.steps;
  dctx.rank = launch.rank;
  dctx.world_size = launch.world_size;
  dctx.examples_per_step = cfg.train.batch_size * cfg.train.grad_accum * launch.world_size;
  if (auto* det = dynamic_cast<DetectorImpl*>(model.get())) {
    // The detector is trained (and later run by `ptft detect`) at data.detection.size when set.
    if (cfg.data.detection.size > 0) det->set_image_size(cfg.data.detection.size);
    dctx.image_size = det->config().image_size;
  }
  if (task_name == "masked_lm") dctx.mlm_probability = cfg.data.mlm_probability;
  // Detection data trains a detector, and a detector trains on nothing else.
  const bool detection_data = is_detection_data_path(cfg.data.train);
  if (detection_data && task_name != "detection")
    throw UserError("data.train '" + cfg.data.train + "' is object-detection data (a data.yaml), but the " +
                        model->family() + " model trains task " + task_name,
                    "detect objects with `model: {family: yolo, preset: yolo-tiny}` (configs/models/yolo-tiny.yaml); "
                    "a classifier checkpoint given to --from becomes the detector's backbone");
  if (!detection_data && task_name == "detection")
    throw UserError("task detection needs object-detection data, but data.train '" + cfg.data.train + "' is not a data.yaml",
                    "give the data.yaml of an Ultralytics-layout data set (ptft data synth-detection writes one)");
  std::unique_ptr<DataSource> train_src = open_data_source(cfg.data.train, "train", dctx, "data.train");
  // Classifiers take their classes from the data: names, and a new head when they differ.
  const std::vector<std::string> data_classes = train_src->class_names();
  // A family whose default task is not classification (BERT: masked LM) classifies labelled data;
  // a language-model task asked for explicitly cannot train on it.
  if (!cfg.task.empty() && !data_classes.empty() && task_name != "classification" &&
      task_name != "detection")
    throw UserError(doc.origin_of("task") + ": task " + task_name + " cannot train on '" + cfg.data.train +
                        "', which is classification data (" + std::to_string(data_classes.size()) + " classes)",
                    "remove `task` (labelled data trains a classifier), or give token shards for " + task_name);
  if (cfg.task.empty() && !data_classes.empty() && task_name != "classification" && task_name != "detection") {
    task_name = "classification";
    task = create_task(task_name, doc.origin_of("task"));
    dctx.mlm_probability = 0;
  }
  dctx.classes = data_classes;  // val data numbers its labels as the training data does
  const std::string head_change = match_classes(*model, data_classes, finetune, user_num_classes, doc);
  if (!data_classes.empty() && cfg.data.images.classes.empty()) {
    // The val data must number the classes as the training data does.
    auto images = std::make_shared<ImageDataConfig>(cfg.data.images);
    images->classes = data_classes;
    dctx.images = images;
  }
  std::optional<TransferPlan> plan;
  if (finetune) plan = TransferPlan::apply(*model, cfg.finetune, doc);
  if (finetune && cfg.finetune.replay.fraction > 0) {
    auto general = open_data_source(cfg.finetune.replay.data, "train", dctx, "finetune.replay.data");
    auto mix = std::make_unique<ReplayMix>(std::move(train_src), std::move(general), cfg.finetune.replay.fraction);
    if (mix->replay_rows(cfg.train.batch_size) == 0)
      throw UserError("finetune.replay.fraction " + std::to_string(cfg.finetune.replay.fraction) +
                          " of train.batch_size " + std::to_string(cfg.train.batch_size) + " rounds to 0 rows",
                      "raise the fraction or the batch size");
    train_src = std::move(mix);
  }
  std::unique_ptr<DataSource> val_src;
  if (!cfg.data.val.empty() && cfg.data.images.val_fraction > 0)
    throw UserError(doc.origin_of("data.images.val_fraction") + ": data.val is set and data.images.val_fraction is " +
                        std::to_string(cfg.data.images.val_fraction) + ": the val data would be split again",
                    "set either data.val (a separate validation set) or data.images.val_fraction (held out from data.train)");
  if (!cfg.data.val.empty()) val_src = open_data_source(cfg.data.val, "val", dctx, "data.val");
  else if (cfg.data.images.val_fraction > 0) val_src = open_data_source(cfg.data.train, "val", dctx, "data.train");
  const auto* image_src = dynamic_cast<const ImageSource*>(train_src.get());
  std::unique_ptr<DataSource> general_src;
  // (Classifiers: a new head cannot score the pre-training classes, so no general-data watch.)
  if (finetune && data_classes.empty()) {
    const std::string spec = general_val_spec(cfg.finetune, from_config, quiet);
    if (!spec.empty()) general_src = open_data_source(spec, "val", dctx, "finetune.general_val");
  }

  // Optimizer over the parameters that train (with a transfer plan: per-layer LRs and the
  // parameters gradual unfreezing will add later).
  std::vector<ParamGroup> groups =
      plan ? plan->param_groups(*model, cfg.train.weight_decay)
           : default_param_groups(*model, cfg.train.weight_decay, [](const std::string&) { return 1.0; });
  if (groups.empty()) throw UserError("no trainable parameters", "freeze fewer parameters");
  OptimConfig ocfg;
  ocfg.type = cfg.train.optimizer;
  ocfg.beta1 = cfg.train.beta1;
  ocfg.beta2 = cfg.train.beta2;
  ocfg.eps = cfg.train.eps;
  ocfg.momentum = cfg.train.momentum;
  auto optimizer = make_optimizer(ocfg, groups);

  // Resume: weights, optimizer, trainer state and RNG from checkpoints/last.
  std::optional<Checkpoint> resume;
  if (req.resume) {
    CheckpointSet probe(ckpt_root, static_cast<int>(cfg.train.keep_checkpoints));
    if (auto last = probe.last_dir()) {
      try {
        resume = read_checkpoint(*last, true);
        load_into(*model, resume->model, *last + "/model.safetensors", true);
      } catch (const UserError& e) {
        throw UserError("cannot resume from '" + *last + "': " + e.message(),
                        "that checkpoint is damaged; nothing was changed. Resume from an earlier one by "
                        "pointing the link at it: ln -sfn step-NNNNNNNN " + ckpt_root + "/last");
      }
    } else if (!quiet) {
      log_info("no checkpoint in " + ckpt_root + " yet: starting from step 0");
    }
  }

  // Only now, with everything validated, does the run directory appear (rank 0 writes it).
  if (launch.is_main()) sfs::create_directories(run_dir, ec);
  if (ec) throw UserError("cannot create run directory '" + run_dir + "': " + ec.message(),
                          "check that the parent directory is writable");

  // The resolved config: every default filled in; re-running with it reproduces this run.
  YAML::Node resolved = config::to_yaml(cfg);
  resolved["model"] = model->config_yaml();
  resolved["task"] = task_name;
  if (launch.is_main() && (!req.resume || !sfs::exists(run_dir + "/config.yaml", ec)))
    fs::write_file_atomic(run_dir + "/config.yaml", config::emit(resolved));

  MetricsLog metrics;  // stays closed (writes nothing) on ranks other than 0
  if (launch.is_main()) metrics.open(run_dir + "/metrics.jsonl");
  const int64_t total_params = count_parameters(*model, false);
  int64_t trainable = 0;
  for (const auto& g : groups)
    for (const auto& p : g.params) trainable += p.numel();
  nlohmann::json start = {{"event", "start"},
                          {"command", req.command},
                          {"env", env_json(env)},
                          {"device", device.str()},
                          {"world_size", launch.world_size},
                          {"precision", precision.name},
                          {"config", config::to_json(resolved)},
                          {"parameters", total_params},
                          {"trainable_parameters", trainable}};
  if (plan) start["transfer"] = plan->to_json();
  if (tokenizer) start["tokenizer"] = {{"kind", tokenizer->kind()}, {"hash", tokenizer->content_hash()}};
  metrics.write(start);
  if (!quiet) {
    log_info(req.command + ": " + model->family() + " model, " + std::to_string(total_params) + " parameters (" +
             std::to_string(trainable) + " trainable), task " + task_name + ", data " + train_src->describe() +
             "\nrun directory: " + run_dir);
    if (!backbone_note.empty()) log_info(backbone_note);
    if (!head_change.empty()) log_info(head_change);
    if (plan) log_info(plan->describe());
    if (general_src) log_info("forgetting watch: general validation data " + general_src->describe());
  }

  TrainerContext tctx;
  tctx.run_dir = run_dir;
  tctx.metrics = &metrics;
  tctx.device = device;
  tctx.precision = precision;
  tctx.quiet = quiet;
  tctx.group = group.get();
  nlohmann::json& ck = tctx.checkpoint_config;
  ck = model->config_json();
  ck["ptft"]["family"] = model->family();
  ck["ptft"]["task"] = task_name;
  ck["ptft"]["version"] = PTFT_VERSION;
  ck["ptft"]["data"] = {{"train", absolute(cfg.data.train)}, {"val", cfg.data.val.empty() ? "" : absolute(cfg.data.val)}};
  if (finetune) {
    ck["ptft"]["finetuned_from"] = from_dir;
    // What this model was pre-trained on stays the "general" data of later fine-tunes.
    if (from_config.contains("ptft") && from_config["ptft"].contains("data"))
      ck["ptft"]["pretrain_data"] = from_config["ptft"].value("pretrain_data", from_config["ptft"]["data"]);
  }
  if (plan && plan->uses_lora()) ck["ptft"]["lora"] = plan->lora()->to_json();
  if (chat) ck["ptft"]["chat_template"] = chat->to_json();
  if (image_src)
    ck["ptft"]["images"] = image_record(image_src->preprocess(), {cfg.data.images.class_names, data_classes});
  tctx.checkpoint_extras = [&](const std::string& dir, ModelImpl& m) {
    if (tokenizer) {
      sfs::create_directories(dir + "/tokenizer");
      tokenizer->save(dir + "/tokenizer");
    }
    if (plan && plan->uses_lora()) save_peft_adapter(dir, m, *plan->lora(), absolute(from_dir));
  };
  if (plan) tctx.before_step = [&](ModelImpl& m, int64_t step) { return plan->before_step(m, step); };
  if (general_src) tctx.extra_evals.emplace_back("general", general_src.get());
  tctx.eval_at_start = finetune;
  // What trains, on what: the advice of the overfitting alarm (train/overfit_advice.h).
  if (finetune) tctx.overfit.finetune = cfg.finetune;
  tctx.overfit.parameters = total_params;
  tctx.overfit.trainable_parameters = trainable;
  tctx.overfit.train_examples = train_src->size();
  if (image_src) tctx.overfit.image_augment = cfg.data.images.augment;
  if (detection_data) tctx.overfit.detection = cfg.data.detection;
  for (const auto& kv : finetune ? YAML::Node() : model->config_yaml())  // a fine-tune keeps its dropout
    if (kv.first.as<std::string>().find("drop") != std::string::npos && kv.second.IsScalar())
      tctx.overfit.dropout.emplace_back("model." + kv.first.as<std::string>(), kv.second.as<double>());
  // Under `ptft launch`, the resume command is launched the same way (it sets PTFT_LAUNCHER).
  const char* launcher = std::getenv("PTFT_LAUNCHER");
  tctx.resume_command = std::string(launch.distributed() && launcher ? std::string(launcher) + " -- " : "ptft ") +
                        req.command + " --config " + shell_quote(run_dir + "/config.yaml") + " --out " +
                        shell_quote(run_dir) + " --resume";
  if (!req.resume_command.empty()) tctx.resume_command = req.resume_command;
  tctx.stop_after_step = req.stop_after_step;

  // MFU needs a peak: the configured one, else what a matmul reaches here and now.
  TrainConfig train_cfg = cfg.train;
  if (train_cfg.peak_tflops <= 0 && model->flops_per_unit() > 0) {
    train_cfg.peak_tflops = measure_matmul_tflops(device, precision);
    metrics.write({{"event", "peak"}, {"peak_tflops", train_cfg.peak_tflops}, {"source", "measured matmul"},
                   {"precision", precision.name}});
    if (!quiet)
      log_info("MFU is relative to a measured " + precision.name + " matmul peak of " +
               std::to_string(train_cfg.peak_tflops * 1e3).substr(0, 6) + " GFLOP/s (set train.peak_tflops to use another)");
  }

  StopSignals::install();
  Trainer trainer(train_cfg, tctx);
  outcome.fit = trainer.fit(*model, *task, *train_src, val_src.get(), *optimizer, resume ? &*resume : nullptr);

  const FitResult& r = outcome.fit;
  nlohmann::json summary = {{"command", req.command},
                            {"steps", r.step},
                            {"interrupted", r.interrupted},
                            {"early_stopped", r.early_stopped},
                            {"best_step", r.best_step},
                            {"metric", cfg.train.metric},
                            {"best_metric", r.best_step >= 0 ? nlohmann::json(r.best_metric) : nlohmann::json(nullptr)},
                            {"first_eval", r.first_eval},
                            {"last_eval", r.last_eval},
                            {"wall_seconds", r.wall_seconds},
                            {"elapsed_s", r.elapsed_seconds},
                            {"peak_rss_mb", peak_rss_mb()},
                            {"parameters", total_params},
                            {"trainable_parameters", trainable},
                            {task->unit() + "_seen", r.units_seen}};
  // Forgetting: the general-data metrics before and after fine-tuning.
  if (r.first_eval.is_object() && r.last_eval.is_object()) {
    nlohmann::json f = nlohmann::json::object();
    for (auto& [k, v] : r.first_eval.items())
      if (k.rfind("general_", 0) == 0 && v.is_number_float() && r.last_eval.contains(k))
        f[k.substr(8)] = {{"before", v}, {"after", r.last_eval[k]}};
    if (!f.empty()) summary["forgetting"] = f;
  }
  summary["world_size"] = launch.world_size;
  if (auto search = read_strategy_search(run_dir)) summary["strategy_search"] = *search;  // seeded by one
  summary["overfit_warnings"] = r.overfit_steps;  // steps at which the overfitting alarm fired
  if (launch.is_main()) fs::write_file_atomic(run_dir + "/summary.json", summary.dump(2) + "\n");
  metrics.write({{"event", "end"}, {"summary", summary}});
  if (!quiet && !r.interrupted) {
    std::string line = "done: " + std::to_string(r.step) + " steps in " + std::to_string(r.wall_seconds) + " s";
    if (r.best_step >= 0)
      line += "; best " + cfg.train.metric + " " + std::to_string(r.best_metric) + " at step " +
              std::to_string(r.best_step) + " (" + ckpt_root + "/best)";
    if (summary.contains("forgetting") && summary["forgetting"].contains("perplexity"))
      line += "; general perplexity " + std::to_string(summary["forgetting"]["perplexity"]["before"].get<double>()) +
              " -> " + std::to_string(summary["forgetting"]["perplexity"]["after"].get<double>());
    log_info(line);
    // Classifiers: per-class precision/recall and the confusion matrix of the last evaluation.
    if (r.last_eval.is_object() && r.last_eval.contains("val_confusion"))
      log_info("validation at step " + std::to_string(r.step) + ":\n" +
               ConfusionMatrix::from_rows(r.last_eval["val_confusion"]).table(model->class_names()));
    // Detectors: AP, precision and recall per class.
    if (r.last_eval.is_object() && r.last_eval.contains("val_map50") && r.last_eval.contains("val_per_class"))
      log_info("validation at step " + std::to_string(r.step) + " (precision/recall at confidence 0.25):\n" +
               detection_table(r.last_eval["val_per_class"], model->class_names()));
  }
  if (launch.is_main()) report::write_run_report(run_dir);  // RUN/report.html; a failure only warns
  return outcome;
}

}  // namespace ptft
