// ptft generate --model CKPT (--prompt TEXT | --prompt-file FILE) [--chat [--system TEXT] [--template T]]
//               [sampling options] [--truncate-prompt] [--json]
// ptft chat     --model CKPT [--system TEXT] [--template NAME_OR_FILE] [sampling options]
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "ptft/core/device.h"
#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/infer/chat_prompt.h"
#include "ptft/infer/generate.h"
#include "ptft/infer/pretrained.h"
#include "ptft/models/gguf_model.h"

namespace ptft::cli {
namespace {

// What generate and chat share: the model, the sampling options and the threads.
struct CommonOptions {
  std::string model;
  SamplingOptions sampling;
  int threads = 0;
  std::string device = "auto";
  std::string dtype = "auto";  // the weights decode steps read: auto | f32 | bf16
  std::string lora;  // a llama.cpp LoRA adapter file for the model
  std::string command;  // generate | chat (for messages)
};

void add_common_options(CLI::App* sub, CommonOptions& o) {
  sub->add_option("--model", o.model, "checkpoint directory, run directory, Hugging Face model directory or GGUF file")->required();
  sub->add_option("--lora", o.lora, "a LoRA adapter GGUF file (export --format gguf of a LoRA run) applied to --model, its base");
  sub->add_option("--max-new-tokens", o.sampling.max_new_tokens, "tokens to generate at most")->capture_default_str();
  sub->add_option("--temperature", o.sampling.temperature, "sampling temperature; 0 = greedy")->capture_default_str();
  sub->add_option("--top-k", o.sampling.top_k, "sample among the k most likely tokens; 0 = off")->capture_default_str();
  sub->add_option("--top-p", o.sampling.top_p, "sample among the most likely tokens of total probability p; 1 = off")
      ->capture_default_str();
  sub->add_option("--seed", o.sampling.seed, "random seed of the sampling (same seed, same text)")->capture_default_str();
  sub->add_option("--stop", o.sampling.stop, "stop when this text appears (not printed; repeatable)");
  sub->add_flag("--truncate-prompt", o.sampling.truncate_prompt,
                "a prompt longer than the model's context keeps its last tokens instead of failing");
  sub->add_option("--threads", o.threads, "intra-op threads (0 = all cores)")->capture_default_str();
  sub->add_option("--device", o.device, "auto | cpu | cuda | cuda:N (auto: cuda:0 when present)")->capture_default_str();
  sub->add_option("--dtype", o.dtype, "weights of the decode steps: auto | f32 | bf16 (bf16, CPU only: half the bytes per "
                                      "token, ~1.6x the tokens/s of f32 on 124-135M models, logits within bf16 rounding; "
                                      "auto: bf16 on a CPU with avx512_bf16, else f32)")->capture_default_str();
}

// The conversation options of chat and generate --chat.
struct ChatOptions {
  std::string system;    // --system: a system message first (when given)
  std::string template_spec;  // --template: built-in name or JSON file; "" = the checkpoint's
  CLI::Option* system_opt = nullptr;
  std::optional<ChatMessage> system_message() const {
    if (system_opt == nullptr || system_opt->count() == 0) return std::nullopt;
    return ChatMessage{"system", system};
  }
};

void add_chat_options(CLI::App* sub, ChatOptions& c) {
  c.system_opt = sub->add_option("--system", c.system, "system message at the start of the conversation");
  sub->add_option("--template", c.template_spec,
                  "chat template: a built-in name (ptft-chat) or a JSON file; default: the checkpoint's "
                  "(its SFT template, or the Jinja template of a Hugging Face model's tokenizer)");
}

// The loaded model and its generator.
struct Session {
  Pretrained pretrained;
  Generator generator;
  std::string dtype;  // the decode weights' type: f32 | bf16
};

Session open_session(const CommonOptions& o) {
  o.sampling.validate();
  set_threads(o.threads);
  const c10::Device device = resolve_device(o.device);
  PretrainedOptions po;
  po.language_model_for = o.command;
  Pretrained p = load_pretrained(o.model, po);
  if (!o.lora.empty()) load_gguf_adapter(*p.model, o.lora);
  p.model->to(device);
  Generator g(p.model, p.tokenizer, "'" + p.dir + "'");
  std::string dtype = set_decode_dtype(*p.model, o.dtype, device);
  return Session{std::move(p), std::move(g), std::move(dtype)};
}

// Prints a piece of the answer at once.
void print_piece(const std::string& piece) { std::cout << piece << std::flush; }

void report(const GenerateResult& r) {
  std::cerr << "[" << r.ids.size() << " tokens, " << static_cast<int64_t>(r.tokens_per_second * 10) / 10.0
            << " tokens/s, stop: " << r.stop_reason << "]" << std::endl;
}

}  // namespace

Action add_generate(CLI::App& app) {
  auto* sub = app.add_subcommand("generate", "Continue a prompt with a causal language model (GPT-2, Llama, Qwen, ...)");
  auto o = std::make_shared<CommonOptions>();
  o->command = "generate";
  auto prompt = std::make_shared<std::string>();
  auto prompt_file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto chat = std::make_shared<bool>(false);
  auto c = std::make_shared<ChatOptions>();
  auto* text_opt = sub->add_option("--prompt", *prompt, "the text to continue (with --chat: the user's message)");
  auto* file_opt = sub->add_option("--prompt-file", *prompt_file, "read the prompt from this file");
  text_opt->excludes(file_opt);
  sub->add_flag("--chat", *chat,
                                  "answer the prompt as a chat model: it becomes a user message rendered with the chat "
                                  "template, and generation stops at the end of the assistant's turn");
  add_chat_options(sub, *c);
  add_common_options(sub, *o);
  sub->add_flag("--json", *json,
                "print {\"prompt\", \"text\", \"tokens\", \"ids\", \"stop_reason\", \"tokens_per_second\", \"prompt_tokens\", "
                "\"first_token_ms\", \"decode_tokens_per_second\", \"dtype\"} instead of streaming");
  return [=] {
    if (text_opt->count() == 0 && file_opt->count() == 0)
      throw UserError("no prompt given", "pass --prompt TEXT or --prompt-file FILE");
    const std::string text = file_opt->count() > 0 ? fs::read_file(*prompt_file, "prompt file") : *prompt;
    if (!*chat && (c->system_opt->count() > 0 || !c->template_spec.empty()))
      throw UserError("--system and --template shape a chat prompt", "add --chat (or use `ptft chat`)");
    Session s = open_session(*o);
    std::string model_input = text;
    SamplingOptions sampling = o->sampling;
    if (*chat) {
      const ChatTemplate t = chat_template_for(s.pretrained, c->template_spec, "--template");
      std::vector<ChatMessage> conv;
      if (auto sys = c->system_message()) conv.push_back(*sys);
      conv.push_back({"user", text});
      model_input = t.render_prompt(conv);
      sampling = with_turn_end(sampling, t);
    }
    if (*json) {
      const GenerateResult r = s.generator.generate(model_input, sampling);
      const nlohmann::json out = {{"prompt", text},
                                  {"text", r.text},
                                  {"tokens", r.ids.size()},
                                  {"ids", r.ids},
                                  {"stop_reason", r.stop_reason},
                                  {"tokens_per_second", r.tokens_per_second},
                                  {"prompt_tokens", r.prompt_tokens},
                                  {"first_token_ms", r.first_token_seconds * 1e3},
                                  {"decode_tokens_per_second", r.decode_tokens_per_second},
                                  {"dtype", s.dtype}};
      std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
      return 0;
    }
    const GenerateResult r = s.generator.generate(model_input, sampling, print_piece);
    if (::isatty(1)) std::cout << '\n';
    std::cout.flush();
    report(r);
    return 0;
  };
}

namespace {

// Drops the oldest turns (a user message and the answer to it) of `history` until the
// rendered conversation fits `budget` tokens; returns the prompt's ids, or nothing when even
// the latest message alone does not fit.
std::optional<std::vector<int32_t>> fit_conversation(const Generator& g, const ChatTemplate& t,
                                                     const std::optional<ChatMessage>& system,
                                                     std::vector<ChatMessage>& history, int64_t budget) {
  int64_t dropped = 0;
  while (true) {
    std::vector<ChatMessage> conv;
    if (system) conv.push_back(*system);
    conv.insert(conv.end(), history.begin(), history.end());
    std::vector<int32_t> ids = g.tokenizer().encode(t.render_prompt(conv));
    if (static_cast<int64_t>(ids.size()) <= budget) {
      if (dropped > 0)
        std::cerr << "(dropped the oldest " << dropped << " turn(s): the conversation no longer fit the model's context of "
                  << g.context_length() << " tokens)" << std::endl;
      return ids;
    }
    if (history.size() <= 1) {
      std::cerr << "error: the message is " << ids.size() << " tokens with the template"
                << (system ? " and the system prompt" : "") << ", more than the " << budget
                << " that leave room for an answer in the model's context of " << g.context_length() << " tokens"
                << "\n  hint: write a shorter message" << std::endl;
      return std::nullopt;
    }
    history.erase(history.begin(), history.begin() + std::min<std::ptrdiff_t>(2, static_cast<std::ptrdiff_t>(history.size()) - 1));
    ++dropped;
  }
}

}  // namespace

Action add_chat(CLI::App& app) {
  auto* sub = app.add_subcommand("chat", "Talk with a chat model (one user message per line of stdin)");
  auto o = std::make_shared<CommonOptions>();
  o->command = "chat";
  auto c = std::make_shared<ChatOptions>();
  add_chat_options(sub, *c);
  add_common_options(sub, *o);
  return [=] {
    Session s = open_session(*o);
    const ChatTemplate tmpl = chat_template_for(s.pretrained, c->template_spec, "--template");
    SamplingOptions opt = with_turn_end(o->sampling, tmpl);
    const std::optional<ChatMessage> system = c->system_message();
    const bool interactive = ::isatty(0);
    const int64_t budget = s.generator.prompt_budget(opt.max_new_tokens);
    std::vector<ChatMessage> history;
    std::string line;
    for (uint64_t turn = 0;; ++turn) {
      if (interactive) std::cerr << "> " << std::flush;
      if (!std::getline(std::cin, line)) break;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.find_first_not_of(" \t") == std::string::npos) continue;
      history.push_back({"user", line});
      const auto ids = fit_conversation(s.generator, tmpl, system, history, budget);
      if (!ids) {
        history.pop_back();
        continue;
      }
      opt.seed = o->sampling.seed + turn;
      const GenerateResult r = s.generator.generate_ids(*ids, opt, print_piece);
      std::cout << std::endl;
      history.push_back({"assistant", r.text});
    }
    if (interactive) std::cerr << std::endl;
    return 0;
  };
}

}  // namespace ptft::cli
