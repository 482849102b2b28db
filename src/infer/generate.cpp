#include "ptft/infer/generate.h"

#include <algorithm>
#include <chrono>

#include "ptft/core/error.h"
#include "ptft/core/log.h"
#include "ptft/infer/text_stream.h"
#include "ptft/nn/bf16_gemv.h"

namespace ptft {

std::string set_decode_dtype(ModelImpl& model, const std::string& dtype, const c10::Device& device) {
  if (dtype == "auto") {
    const bool fast = device.is_cpu() && nn::bf16_gemv_rounds_x() && dynamic_cast<CausalLm*>(&model) != nullptr;
    return set_decode_dtype(model, fast ? "bf16" : "f32", device);
  }
  if (dtype == "f32") return dtype;
  if (dtype != "bf16")
    throw UserError("--dtype must be auto, f32 or bf16, got '" + dtype + "'", "use --dtype auto (the default), f32 or bf16");
  if (!device.is_cpu())
    throw UserError("--dtype bf16 is for generation on the CPU (the device is " + device.str() + ")",
                    "leave --dtype out on a GPU");
  auto* lm = dynamic_cast<CausalLm*>(&model);
  if (lm == nullptr)
    throw UserError("--dtype bf16: a " + model.family() + " model does not write text", "pass a causal language model");
  lm->hold_decode_weights_bf16();
  return dtype;
}

Generator::Generator(ModelPtr model, TokenizerPtr tokenizer, std::string source)
    : model_(std::move(model)), tok_(std::move(tokenizer)), source_(std::move(source)) {
  PTFT_CHECK(model_ && tok_, "Generator needs a model and a tokenizer");
  lm_ = dynamic_cast<CausalLm*>(model_.get());
  if (lm_ == nullptr)
    throw UserError("generate needs a causal language model; " + source_ + " holds a " + model_->family() +
                        " model, which does not write text",
                    "pass a checkpoint of a causal language model run (e.g. model.family gpt)");
}

int64_t Generator::prompt_budget(int64_t max_new_tokens) const {
  const int64_t T = context_length();
  // The last new token is sampled but never fed back, hence the + 1.
  return std::clamp<int64_t>(T + 1 - std::min(max_new_tokens, T / 2), 1, T);
}

std::vector<int32_t> Generator::prompt_ids(const std::string& prompt) const {
  try {
    // Llama's <s> / <|begin_of_text|>, as the model saw documents begin; not a second time when
    // the prompt spells it already (a rendered chat template does).
    std::vector<int32_t> ids = tok_->document_prefix();
    const std::vector<int32_t> text = tok_->encode(prompt);
    const bool spelled = text.size() >= ids.size() && std::equal(ids.begin(), ids.end(), text.begin());
    if (spelled) ids.clear();
    ids.insert(ids.end(), text.begin(), text.end());
    return ids;
  } catch (const UserError& e) {
    throw e.with_context("encoding the prompt");
  }
}

GenerateResult Generator::generate(const std::string& prompt, const SamplingOptions& opt, const TextCallback& on_text) {
  return generate_ids(prompt_ids(prompt), opt, on_text);
}

GenerateResult Generator::generate_ids(std::vector<int32_t> prompt, const SamplingOptions& opt,
                                       const TextCallback& on_text) {
  opt.validate();
  const auto start = std::chrono::steady_clock::now();
  const int64_t T = context_length();
  GenerateResult r;
  if (prompt.empty()) prompt.push_back(tok_->eot_id());
  const auto P = static_cast<int64_t>(prompt.size());
  if (P > T) {
    if (!opt.truncate_prompt)
      throw UserError("prompt is " + std::to_string(P) + " tokens, model context is " + std::to_string(T),
                      "shorten the prompt, or pass --truncate-prompt to keep its last tokens");
    const int64_t keep = prompt_budget(opt.max_new_tokens);
    r.truncated_tokens = P - keep;
    prompt.erase(prompt.begin(), prompt.begin() + r.truncated_tokens);
    log_warn("prompt is " + std::to_string(P) + " tokens, model context is " + std::to_string(T) +
             ": kept its last " + std::to_string(keep) + " tokens");
  }
  r.prompt_tokens = static_cast<int64_t>(prompt.size());

  const bool was_training = model_->is_training();
  model_->eval();
  torch::NoGradGuard no_grad;
  Sampler sampler(opt);
  TextStream stream(tok_, opt.stop);
  auto emit = [&](const std::string& piece) {
    if (!piece.empty() && on_text) on_text(piece);
  };
  const int64_t allowed = tok_->vocab_size();
  const auto device = lm_->weights_device();
  std::vector<nn::KvCache> caches;
  auto ids = torch::tensor(std::vector<int64_t>(prompt.begin(), prompt.end()), torch::kLong).unsqueeze(0).to(device);  // (1,P)
  auto logits = lm_->next_logits(ids, &caches).squeeze(0);  // (1,P) -> (1,V) -> (V)
  int64_t sampled = 0;
  std::chrono::steady_clock::time_point first;
  while (true) {
    // Sampled on the CPU (its generator: the same seed gives the same text on every device).
    const int64_t next = sampler.sample(device.is_cpu() ? logits : logits.to(torch::kCPU), allowed);
    if (++sampled == 1) first = std::chrono::steady_clock::now();
    if (next == tok_->eot_id()) {
      r.stop_reason = "eot";
      break;
    }
    r.ids.push_back(static_cast<int32_t>(next));
    emit(stream.push(static_cast<int32_t>(next)));
    const auto n = static_cast<int64_t>(r.ids.size());
    if (stream.stopped()) {
      r.stop_reason = "stop_string";
      break;
    }
    if (n >= opt.max_new_tokens) {
      r.stop_reason = "max_new_tokens";
      break;
    }
    if (r.prompt_tokens + n > T) {  // token n would be fed at position P + n - 1 >= T
      r.stop_reason = "context";
      log_warn("generation reached the end of the model's context (" + std::to_string(T) + " tokens: " +
               std::to_string(r.prompt_tokens) + " prompt + " + std::to_string(n) + " new) and stopped");
      break;
    }
    logits = lm_->next_logits(torch::full({1, 1}, next, torch::dtype(torch::kLong).device(device)), &caches).squeeze(0);  // (V)
  }
  emit(stream.finish());
  model_->train(was_training);
  r.text = stream.text();
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.tokens_per_second = r.seconds > 0 ? static_cast<double>(sampled) / r.seconds : 0.0;
  r.first_token_seconds = std::chrono::duration<double>(first - start).count();
  const double decode = r.seconds - r.first_token_seconds;
  r.decode_tokens_per_second = sampled > 1 && decode > 0 ? static_cast<double>(sampled - 1) / decode : 0.0;
  return r;
}

}  // namespace ptft
