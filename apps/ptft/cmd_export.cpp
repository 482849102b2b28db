// ptft export --model CKPT --format hf|ptft|torchvision --out DIR [--merge-lora]
// ptft export --model CKPT --format gguf --out FILE.gguf [--dtype f32|f16|bf16] [--merge-lora]
//
// CKPT is a checkpoint directory, a run directory (its checkpoints/best, else checkpoints/last),
// a Hugging Face model directory or bare torchvision/timm ResNet weights (a .safetensors file).
// Formats other than ptft are the model family's (ModelFamily::formats, models/model_files.h).
// --merge-lora folds a LoRA checkpoint's adapters into the weights (W += alpha/r * B A) first;
// `--format ptft --merge-lora` gives a plain ptft checkpoint of the adapted model.
// gguf: one file llama.cpp runs (models/gguf_model.h), with the tokenizer and the chat template
// (the checkpoint's, in Jinja).
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>

#include "commands.h"
#include "model_name.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/io/checkpoint.h"
#include "ptft/data/chat_template_export.h"
#include "ptft/io/hf_files.h"
#include "ptft/models/gguf_model.h"
#include "ptft/models/model_files.h"
#include "ptft/tokenizer/tokenizer.h"
#include "ptft/transfer/lora.h"

namespace ptft::cli {
namespace {
namespace sfs = std::filesystem;

struct ExportRequest {
  std::string model;         // --model as given
  std::string format = "hf";
  std::string out;
  bool merge_lora = false;
  std::string dtype;         // gguf only; "" = f16
};

// What an exporter gets: the checkpoint read, its model built and loaded, its tokenizer.
struct Source {
  std::string dir;       // the checkpoint directory actually read
  Checkpoint checkpoint;
  ModelPtr model;
  TokenizerPtr tokenizer;  // null when the checkpoint has none
};

// A weights-only ptft checkpoint (config.json, model.safetensors, tokenizer/), written atomically.
void export_ptft(const Source& s, const std::string& out) {
  fs::require_new_dir(out, "--out");
  Checkpoint c;
  c.config = s.model->config_json();
  c.config["ptft"] = s.checkpoint.config.value("ptft", nlohmann::json::object());
  c.config["ptft"].erase("lora");
  c.config["ptft"]["exported_from"] = s.dir;
  c.model = state_dict(*s.model);
  fs::write_dir_atomic(out, [&](const std::string& tmp) {
    sfs::create_directories(tmp);
    write_checkpoint_files(tmp, c);
    if (s.tokenizer) {
      sfs::create_directories(tmp + "/tokenizer");
      s.tokenizer->save(tmp + "/tokenizer");
    }
  });
}

// Every format name `--format` takes: ptft, and each family's foreign formats.
std::vector<std::string> format_names() {
  std::vector<std::string> names = all_export_formats();
  names.push_back("ptft");
  names.push_back("gguf");
  return names;
}

// The checkpoint's chat template (config.json ptft.chat_template) as Jinja; "" when it has none.
std::string checkpoint_chat_template(const Source& s) {
  const nlohmann::json ptft_section = s.checkpoint.config.value("ptft", nlohmann::json::object());
  if (!ptft_section.contains("chat_template") || !ptft_section["chat_template"].is_object()) return {};
  return chat_template_as_jinja(ptft_section["chat_template"], s.dir + "/config.json ptft.chat_template");
}

// One GGUF file: weights in --dtype, the tokenizer, the checkpoint's chat template as Jinja.
void export_gguf_file(const Source& s, const ExportRequest& r) {
  GgufExportOptions o;
  if (!r.dtype.empty()) o.dtype = r.dtype;
  o.name = model_name(s.dir);
  const nlohmann::json ptft_section = s.checkpoint.config.value("ptft", nlohmann::json::object());
  if (has_lora(*s.model)) {
    const LoraConfig lora = LoraConfig::from_json(ptft_section.at("lora"), s.dir + "/config.json ptft.lora");
    export_gguf_adapter(*s.model, lora.alpha, r.out, o);
    std::cerr << "note: " << r.out << " holds the LoRA adapters alone: run it on the base model's GGUF "
              << "(llama-cli -m BASE.gguf --lora " << r.out << "); --merge-lora writes one merged model instead"
              << std::endl;
    return;
  }
  o.chat_template = checkpoint_chat_template(s);
  export_gguf(*s.model, s.tokenizer.get(), r.out, o);
}

// A LoRA checkpoint to Hugging Face without --merge-lora: a PEFT adapter directory (OUT:
// adapter_config.json + adapter_model.safetensors, as PeftModel.save_pretrained writes) and the
// base model it adapts (OUT/base, a Hugging Face directory that the config's
// base_model_name_or_path names), written atomically together.
void export_hf_adapter(const Source& s, const ExportRequest& r) {
  const nlohmann::json& ptft = s.checkpoint.config.at("ptft");
  const LoraConfig lora = LoraConfig::from_json(ptft.at("lora"), s.dir + "/config.json ptft.lora");
  Checkpoint base = s.checkpoint;  // the frozen weights without the adapters
  for (auto it = base.model.begin(); it != base.model.end();)
    it = it->first.find("lora_") != std::string::npos ? base.model.erase(it) : std::next(it);
  base.config["ptft"].erase("lora");
  const ModelPtr base_model = model_from_checkpoint(base);
  fs::require_new_dir(r.out, "output directory");
  const std::string base_dir = sfs::absolute(r.out).lexically_normal().string() + "/base";
  fs::write_dir_atomic(r.out, [&](const std::string& tmp) {
    sfs::create_directories(tmp);
    export_model(*base_model, s.tokenizer.get(), "hf", tmp + "/base", checkpoint_chat_template(s));
    save_peft_adapter(tmp, *s.model, lora, base_dir);
  });
  std::cerr << "note: LoRA adapters written as a PEFT adapter directory (" << r.out << "), their base model in "
            << r.out << "/base; PeftModel.from_pretrained(AutoModel...from_pretrained(\"" << base_dir << "\"), \""
            << r.out << "\") loads them; --merge-lora writes one merged model instead" << std::endl;
}

void export_source(const Source& s, const ExportRequest& r) {
  if (!r.dtype.empty() && r.format != "gguf")
    throw UserError("--dtype is for --format gguf", "the other formats are written in f32");
  if (r.format == "ptft") export_ptft(s, r.out);
  else if (r.format == "gguf") export_gguf_file(s, r);
  else if (r.format == "hf" && has_lora(*s.model)) export_hf_adapter(s, r);
  else export_model(*s.model, s.tokenizer.get(), r.format, r.out, checkpoint_chat_template(s));
}

// The checkpoint `path` stands for: itself, or a run's checkpoints/best, else checkpoints/last.
std::string checkpoint_dir(const std::string& path) {
  std::error_code ec;
  if (!sfs::exists(path, ec))
    throw UserError("--model '" + path + "' does not exist", "pass a checkpoint or run directory");
  if (is_model_path(path)) return path;
  for (const char* which : {"best", "last"}) {
    const std::string dir = path + "/checkpoints/" + which;
    if (is_checkpoint_dir(dir)) return dir;
  }
  throw UserError("--model '" + path + "' is neither a checkpoint nor a run directory with checkpoints",
                  "a checkpoint holds config.json + model.safetensors; a run holds checkpoints/best or last");
}

// `keep_adapters`: a LoRA checkpoint exported without --merge-lora keeps them (gguf: an adapter
// file; hf: a PEFT adapter directory).
Source load_source(const std::string& path, bool merge, bool keep_adapters) {
  Source s;
  s.dir = checkpoint_dir(path);
  s.checkpoint = read_checkpoint(s.dir, /*with_training_state=*/false);
  s.model = model_from_checkpoint(s.checkpoint);
  if (has_lora(*s.model) && keep_adapters && !merge) {
    // exported as they are
  } else if (has_lora(*s.model)) {
    if (!merge)
      throw UserError("'" + s.dir + "' is a LoRA checkpoint (its adapters are separate weights)",
                      "merge the adapters first: ptft export --merge-lora");
    merge_lora(*s.model);
  } else if (merge) {
    std::cerr << "note: '" << s.dir << "' has no LoRA adapters; --merge-lora changes nothing" << std::endl;
  }
  std::error_code ec;
  if (sfs::is_directory(s.dir + "/tokenizer", ec)) s.tokenizer = load_tokenizer(s.dir + "/tokenizer");
  else if (is_gguf_file(s.dir)) s.tokenizer = read_gguf_tokenizer(s.dir);
  else if (is_hf_model_dir(s.dir)) s.tokenizer = find_tokenizer(s.dir);
  return s;
}

}  // namespace

Action add_export(CLI::App& app) {
  auto* sub = app.add_subcommand("export", "Write a checkpoint in another format (hf: a Hugging Face directory; gguf: one file for llama.cpp / Ollama; ptft: a plain checkpoint, e.g. with --merge-lora; torchvision: a ResNet state dict as model.safetensors)");
  auto req = std::make_shared<ExportRequest>();
  const std::vector<std::string> names = format_names();
  sub->add_option("--model", req->model, "checkpoint, run or Hugging Face model directory, or ResNet .safetensors weights")->required();
  sub->add_option("--format", req->format, "output format")->check(CLI::IsMember(names))->capture_default_str();
  sub->add_option("--out", req->out, "output directory (must not exist, or be empty); for gguf a file that must not exist")->required();
  sub->add_option("--dtype", req->dtype, "gguf: the weights' type, f32 | f16 | bf16 (default f16; norms stay f32)");
  sub->add_flag("--merge-lora", req->merge_lora, "fold LoRA adapters into the weights before exporting");
  return [=] {
    const Source s = load_source(req->model, req->merge_lora, req->format == "gguf" || req->format == "hf");
    export_source(s, *req);
    std::cerr << "exported " << s.dir << " (" << s.model->family() << ", "
              << (s.tokenizer ? s.tokenizer->kind() + " tokenizer" : std::string("no tokenizer")) << ") as "
              << req->format << " to " << req->out << std::endl;
    return 0;
  };
}

}  // namespace ptft::cli
