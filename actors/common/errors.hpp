#pragma once

// The service's error values. Fallible code returns them (inside caf::error
// or caf::expected); api_code and http_status below map each to the API in
// one place, which the HTTP edge (http/api_error) applies.

#include <cstdint>
#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/message.hpp>

namespace epmpulse {

enum class ec : std::uint8_t {
  none = 0,
  missing_auth,           ///< 401 MISSING_AUTH
  invalid_key,            ///< 403 INVALID_KEY
  forbidden,              ///< 403 FORBIDDEN (role too weak)
  invalid_request,        ///< 400 INVALID_REQUEST
  invalid_app,            ///< 400 INVALID_APP
  app_not_found,          ///< 404 APP_NOT_FOUND
  invalid_status,         ///< 400 INVALID_STATUS
  invalid_domain,         ///< 400 INVALID_DOMAIN
  payload_too_large,      ///< 413 PAYLOAD_TOO_LARGE
  unsupported_media_type, ///< 415 UNSUPPORTED_MEDIA_TYPE
  not_found,              ///< 404 NOT_FOUND (no such endpoint)
  method_not_allowed,     ///< 405 METHOD_NOT_ALLOWED
  rate_limited,           ///< 429 RATE_LIMITED
  state_error,            ///< 500 STATE_ERROR (state file could not be written)
  slack_error,            ///< 502 SLACK_ERROR
  slack_disabled,         ///< 503 SLACK_DISABLED
  unavailable,            ///< 503 SERVICE_UNAVAILABLE (shutting down, overloaded)
  internal_error,         ///< 500 INTERNAL_ERROR
  epm_error,              ///< failure talking to EPM (pull mode, internal)
  epm_auth_error,         ///< failure getting an EPM token (internal)
  key_expired,            ///< 401 KEY_EXPIRED (the key's `expires` has passed)
  invalid_config,         ///< 422 INVALID_CONFIG (a reload found the file invalid)
  database_unavailable,   ///< 503 DATABASE_UNAVAILABLE (the commit did not reach PostgreSQL)
  validation_error,       ///< 400 VALIDATION_ERROR (a bad query parameter of a read)
};

/// The API's code for `e`, e.g. "INVALID_APP".
const char* api_code(ec e);

/// The HTTP status for `e`, e.g. 400.
int http_status(ec e);

/// A caf::error as a short reason for logs and health: the first string of
/// its context ("token endpoint answered 401 (invalid_grant)"), else its
/// code ("request_timeout", "STATE_ERROR").
std::string describe_error(const caf::error& err);

} // namespace epmpulse

CAF_ERROR_CODE_ENUM(epmpulse::ec, "epmpulse")
