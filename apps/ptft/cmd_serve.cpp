// ptft serve --model M [--host 127.0.0.1] [--port 8080] [--api-key KEY] [--template T]
//            [--max-tokens-limit 2048] [--max-queue 16] [--max-body-bytes N] [--max-connections 512]
//            [--request-timeout 10] [--threads N] [--device D]
//
// An OpenAI-compatible HTTP server (docs/serve.md) for a causal language model: /v1/models,
// /v1/completions, /v1/chat/completions (streaming as server-sent events), /health. Runs until
// SIGINT/SIGTERM, answers the request in progress, then exits 0.
#include <filesystem>
#include <malloc.h>
#include <sys/resource.h>

#include <iostream>

#include "commands.h"
#include "model_name.h"
#include "ptft/core/device.h"
#include "ptft/core/error.h"
#include "ptft/infer/generate.h"
#include "ptft/infer/model_engine.h"
#include "ptft/models/gguf_model.h"
#include "ptft/serve/api_server.h"
#include "ptft/serve/signal_stop.h"

namespace ptft::cli {
namespace {

struct ServeRequest {
  std::string model;
  std::string model_id;      // "" = the model directory's name
  std::string template_spec;
  ServeOptions options;
  int threads = 0;
  std::string device = "auto";
  std::string dtype = "auto";  // the weights decode steps read: auto | f32 | bf16
  std::string lora;
};

// Every connection is a file descriptor: lift the soft limit (often 1024) toward the hard one so
// that --max-connections can be reached; the server makes room by closing idle connections if not.
void raise_open_file_limit(size_t wanted) {
  rlimit l{};
  if (::getrlimit(RLIMIT_NOFILE, &l) != 0 || l.rlim_cur >= wanted) return;
  l.rlim_cur = std::min<rlim_t>(l.rlim_max, wanted);
  ::setrlimit(RLIMIT_NOFILE, &l);
}

}  // namespace

Action add_serve(CLI::App& app) {
  auto* sub = app.add_subcommand("serve", "Serve a language model over an OpenAI-compatible HTTP API (/v1/chat/completions, ...)");
  auto r = std::make_shared<ServeRequest>();
  sub->add_option("--model", r->model, "checkpoint, run or Hugging Face directory, or a GGUF file")->required();
  sub->add_option("--host", r->options.host, "address to listen on (0.0.0.0: every interface)")->capture_default_str();
  sub->add_option("--port", r->options.port, "TCP port (0: any free one, printed)")->capture_default_str();
  sub->add_option("--api-key", r->options.api_key, "require 'Authorization: Bearer KEY' on /v1/* requests");
  sub->add_option("--lora", r->lora, "a LoRA adapter GGUF file (export --format gguf of a LoRA run) applied to --model, its base");
  sub->add_option("--model-id", r->model_id, "the model's name in the API (default: the run's name, or the directory's or file's)");
  sub->add_option("--template", r->template_spec, "chat template: a built-in name (ptft-chat) or a JSON file; default: the checkpoint's");
  sub->add_option("--max-tokens-limit", r->options.max_tokens_limit, "max_tokens per request at most (and its default)")
      ->capture_default_str();
  sub->add_option("--max-queue", r->options.max_queue, "requests that may wait for the model; more get 503")->capture_default_str();
  sub->add_option("--max-body-bytes", r->options.max_body_bytes, "larger request bodies get 413")->capture_default_str();
  sub->add_option("--max-connections", r->options.max_connections,
                  "open connections at most (the longest idle is closed for a new one; else new ones wait)")
      ->capture_default_str();
  sub->add_option("--request-timeout", r->options.request_timeout_s,
                  "seconds a request may take to arrive whole from its first byte (else 408)")
      ->capture_default_str();
  sub->add_flag("--log-requests", r->options.log_requests, "one line per request on stderr");
  sub->add_option("--threads", r->threads, "intra-op threads (0 = all cores)")->capture_default_str();
  sub->add_option("--device", r->device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  sub->add_option("--dtype", r->dtype,
                  "weights of the decode steps: auto | f32 | bf16 (auto: bf16 on a CPU with avx512_bf16, half the "
                  "bytes per token; f32 elsewhere)")
      ->capture_default_str();
  return [=] {
    r->options.validate();
    // glibc gives each of the server's threads its own heap arena and keeps freed memory there:
    // bench/serve_abuse.sh measured RSS 175 -> 468 MB after 6 rounds of bad requests with the
    // default; with one arena 175 -> 196 MB after 3 rounds, level from round to round (2 arenas:
    // 211). One arena costs little: the HTTP threads mostly wait on sockets or the engine.
    ::mallopt(M_ARENA_MAX, 1);
    raise_open_file_limit(r->options.max_connections + 64);
    set_threads(r->threads);
    PretrainedOptions po;
    po.language_model_for = "serve";
    Pretrained p = load_pretrained(r->model, po);
    if (!r->lora.empty()) load_gguf_adapter(*p.model, r->lora);
    const c10::Device device = resolve_device(r->device);
    p.model->to(device);
    const std::string dtype = set_decode_dtype(*p.model, r->dtype, device);
    const std::string id = r->model_id.empty() ? model_name(r->model) : r->model_id;
    ModelEngine engine(std::move(p), id, r->template_spec);
    ApiServer server(engine, r->options);
    server.bind();
    std::cerr << "serving '" << id << "' on http://" << r->options.host << ":" << server.bound_port() << "/v1 ("
              << (engine.has_chat_template() ? "completions and chat" : "completions only: no chat template")
              << (r->options.api_key.empty() ? "" : "; API key required") << "; " << dtype << " decode weights); Ctrl-C to stop"
              << std::endl;
    const int signal = run_until_signal(server);
    std::cerr << "stopped" << (signal ? " by signal " + std::to_string(signal) : std::string()) << std::endl;
    return 0;
  };
}

}  // namespace ptft::cli
