#include "http/api_error.hpp"

#include <caf/sec.hpp>

namespace epmpulse::http {

std::string standard_message(ec code) {
  switch (code) {
    case ec::state_error:
      return "The change could not be written to the state file, so it is not confirmed. "
             "Retry; the service health shows the cause.";
    case ec::database_unavailable:
      return "The database did not confirm the change, so it is not confirmed. Retry after the "
             "Retry-After seconds; the service health shows the cause.";
    case ec::unavailable:
      return "The service is busy or shutting down; retry shortly.";
    case ec::slack_disabled:
      return "Slack is not configured: set SLACK_BOT_TOKEN (or settings.slack.bot_token) to "
             "enable canvas updates.";
    default:
      return "Internal error; the request ID is in the log.";
  }
}

api_error api_error_of(const caf::error& err) {
  if (err.category() == caf::atom("epmpulse")) {
    auto code = static_cast<ec>(err.code());
    const auto& context = err.context();
    if (context.match_elements<std::string>())
      return {code, context.get_as<std::string>(0), nlohmann::json::object()};
    return {code, standard_message(code), nlohmann::json::object()};
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return {ec::unavailable, "The service did not answer in time; retry shortly.", {}};
      case caf::sec::request_receiver_down:
        return {ec::unavailable, "A part of the service is not running; retry shortly.", {}};
      default:
        break;
    }
  }
  return {ec::internal_error, standard_message(ec::internal_error), nlohmann::json::object()};
}

} // namespace epmpulse::http
