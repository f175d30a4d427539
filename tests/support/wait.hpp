#pragma once

// The one sanctioned way for a test to wait: poll a condition with short
// pauses until it holds or a deadline passes. Tests never sleep bare.

#include <chrono>
#include <functional>
#include <thread>

namespace epmpulse::test {

/// Polls `pred` every `poll` until it returns true (-> true) or `timeout`
/// has passed (-> false after one last check).
inline bool eventually(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5),
                       std::chrono::milliseconds poll = std::chrono::milliseconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return pred();
    std::this_thread::sleep_for(poll);
  }
}

} // namespace epmpulse::test
