#include "http/auth.hpp"

#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"
#include "common/time_format.hpp"
#include "http/signed_tokens.hpp"

namespace epmpulse::http {

key_set::key_set(std::vector<config::api_key> keys, config::rate_limit_settings rate_limits)
    : keys_(std::move(keys)), rate_limits_(rate_limits) {}

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the longer input whole so the time reveals no matching prefix.
  std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

const config::api_key* key_set::authenticate(std::string_view header, api_error& error,
                                             std::optional<time_point> now) const {
  constexpr std::string_view scheme = "Bearer ";
  auto malformed = [&]() -> const config::api_key* {
    error = {ec::missing_auth,
             "Send the API key as 'Authorization: Bearer <key>'.",
             nlohmann::json::object()};
    return nullptr;
  };
  if (header.size() <= scheme.size())
    return malformed();
  // The scheme name is case-insensitive (RFC 7235).
  for (std::size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(header[i]))
        != std::tolower(static_cast<unsigned char>(scheme[i])))
      return malformed();
  auto key = header.substr(scheme.size());
  while (!key.empty() && key.front() == ' ')
    key.remove_prefix(1);
  while (!key.empty() && key.back() == ' ')
    key.remove_suffix(1);
  if (key.empty())
    return malformed();
  // Compare against every key, always, so timing reveals nothing.
  const config::api_key* found = nullptr;
  for (const auto& k : keys_)
    if (constant_time_equal(key, k.key) && found == nullptr)
      found = &k;
  if (found == nullptr) {
    error = {ec::invalid_key, "The API key is not recognised.", nlohmann::json::object()};
    return nullptr;
  }
  if (found->expires && *found->expires <= now.value_or(std::chrono::system_clock::now())) {
    auto at = format_time(std::chrono::floor<std::chrono::milliseconds>(*found->expires));
    error = {ec::key_expired,
             "The API key '" + found->name + "' expired at " + at
               + "; ask the service's operator for a new key.",
             {{"key", found->name}, {"expired_at", at}}};
    return nullptr;
  }
  return found;
}

const config::api_key* key_set::authenticate_session(std::string_view token,
                                                     const token_signer& signer, api_error& error,
                                                     std::optional<time_point> now) const {
  auto at = now.value_or(std::chrono::system_clock::now());
  auto claims = read_session_token(signer, token, at);
  const config::api_key* found = nullptr;
  if (claims)
    for (const auto& k : keys_)
      if (k.name == claims->key_name && (!k.expires || *k.expires > at))
        found = &k;
  if (found == nullptr)
    error = {ec::missing_auth,
             "The browser session has expired or is not valid: sign in again with a read key "
             "(POST /api/v1/session), or send 'Authorization: Bearer <key>'.",
             nlohmann::json::object()};
  return found;
}

// -- changes and the holder ----------------------------------------------------

bool key_changes::any() const {
  return !added.empty() || !removed.empty() || !changed.empty() || rate_limits_changed;
}

namespace {

bool same_limits(const config::rate_limit_settings& a, const config::rate_limit_settings& b) {
  return a.enabled == b.enabled && a.status_per_minute == b.status_per_minute
         && a.batch_per_minute == b.batch_per_minute && a.read_per_minute == b.read_per_minute;
}

const config::api_key* named(const key_set& set, const std::string& name) {
  for (const auto& k : set.keys())
    if (k.name == name)
      return &k;
  return nullptr;
}

} // namespace

key_changes compare(const key_set& before, const key_set& after) {
  key_changes out;
  for (const auto& k : after.keys()) {
    const auto* old = named(before, k.name);
    if (old == nullptr)
      out.added.push_back(k.name);
    else if (old->key != k.key || old->role != k.role || old->expires != k.expires)
      out.changed.push_back(k.name);
  }
  for (const auto& k : before.keys())
    if (named(after, k.name) == nullptr)
      out.removed.push_back(k.name);
  out.rate_limits_changed = !same_limits(before.rate_limits(), after.rate_limits());
  return out;
}

