#include "http/auth.hpp"

#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"

namespace epmpulse::http {

key_store::key_store(std::vector<config::api_key> keys) : keys_(std::move(keys)) {}

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

const config::api_key* key_store::authenticate(std::string_view header, api_error& error) const {
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
  if (found == nullptr)
    error = {ec::invalid_key, "The API key is not recognised.", nlohmann::json::object()};
  return found;
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
    keys.push_back({name, random_key(), role});
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

} // namespace epmpulse::http
