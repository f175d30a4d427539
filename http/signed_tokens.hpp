#pragma once

// Tokens the service hands out and later believes without storing them: the
// browser's session cookie and the badge tokens wikis put in image URLs.
// Each is "<claims>.<mac>": the claims as JSON in base64url, and an
// HMAC-SHA256 over the token's purpose and the claims, so a session token is
// never accepted as a badge token nor the reverse. A token carries the NAME
// of the key it was issued for, never the key. Replacing the signing key
// revokes every token at once.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "config/config.hpp"

namespace epmpulse::http {

/// Signs and checks tokens with one secret key.
class token_signer {
public:
  explicit token_signer(std::string key);

  /// "<base64url(claims)>.<base64url(mac)>" for `purpose`.
  std::string sign(std::string_view purpose, const nlohmann::json& claims) const;

  /// The claims of `token` when its MAC for `purpose` holds (checked in
  /// constant time before the claims are parsed); nullopt otherwise.
  std::optional<nlohmann::json> verify(std::string_view purpose, std::string_view token) const;

private:
  std::string mac(std::string_view purpose, std::string_view payload) const;

  std::string key_;
};

/// The signing key a configuration runs with: settings.dashboard.signing_key,
/// or <data_dir>/dashboard_signing.key, generated (32 random bytes, hex, mode
/// 0600) on first start. nullopt with `error` set when neither works. Logs
/// the file's path, never the key.
std::optional<std::string> signing_key_to_run_with(const config::service_config& config,
                                                   const std::string& data_dir,
                                                   std::string& error);

/// The name of the generated key file inside the data dir.
inline constexpr const char* signing_key_file_name = "dashboard_signing.key";

// -- sessions --------------------------------------------------------------------

using system_time = std::chrono::system_clock::time_point;

/// What a browser's session cookie says: which key signed the browser in,
/// until when. It always grants the read role, whatever the key's role.
struct session_claims {
  std::string key_name;
  system_time expires;
};

/// The cookie's name.
inline constexpr std::string_view session_cookie_name = "epmpulse_session";

std::string issue_session_token(const token_signer& signer, const session_claims& claims);

/// The claims when the token verifies and has not expired at `now`.
std::optional<session_claims> read_session_token(const token_signer& signer,
                                                 std::string_view token, system_time now);

/// The value of cookie `name` in a Cookie header ("a=1; b=2"), "" if absent.
std::string_view cookie_value(std::string_view cookie_header, std::string_view name);

// -- badges ----------------------------------------------------------------------

/// What a badge token may show: one app's badges (its own and its domains'),
/// or one domain's.
struct badge_scope {
  std::string app;
  std::optional<std::string> domain; ///< none: the app and every domain of it

  /// True when this scope covers the badge of `app` (and `domain`, if any).
  bool covers(std::string_view app, const std::optional<std::string>& domain) const;
};

std::string issue_badge_token(const token_signer& signer, const badge_scope& scope);

/// The scope when the token verifies.
std::optional<badge_scope> read_badge_token(const token_signer& signer, std::string_view token);

} // namespace epmpulse::http
