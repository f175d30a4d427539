#pragma once

// Slack Web API: request builders and response classification for the two
// methods the canvas side uses. Pure functions; the canvas actor sends the
// requests through the http_client actor.
//
//   canvases.edit                 replace the whole canvas
//   conversations.canvases.create create a channel's canvas
//
// The token travels only in the Authorization header of the built requests;
// nothing here logs.

#include <string>

#include <nlohmann/json.hpp>

#include "actors/common/http_client.hpp"

namespace epmpulse::slack {

/// Where and how to call Slack.
struct api_settings {
  std::string api_url = "https://slack.com/api"; ///< no trailing slash needed
  std::string token;                             ///< bot token (secret)
  double timeout_sec = 10;
  double connect_timeout_sec = 5;
};

/// `canvases.edit` with one `replace` of the whole canvas by `markdown`.
http_request edit_replace(const api_settings& api, const std::string& canvas_id,
                          const std::string& markdown);

/// `conversations.canvases.create` for `channel_id` with initial markdown.
http_request create_channel_canvas(const api_settings& api, const std::string& channel_id,
                                   const std::string& markdown);

/// What a Slack call came to.
struct api_result {
  enum class kind {
    ok,           ///< HTTP 2xx and "ok": true
    rate_limited, ///< HTTP 429: wait `retry_after_sec`
    unreachable,  ///< no HTTP response (connect, timeout, reset)
    server_error, ///< HTTP 5xx (or another unexpected status): retry with backoff
    refused,      ///< "ok": false (or a 4xx): Slack's `error` code; no blind retry
  };
  kind outcome = kind::ok;
  std::string error;          ///< Slack's code, "http_503", "unreachable", "bad_response"
  double retry_after_sec = 0; ///< for rate_limited
  nlohmann::json body;        ///< the parsed body (object) when one came

  bool ok() const { return outcome == kind::ok; }
};

/// Classifies a response. A 2xx whose body is not a JSON object with a
/// boolean "ok" is `refused` with error "bad_response".
api_result classify(const http_response& res);

/// Retry-After in seconds (delta-seconds, fractions accepted for tests);
/// `fallback` when absent or malformed; at most one hour.
double parse_retry_after(const http_response& res, double fallback = 1.0);

/// `canvas_id` of a conversations.canvases.create answer ("" when absent).
std::string created_canvas_id(const nlohmann::json& body);

} // namespace epmpulse::slack
