#include "actors/common/errors.hpp"

#include <caf/sec.hpp>

namespace epmpulse {

const char* api_code(ec e) {
  switch (e) {
    case ec::none: return "OK";
    case ec::missing_auth: return "MISSING_AUTH";
    case ec::invalid_key: return "INVALID_KEY";
    case ec::forbidden: return "FORBIDDEN";
    case ec::invalid_request: return "INVALID_REQUEST";
    case ec::invalid_app: return "INVALID_APP";
    case ec::app_not_found: return "APP_NOT_FOUND";
    case ec::invalid_status: return "INVALID_STATUS";
    case ec::invalid_domain: return "INVALID_DOMAIN";
    case ec::payload_too_large: return "PAYLOAD_TOO_LARGE";
    case ec::unsupported_media_type: return "UNSUPPORTED_MEDIA_TYPE";
    case ec::not_found: return "NOT_FOUND";
    case ec::method_not_allowed: return "METHOD_NOT_ALLOWED";
    case ec::rate_limited: return "RATE_LIMITED";
    case ec::state_error: return "STATE_ERROR";
    case ec::slack_error: return "SLACK_ERROR";
    case ec::slack_disabled: return "SLACK_DISABLED";
    case ec::unavailable: return "SERVICE_UNAVAILABLE";
    case ec::internal_error: return "INTERNAL_ERROR";
    case ec::epm_error: return "EPM_ERROR";
    case ec::epm_auth_error: return "EPM_AUTH_ERROR";
    case ec::key_expired: return "KEY_EXPIRED";
    case ec::invalid_config: return "INVALID_CONFIG";
    case ec::database_unavailable: return "DATABASE_UNAVAILABLE";
    case ec::validation_error: return "VALIDATION_ERROR";
  }
  return "INTERNAL_ERROR";
}

int http_status(ec e) {
  switch (e) {
    case ec::none: return 200;
    case ec::missing_auth: return 401;
    case ec::invalid_key: return 403;
    case ec::forbidden: return 403;
    case ec::invalid_request: return 400;
    case ec::invalid_app: return 400;
    case ec::app_not_found: return 404;
    case ec::invalid_status: return 400;
    case ec::invalid_domain: return 400;
    case ec::payload_too_large: return 413;
    case ec::unsupported_media_type: return 415;
    case ec::not_found: return 404;
    case ec::method_not_allowed: return 405;
    case ec::rate_limited: return 429;
    case ec::state_error: return 500;
    case ec::slack_error: return 502;
    case ec::slack_disabled: return 503;
    case ec::unavailable: return 503;
    case ec::internal_error: return 500;
    case ec::epm_error: return 502;
    case ec::epm_auth_error: return 502;
    case ec::key_expired: return 401;
    case ec::invalid_config: return 422;
    case ec::database_unavailable: return 503;
    case ec::validation_error: return 400;
  }
  return 500;
}

std::string describe_error(const caf::error& err) {
  if (!err)
    return "no error";
  if (err.category() == caf::atom("system"))
    return caf::to_string(static_cast<caf::sec>(err.code()));
  if (err.category() == caf::atom("epmpulse")) {
    const auto& ctx = err.context();
    for (std::size_t i = 0; i < ctx.size(); ++i)
      if (ctx.match_element<std::string>(i))
        return ctx.get_as<std::string>(i);
    return api_code(static_cast<ec>(err.code()));
  }
  return caf::to_string(err);
}

} // namespace epmpulse