key_holder::key_holder(key_set initial) {
  versions_.push_back(std::make_unique<const key_set>(std::move(initial)));
  current_.store(versions_.back().get(), std::memory_order_release);
}

key_changes key_holder::replace(key_set next) {
  std::lock_guard guard{replace_mutex_};
  auto changes = compare(*versions_.back(), next);
  applied_.fetch_add(1, std::memory_order_relaxed);
  if (!changes.any())
    return changes;
  versions_.push_back(std::make_unique<const key_set>(std::move(next)));
  current_.store(versions_.back().get(), std::memory_order_release);
  return changes;
}

std::string key_metrics(const key_holder& holder) {
  std::string text =
    "# HELP epmpulse_api_key_expiry_timestamp_seconds When each API key with an expiry stops "
    "working (Unix time).\n"
    "# TYPE epmpulse_api_key_expiry_timestamp_seconds gauge\n";
  for (const auto& k : holder.current().keys())
    if (k.expires)
      text += fmt::format("epmpulse_api_key_expiry_timestamp_seconds{{key=\"{}\"}} {}\n", k.name,
                          std::chrono::duration_cast<std::chrono::seconds>(
                            k.expires->time_since_epoch())
                            .count());
  text += "# HELP epmpulse_config_reloads_total Reloads of the API keys and rate limits.\n"
          "# TYPE epmpulse_config_reloads_total counter\n";
  text += fmt::format("epmpulse_config_reloads_total{{result=\"applied\"}} {}\n",
                      holder.reloads_applied());
  text += fmt::format("epmpulse_config_reloads_total{{result=\"refused\"}} {}\n",
                      holder.reloads_refused());
  return text;
}

namespace {

std::string random_key() {
  std::random_device rd; // /dev/urandom on Linux
  std::uniform_int_distribution<int> nibble(0, 15);
  std::string out = "epmpulse_";
  for (int i = 0; i < 40; ++i)
    out += "0123456789abcdef"[nibble(rd)];
  return out;
}

} // namespace

std::optional<std::vector<config::api_key>> bootstrap_keys(const std::string& data_dir,
                                                           std::string& error) {
  auto path = (std::filesystem::path(data_dir) / "api_keys.json").string();
  std::vector<config::api_key> keys;
  if (auto text = read_file(path)) {
    auto doc = nlohmann::json::parse(*text, nullptr, false);
    if (doc.is_discarded() || !doc.contains("api_keys") || !doc["api_keys"].is_array()) {
      error = path + ": not a valid key file (fix: delete it to have new keys generated)";
      return std::nullopt;
    }
    for (const auto& k : doc["api_keys"]) {
      config::api_key key;
      key.name = k.value("name", "");
      key.key = k.value("key", "");
      auto role = k.value("role", "");
      key.role = role == "admin" ? config::key_role::admin
                 : role == "read" ? config::key_role::read
                                  : config::key_role::write;
      if (!key.key.empty())
        keys.push_back(std::move(key));
    }
    log::info("no API key configured: using the generated keys", {{"path", path}});
    return keys;
  }
  for (auto [name, role] : {std::pair{"generated_write", config::key_role::write},
                            std::pair{"generated_admin", config::key_role::admin},
                            std::pair{"generated_read", config::key_role::read}})
    keys.push_back({name, random_key(), role, std::nullopt});
  nlohmann::json doc = {{"api_keys", nlohmann::json::array()}};
  for (const auto& k : keys)
    doc["api_keys"].push_back({{"name", k.name}, {"key", k.key}, {"role", to_string(k.role)}});
  if (auto failure = write_file_atomically(path, doc.dump(2), 0600)) {
    error = "cannot write generated API keys: " + *failure;
    return std::nullopt;
  }
  log::warn("no API key configured: generated keys (read them from the file)", {{"path", path}});
  return keys;
}

std::optional<std::vector<config::api_key>> keys_to_run_with(const config::service_config& config,
                                                             const std::string& data_dir,
                                                             std::string& error) {
  if (!config.api_keys.empty())
    return config.api_keys;
  return bootstrap_keys(data_dir, error);
}

} // namespace epmpulse::http
