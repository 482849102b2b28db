#include "ptft/serve/request_handler.h"

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <random>

#include "ptft/core/error.h"
#include "ptft/core/log.h"
#include "ptft/serve/api_error.h"
#include "ptft/serve/openai_request.h"
#include "ptft/serve/openai_response.h"

namespace ptft {

using nlohmann::json;

namespace {

HttpReply json_reply(int status, const json& body) {
  HttpReply r;
  r.status = status;
  r.body = json_text(body);
  return r;
}

std::string user_error_text(const UserError& e) {
  return e.hint().empty() ? e.message() : e.message() + " (" + e.hint() + ")";
}

// A failure of the server's own: logged (the client only sees the reply), and a 500.
ApiError internal_error(const std::string& where, const std::string& what) {
  log_warn("serve: " + where + ": internal error: " + what);
  return ApiError(500, "internal server error: " + what + " (the server keeps running; please report this)", "", "",
                  "server_error");
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

void require_method(const HttpRequest& req, const char* method) {
  if (req.method != method)
    throw ApiError(405, "method " + req.method + " is not allowed on " + req.path + ": use " + method, "",
                   "method_not_allowed");
}

// Equal strings, in a time that does not depend on where they differ (API keys).
bool same_secret(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

void fill_seed(SamplingRequest& r) {
  if (r.seed_given) return;
  static std::mutex mu;
  static std::mt19937_64 gen{std::random_device{}()};
  std::lock_guard<std::mutex> lock(mu);
  r.params.seed = gen();
}

// How one endpoint writes its stream.
struct StreamFormat {
  ResponseMeta meta;
  std::string object;                                   // "text_completion" | "chat.completion.chunk"
  std::function<json(const std::string& piece)> piece;  // a chunk carrying text
  std::function<json(const std::string& finish)> last;  // the chunk with the finish_reason
  std::optional<json> first;                            // chat: the role chunk
};

// Generation inside a stream. The status line has gone: a failure becomes an error event.
void run_stream(GenerationEngine& engine, const std::string& prompt, const SamplingRequest& req,
                const StreamFormat& fmt, const ChunkWriter& write) {
  bool open = !fmt.first || write(sse_event(*fmt.first));
  if (!open) return;
  GenerationOutcome out;
  try {
    out = engine.generate(prompt, req.params, [&](const std::string& piece) {
      open = open && write(sse_event(fmt.piece(piece)));
      return open;
    });
  } catch (const UserError& e) {
    if (open) write(sse_event(ApiError(400, user_error_text(e)).body()));
    return;
  } catch (const std::exception& e) {
    const ApiError error = internal_error("a stream", e.what());
    if (open) write(sse_event(error.body()));
    return;
  }
  if (!open || out.finish_reason == "cancelled") return;
  if (!write(sse_event(fmt.last(out.finish_reason)))) return;
  if (req.include_usage && !write(sse_event(usage_chunk(fmt.meta, fmt.object, out)))) return;
  write(kSseDone);
}

// The reply holds the engine turn until its stream has run (or the reply is destroyed unrun).
HttpReply stream_reply(GenerationEngine& engine, EngineQueue::Turn turn, std::string prompt, SamplingRequest req,
                       StreamFormat fmt) {
  auto held = std::make_shared<std::optional<EngineQueue::Turn>>(std::move(turn));
  HttpReply r;
  r.content_type = "text/event-stream";
  r.stream = [&engine, held, prompt = std::move(prompt), req = std::move(req),
              fmt = std::move(fmt)](const ChunkWriter& write) {
    if (!held->has_value()) throw InternalError("serve: a streamed reply was run twice");
    run_stream(engine, prompt, req, fmt, write);
    held->reset();  // the next request may use the engine now
  };
  return r;
}

const TextSink kKeepGoing = [](const std::string&) { return true; };

}  // namespace

RequestHandler::RequestHandler(GenerationEngine& engine, ServeOptions options)
    : engine_(engine),
      options_(std::move(options)),
      queue_(options_.max_queue),
      created_(std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
                   .count()) {
  options_.validate();
}

HttpReply RequestHandler::handle(const HttpRequest& request) {
  try {
    return route(request);
  } catch (const ApiError& e) {
    return json_reply(e.status(), e.body());
  } catch (const UserError& e) {
    return json_reply(400, ApiError(400, user_error_text(e)).body());
  } catch (const std::exception& e) {
    return json_reply(500, internal_error(request.method + " " + request.path, e.what()).body());
  } catch (...) {
    return json_reply(500, internal_error(request.method + " " + request.path, "an unknown exception").body());
  }
}

HttpReply RequestHandler::route(const HttpRequest& req) {
  if (req.body.size() > options_.max_body_bytes)
    throw ApiError(413, "the request body is " + std::to_string(req.body.size()) + " bytes; this server accepts at most " +
                            std::to_string(options_.max_body_bytes));
  if (req.path == "/health") {
    require_method(req, "GET");
    return json_reply(200, {{"status", "ok"}});
  }
  if (req.path == "/v1" || starts_with(req.path, "/v1/")) authenticate(req);
  if (req.path == "/v1/models" || starts_with(req.path, "/v1/models/")) {
    require_method(req, "GET");
    return models(req.path);
  }
  if (req.path == "/v1/completions") {
    require_method(req, "POST");
    return completions(req.body);
  }
  if (req.path == "/v1/chat/completions") {
    require_method(req, "POST");
    return chat_completions(req.body);
  }
  throw ApiError(404, "Invalid URL (" + req.method + " " + req.path +
                          "): this server answers GET /health, GET /v1/models, POST /v1/completions and "
                          "POST /v1/chat/completions", "", "unknown_url");
}

void RequestHandler::authenticate(const HttpRequest& req) const {
  if (options_.api_key.empty()) return;
  auto it = req.headers.find("authorization");
  if (it == req.headers.end())
    throw ApiError(401, "missing API key: send the header 'Authorization: Bearer KEY' with the key the server was "
                        "started with (--api-key)", "", "invalid_api_key");
  if (!same_secret(it->second, "Bearer " + options_.api_key))
    throw ApiError(401, "incorrect API key: send 'Authorization: Bearer KEY' with the key the server was started "
                        "with (--api-key)", "", "invalid_api_key");
}

HttpReply RequestHandler::models(const std::string& path) const {
  const std::string served = engine_.model_id();
  if (path == "/v1/models") return json_reply(200, models_list(served, created_));
  const std::string id = path.substr(std::string("/v1/models/").size());
  if (id != served)
    throw ApiError(404, "the model '" + id + "' does not exist: this server serves '" + served + "'", "model",
                   "model_not_found");
  return json_reply(200, model_object(served, created_));
}

EngineQueue::Turn RequestHandler::enter_queue() {
  std::optional<EngineQueue::Turn> turn = queue_.try_enter();
  if (!turn)
    throw ApiError(503, "the server is busy: " + std::to_string(queue_.max_waiting()) +
                            " requests already wait for the model; retry later", "", "server_busy", "server_error");
  return std::move(*turn);
}

void RequestHandler::check_prompt_fits(const std::string& prompt, const std::string& param) const {
  const int64_t n = engine_.count_tokens(prompt);
  const int64_t context = engine_.context_length();
  if (n >= context)
    throw ApiError(400, "the prompt is " + std::to_string(n) + " tokens; the model's context is " +
                            std::to_string(context) + " tokens, which must hold the prompt and at least one new "
                            "token: shorten the " + param, param, "context_length_exceeded");
}

HttpReply RequestHandler::completions(const std::string& body) {
  CompletionRequest req = parse_completion_request(body, options_.max_tokens_limit);
  fill_seed(req);
  EngineQueue::Turn turn = enter_queue();
  check_prompt_fits(req.prompt, "prompt");
  const ResponseMeta meta = new_response_meta("cmpl-", engine_.model_id());
  if (req.stream) {
    StreamFormat fmt{meta, "text_completion",
                     [meta](const std::string& piece) { return completion_chunk(meta, piece, ""); },
                     [meta](const std::string& finish) { return completion_chunk(meta, "", finish); }, std::nullopt};
    return stream_reply(engine_, std::move(turn), req.prompt, req, std::move(fmt));
  }
  const GenerationOutcome out = engine_.generate(req.prompt, req.params, kKeepGoing);
  return json_reply(200, completion_response(meta, out));
}

HttpReply RequestHandler::chat_completions(const std::string& body) {
  ChatRequest req = parse_chat_request(body, options_.max_tokens_limit);
  if (!engine_.has_chat_template())
    throw ApiError(400, "the model '" + engine_.model_id() + "' has no chat template, so it cannot answer "
                        "/v1/chat/completions: send a prompt to /v1/completions, or serve a model whose tokenizer "
                        "has a chat template", "messages");
  fill_seed(req);
  EngineQueue::Turn turn = enter_queue();
  std::string prompt;
  try {
    prompt = engine_.render_chat(req.messages);
  } catch (const UserError& e) {
    throw ApiError(400, "the conversation does not fit the model's chat template: " + user_error_text(e), "messages");
  }
  check_prompt_fits(prompt, "messages");
  const ResponseMeta meta = new_response_meta("chatcmpl-", engine_.model_id());
  if (req.stream) {
    StreamFormat fmt{meta, "chat.completion.chunk",
                     [meta](const std::string& piece) { return chat_chunk(meta, {{"content", piece}}, ""); },
                     [meta](const std::string& finish) { return chat_chunk(meta, json::object(), finish); },
                     chat_chunk(meta, {{"role", "assistant"}, {"content", ""}}, "")};
    return stream_reply(engine_, std::move(turn), std::move(prompt), req, std::move(fmt));
  }
  const GenerationOutcome out = engine_.generate(prompt, req.params, kKeepGoing);
  return json_reply(200, chat_response(meta, out));
}

}  // namespace ptft
