#pragma once

// API key authentication: Bearer keys with roles, compared in constant time.
// Runs before anything looks at the request body.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "http/api_error.hpp"

namespace epmpulse::http {

/// The keys the service accepts. Immutable after start-up, so io threads
/// share it without locking.
class key_store {
public:
  explicit key_store(std::vector<config::api_key> keys);

  /// Who sent `authorization_header` (the raw header value, empty if absent):
  /// the key's entry, or MISSING_AUTH (absent/malformed) / INVALID_KEY.
  const config::api_key* authenticate(std::string_view authorization_header,
                                      api_error& error) const;

  std::size_t size() const { return keys_.size(); }

private:
  std::vector<config::api_key> keys_;
};

/// Equal-time comparison: the time taken depends on the lengths only.
bool constant_time_equal(std::string_view a, std::string_view b);

/// When no key is configured: loads <data_dir>/api_keys.json, or generates
/// random read/write/admin keys into it (mode 0600). Logs the file's path,
/// never a key. Returns the keys, or an error text.
std::optional<std::vector<config::api_key>> bootstrap_keys(const std::string& data_dir,
                                                           std::string& error);

} // namespace epmpulse::http
