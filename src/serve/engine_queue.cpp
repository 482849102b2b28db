#include "ptft/serve/engine_queue.h"

namespace ptft {

EngineQueue::Turn::~Turn() {
  if (queue_) queue_->release();
}

// Tickets not yet released: the one in the engine (if any) and those waiting.
size_t EngineQueue::waiting_locked() const {
  const uint64_t unreleased = next_ticket_ - serving_;
  return unreleased == 0 ? 0 : static_cast<size_t>(unreleased - 1);
}

std::optional<EngineQueue::Turn> EngineQueue::try_enter() {
  std::unique_lock<std::mutex> lock(mu_);
  if (next_ticket_ != serving_ && waiting_locked() >= max_waiting_) return std::nullopt;
  const uint64_t ticket = next_ticket_++;
  cv_.notify_all();  // wait_until_waiting observers
  cv_.wait(lock, [&] { return serving_ == ticket; });
  return Turn(this);
}

void EngineQueue::release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++serving_;
  }
  cv_.notify_all();
}

size_t EngineQueue::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_locked();
}

bool EngineQueue::wait_until_waiting(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return waiting_locked() >= n; });
}

}  // namespace ptft
