// A deterministic GenerationEngine for the serve tests: a "token" is a whitespace-separated
// word; generation echoes the prompt's words (repeated `repeat` times), " word" per piece, up
// to max_tokens. A word equal to a stop string ends it ("stop", the word not emitted).
// hold() makes generate() wait at its start until release(), so tests can fill the queue or
// stop the server while a request runs; every transition notifies `cv`.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "ptft/core/error.h"
#include "ptft/serve/engine.h"

namespace ptft::testing {

class EchoEngine : public GenerationEngine {
 public:
  bool chat = true;           // has_chat_template()
  int64_t context = 64;       // context_length() in words
  int64_t repeat = 1;         // the prompt's words are echoed this many times
  std::atomic<bool> throw_internal{false};  // generate() throws std::runtime_error (set while serving)

  std::string model_id() const override { return "echo-test"; }
  int64_t context_length() const override { return context; }
  int64_t count_tokens(const std::string& prompt) const override { return int64_t(words(prompt).size()); }
  bool has_chat_template() const override { return chat; }
  std::string render_chat(const std::vector<ChatMessage>& messages) const override {
    std::string s;
    for (const ChatMessage& m : messages) {
      if (m.role == "assistant" && &m == &messages.front())
        throw UserError("the conversation must not start with an assistant message");
      s += m.role + ": " + m.content + "\n";
    }
    return s + "assistant:";
  }

  GenerationOutcome generate(const std::string& prompt, const GenerationParams& p, const TextSink& on_text) override {
    GenerationOutcome out;
    const std::vector<std::string> w = words(prompt);
    out.prompt_tokens = int64_t(w.size());
    if (out.prompt_tokens >= context) throw UserError("prompt over the context of " + std::to_string(context));
    enter(p);
    struct Leave {
      EchoEngine& e;
      ~Leave() { e.leave(); }
    } leave{*this};
    if (throw_internal) throw std::runtime_error("engine exploded");
    out.finish_reason = "stop";
    for (int64_t i = 0; i < int64_t(w.size()) * repeat; ++i) {
      const std::string& word = w[size_t(i) % w.size()];
      if (std::find(p.stop.begin(), p.stop.end(), word) != p.stop.end()) return out;
      if (out.completion_tokens == p.max_tokens) {
        out.finish_reason = "length";
        return out;
      }
      const std::string piece = " " + word;
      out.text += piece;
      ++out.completion_tokens;
      if (!on_text(piece)) {
        out.finish_reason = "cancelled";
        std::lock_guard<std::mutex> lock(mu);
        cancelled = true;
        cv.notify_all();
        return out;
      }
    }
    return out;
  }

  void hold() {
    std::lock_guard<std::mutex> lock(mu);
    held = true;
  }
  void release() {
    std::lock_guard<std::mutex> lock(mu);
    held = false;
    cv.notify_all();
  }
  // Waits (bounded) until pred() holds under the lock; false on timeout.
  template <class Pred>
  bool wait_for(Pred pred, std::chrono::seconds timeout = std::chrono::seconds(5)) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, timeout, pred);
  }

  std::mutex mu;
  std::condition_variable cv;
  bool held = false;
  int started = 0;        // generate() calls that got past the context check
  int active = 0;         // generate() calls running now
  int max_active = 0;     // the most at once (1: serialised)
  bool cancelled = false;
  GenerationParams last_params;

 private:
  static std::vector<std::string> words(const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> w;
    for (std::string x; in >> x;) w.push_back(x);
    return w;
  }
  void enter(const GenerationParams& p) {
    std::unique_lock<std::mutex> lock(mu);
    ++started;
    max_active = std::max(max_active, ++active);
    last_params = p;
    cv.notify_all();
    cv.wait(lock, [&] { return !held; });
  }
  void leave() {
    std::lock_guard<std::mutex> lock(mu);
    --active;
    cv.notify_all();
  }
};

}  // namespace ptft::testing
