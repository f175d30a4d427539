#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace epmpulse::http {

rate_limiter::decision rate_limiter::admit(std::string_view key, int per_minute,
                                           clock::time_point now) {
  if (per_minute <= 0)
    return {};
  const double capacity = per_minute;
  const double per_sec = per_minute / 60.0;
  std::lock_guard guard{mutex_};
  auto [it, inserted] = buckets_.try_emplace(std::string{key}, bucket{capacity, now});
  auto& b = it->second;
  if (!inserted) {
    std::chrono::duration<double> elapsed = now - b.updated;
    b.tokens = std::min(capacity, b.tokens + std::max(0.0, elapsed.count()) * per_sec);
    b.updated = now;
  }
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    if (inserted && buckets_.size() > prune_above)
      prune(now);
    return {};
  }
  auto wait = std::ceil((1.0 - b.tokens) / per_sec);
  return {false, std::max(1, static_cast<int>(wait))};
}

std::string status_bucket(std::string_view key_name) {
  return "status:" + std::string{key_name};
}

std::string batch_bucket(std::string_view key_name) {
  return "batch:" + std::string{key_name};
}

void rate_limiter::forget(std::string_view key) {
  std::lock_guard guard{mutex_};
  buckets_.erase(std::string{key});
}

std::size_t rate_limiter::tracked() const {
  std::lock_guard guard{mutex_};
  return buckets_.size();
}

void rate_limiter::prune(clock::time_point now) {
  // Capacity is one minute of refill, so a bucket idle for a minute is full:
  // the same as a fresh one, and forgetting it changes no decision.
  std::erase_if(buckets_, [&](const auto& entry) {
    return now - entry.second.updated >= std::chrono::minutes{1};
  });
}

} // namespace epmpulse::http
