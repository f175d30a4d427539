#include "http/signed_tokens.hpp"

#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"
#include "http/auth.hpp"

namespace epmpulse::http {

namespace {

std::string base64url_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  while (!out.empty() && out.back() == '=')
    out.pop_back();
  for (auto& c : out)
    c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
  std::string padded;
  padded.reserve(text.size() + 3);
  for (char c : text) {
    if (c == '-')
      padded += '+';
    else if (c == '_')
      padded += '/';
    else if (std::isalnum(static_cast<unsigned char>(c)))
      padded += c;
    else
      return std::nullopt; // '+', '/', '=' and anything else: not our encoding
  }
  if (padded.size() % 4 == 1)
    return std::nullopt;
  std::size_t pad = (4 - padded.size() % 4) % 4;
  padded.append(pad, '=');
  std::string out(padded.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(padded.data()),
                          static_cast<int>(padded.size()));
  if (n < 0)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(n) - pad);
  return out;
}

std::int64_t unix_seconds(system_time t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

} // namespace

token_signer::token_signer(std::string key) : key_(std::move(key)) {}

std::string token_signer::mac(std::string_view purpose, std::string_view payload) const {
  std::string input;
  input.reserve(purpose.size() + 1 + payload.size());
  input.append(purpose).append(1, '\n').append(payload);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest, &length);
  return base64url_encode({reinterpret_cast<const char*>(digest), length});
}

std::string token_signer::sign(std::string_view purpose, const nlohmann::json& claims) const {
  auto payload = base64url_encode(claims.dump());
  return payload + "." + mac(purpose, payload);
}

std::optional<nlohmann::json> token_signer::verify(std::string_view purpose,
                                                   std::string_view token) const {
  auto dot = token.find('.');
  if (dot == std::string_view::npos || token.size() > 4096)
    return std::nullopt;
  auto payload = token.substr(0, dot);
  if (!constant_time_equal(token.substr(dot + 1), mac(purpose, payload)))
    return std::nullopt;
  auto text = base64url_decode(payload);
  if (!text)
    return std::nullopt;
  auto claims = nlohmann::json::parse(*text, nullptr, false);
  if (claims.is_discarded() || !claims.is_object())
    return std::nullopt;
  return claims;
}

std::optional<std::string> signing_key_to_run_with(const config::service_config& config,
                                                   const std::string& data_dir,
                                                   std::string& error) {
  if (!config.settings.dashboard.signing_key.empty())
    return config.settings.dashboard.signing_key;
  auto path = (std::filesystem::path(data_dir) / signing_key_file_name).string();
  if (auto text = read_file(path)) {
    auto key = *text;
    while (!key.empty() && (key.back() == '\n' || key.back() == '\r'))
      key.pop_back();
    if (key.size() < config::limits::dashboard::min_signing_key_length) {
      error = path + ": the signing key is too short (fix: delete the file to have a new one "
                     "generated; that signs every browser out and revokes every badge token)";
      return std::nullopt;
    }
    return key;
  }
  unsigned char random[32];
  if (RAND_bytes(random, sizeof random) != 1) {
    error = "cannot generate the dashboard signing key: no random bytes";
    return std::nullopt;
  }
  std::string key;
  for (unsigned char b : random)
    key += fmt::format("{:02x}", b);
  if (auto failure = write_file_atomically(path, key + "\n", 0600)) {
    error = "cannot write the dashboard signing key: " + *failure;
    return std::nullopt;
  }
  log::info("generated the dashboard signing key", {{"path", path}});
  return key;
}

// -- sessions --------------------------------------------------------------------

namespace {
constexpr std::string_view session_purpose = "epmpulse-session-v1";
constexpr std::string_view badge_purpose = "epmpulse-badge-v1";
} // namespace

std::string issue_session_token(const token_signer& signer, const session_claims& claims) {
  return signer.sign(session_purpose,
                     {{"key", claims.key_name}, {"role", "read"}, {"exp", unix_seconds(claims.expires)}});
}

std::optional<session_claims> read_session_token(const token_signer& signer,
                                                 std::string_view token, system_time now) {
  auto claims = signer.verify(session_purpose, token);
  if (!claims)
    return std::nullopt;
  auto key = claims->find("key");
  auto exp = claims->find("exp");
  if (key == claims->end() || !key->is_string() || exp == claims->end()
      || !exp->is_number_integer() || claims->value("role", "") != "read")
    return std::nullopt;
  session_claims out{key->get<std::string>(),
                     system_time{std::chrono::seconds{exp->get<std::int64_t>()}}};
  if (out.expires <= now)
    return std::nullopt;
  return out;
}

std::string_view cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto end = header.find(';');
    auto pair = header.substr(0, end);
    header = end == std::string_view::npos ? std::string_view{} : header.substr(end + 1);
    while (!pair.empty() && pair.front() == ' ')
      pair.remove_prefix(1);
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      auto value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
      return value;
    }
  }
  return {};
}

// -- badges ----------------------------------------------------------------------

bool badge_scope::covers(std::string_view badge_app,
                         const std::optional<std::string>& badge_domain) const {
  if (badge_app != app)
    return false;
  return !domain || (badge_domain && *badge_domain == *domain);
}

std::string issue_badge_token(const token_signer& signer, const badge_scope& scope) {
  nlohmann::json claims = {{"app", scope.app}};
  if (scope.domain)
    claims["domain"] = *scope.domain;
  return signer.sign(badge_purpose, claims);
}

std::optional<badge_scope> read_badge_token(const token_signer& signer, std::string_view token) {
  auto claims = signer.verify(badge_purpose, token);
  if (!claims)
    return std::nullopt;
  auto app = claims->find("app");
  if (app == claims->end() || !app->is_string())
    return std::nullopt;
  badge_scope scope{app->get<std::string>(), std::nullopt};
  if (auto domain = claims->find("domain"); domain != claims->end()) {
    if (!domain->is_string())
      return std::nullopt;
    scope.domain = domain->get<std::string>();
  }
  return scope;
}

} // namespace epmpulse::http
