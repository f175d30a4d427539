#pragma once

// API key authentication: Bearer keys with roles and optional expiry,
// compared in constant time. Runs before anything looks at the request body.
//
// The keys and the request budgets (settings.rate_limits) form one immutable
// key_set. A reload builds a new set and publishes it through the key_holder;
// a request reads the set in force with one atomic load and keeps using that
// set to its end, so a reload never changes the rules under a request.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "http/api_error.hpp"

namespace epmpulse::http {

class token_signer;

/// The keys the service accepts and the budgets requests draw from.
class key_set {
public:
  using time_point = std::chrono::system_clock::time_point;

  key_set(std::vector<config::api_key> keys, config::rate_limit_settings rate_limits);

  /// Who sent `authorization_header` (the raw header value, empty if absent):
  /// the key's entry, or MISSING_AUTH (absent/malformed) / INVALID_KEY
  /// (unknown) / KEY_EXPIRED (known, its `expires` passed; the message names
  /// the key, never shows it). `now` is read only for a key with an expiry.
  const config::api_key* authenticate(std::string_view authorization_header, api_error& error,
                                      std::optional<time_point> now = std::nullopt) const;

  /// Who a browser's session cookie token stands for: the key it was issued
  /// for, when the token's signature holds, it has not expired, and that key
  /// is still configured and unexpired (removing a key signs its browsers
  /// out). Otherwise null with MISSING_AUTH (401: sign in again). The caller
  /// grants the read role only, whatever the key's own role.
  const config::api_key* authenticate_session(std::string_view token, const token_signer& signer,
                                              api_error& error,
                                              std::optional<time_point> now = std::nullopt) const;

  const std::vector<config::api_key>& keys() const { return keys_; }
  const config::rate_limit_settings& rate_limits() const { return rate_limits_; }
  std::size_t size() const { return keys_.size(); }

private:
  std::vector<config::api_key> keys_;
  config::rate_limit_settings rate_limits_;
};

/// What replacing one key set by another changes, by key name (never a key).
struct key_changes {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed; ///< same name, another key, role or expiry
  bool rate_limits_changed = false;

  bool any() const;
};

/// The differences from `before` to `after`.
key_changes compare(const key_set& before, const key_set& after);

/// The key set in force. Every request pays one acquire load; a reload
/// publishes a whole new set with one release store. Sets that were replaced
/// stay alive as long as the holder, so a set a request still reads never
/// goes away under it (a reload is a rare operator action and a set holds a
/// few hundred bytes per key).
class key_holder {
public:
  explicit key_holder(key_set initial);

  const key_set& current() const { return *current_.load(std::memory_order_acquire); }

  /// Publishes `next` and returns what changed. Safe against concurrent
  /// readers; concurrent replace calls are serialised.
  key_changes replace(key_set next);

  /// Reloads applied and refused since start (for /metrics).
  std::uint64_t reloads_applied() const { return applied_.load(std::memory_order_relaxed); }
  std::uint64_t reloads_refused() const { return refused_.load(std::memory_order_relaxed); }
  void count_refused_reload() { refused_.fetch_add(1, std::memory_order_relaxed); }

private:
  std::mutex replace_mutex_;
  std::vector<std::unique_ptr<const key_set>> versions_; ///< every set published, newest last
  std::atomic<const key_set*> current_;
  std::atomic<std::uint64_t> applied_{0};
  std::atomic<std::uint64_t> refused_{0};
};

/// Prometheus lines: each key's expiry (Unix seconds) labelled by its name,
/// and the reload counters.
std::string key_metrics(const key_holder& holder);

/// Equal-time comparison: the time taken depends on the lengths only.
bool constant_time_equal(std::string_view a, std::string_view b);

/// When no key is configured: loads <data_dir>/api_keys.json, or generates
/// random read/write/admin keys into it (mode 0600). Logs the file's path,
/// never a key. Returns the keys, or an error text.
std::optional<std::vector<config::api_key>> bootstrap_keys(const std::string& data_dir,
                                                           std::string& error);

/// The keys a configuration runs with: its api_keys, or the bootstrap keys
/// of `data_dir` when it lists none. nullopt with `error` set when neither.
std::optional<std::vector<config::api_key>> keys_to_run_with(const config::service_config& config,
                                                             const std::string& data_dir,
                                                             std::string& error);

} // namespace epmpulse::http
