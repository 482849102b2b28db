// ptft/serve/engine_queue.h — one request in the engine at a time, the others waiting in
// arrival order (FIFO), at most `max_waiting` of them: a request beyond that is refused at once
// (the server answers 503) rather than queued without bound.
//
//   EngineQueue q(16);
//   std::optional<EngineQueue::Turn> turn = q.try_enter();   // blocks until it is our turn
//   if (!turn) return busy_reply();
//   engine.generate(...);                                     // the Turn's destructor lets the next in
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>

namespace ptft {

class EngineQueue {
 public:
  // The right to use the engine; released when destroyed (movable, not copyable).
  class Turn {
   public:
    Turn(Turn&& other) noexcept : queue_(other.queue_) { other.queue_ = nullptr; }
    Turn& operator=(Turn&&) = delete;
    Turn(const Turn&) = delete;
    ~Turn();

   private:
    friend class EngineQueue;
    explicit Turn(EngineQueue* q) : queue_(q) {}
    EngineQueue* queue_;
  };

  explicit EngineQueue(size_t max_waiting) : max_waiting_(max_waiting) {}

  // Waits until every earlier caller's Turn is released. nullopt (at once) when max_waiting
  // callers are already waiting.
  std::optional<Turn> try_enter();
  // Callers waiting (the one holding the engine not counted).
  size_t waiting() const;
  // True once `n` callers wait; false after `timeout` (tests and monitoring).
  bool wait_until_waiting(size_t n, std::chrono::milliseconds timeout) const;
  size_t max_waiting() const { return max_waiting_; }

 private:
  void release();
  size_t waiting_locked() const;

  const size_t max_waiting_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  uint64_t next_ticket_ = 0;  // the ticket the next caller gets
  uint64_t serving_ = 0;      // the ticket whose holder may use the engine
};

}  // namespace ptft
