#pragma once

// Per-client request budgets (token buckets): POST /status and POST /batch per
// API key, reads per client address. A runaway Groovy loop must not starve the
// other jobs of the one state actor, and must learn when to come back.
//
// Shared by the RESTinio io threads; the mutex guards only this table (never
// any status state) and is held for a map lookup and a few multiplications.

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace epmpulse::http {

/// The buckets of the API key named `key_name`: its pushes and its batches
/// (and admin operations).
std::string status_bucket(std::string_view key_name);
std::string batch_bucket(std::string_view key_name);

class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  struct decision {
    bool allowed = true;
    int retry_after_sec = 0; ///< whole seconds until one request fits (>= 1 when refused)
  };

  /// Takes one request from the bucket `key`, which refills at `per_minute`
  /// requests a minute and holds at most `per_minute` (a full minute's burst).
  /// per_minute <= 0 means unlimited.
  decision admit(std::string_view key, int per_minute, clock::time_point now = clock::now());

  /// Buckets currently tracked (for tests and metrics).
  std::size_t tracked() const;

  /// Drops bucket `key` (a reload removed the API key it belongs to); the
  /// buckets of keys that remain keep their counts across a reload.
  void forget(std::string_view key);

private:
  struct bucket {
    double tokens = 0;
    clock::time_point updated;
  };

  // Bounds memory against many distinct client addresses: past this size,
  // buckets that have refilled completely (indistinguishable from new) go.
  static constexpr std::size_t prune_above = 10'000;
  void prune(clock::time_point now);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, bucket> buckets_;
};

} // namespace epmpulse::http
