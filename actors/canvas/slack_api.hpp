#pragma once

// Slack Web API: request builders and response classification for the
// methods the canvas side uses. Pure functions; the canvas actor sends the
// requests through the http_client actor.
//
//   auth.test                     who the token is, and (header) its scopes
//   canvases.edit                 replace the whole canvas
//   conversations.canvases.create create a channel's canvas
//   conversations.info            a channel's existing canvas (properties.canvas)
//   chat.postMessage              an alert, and its follow-ups in the thread
//
// Slack answers most errors with HTTP 200 and {"ok": false, "error": code}
// (some codes add fields: missing_scope `needed`/`provided`,
// canvas_editing_failed `detail`), rate limits with HTTP 429 and Retry-After
// (docs/integrations.md lists the sources).
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

/// `chat.postMessage` of `text` to `channel_id` (scope chat:write); a reply
/// in the thread of the message `thread_ts` when that is not empty. Slack
/// answers the new message's `ts`.
http_request chat_post_message(const api_settings& api, const std::string& channel_id,
                               const std::string& text, const std::string& thread_ts = {});

/// `auth.test` (no arguments, no scope needed).
http_request auth_test(const api_settings& api);

/// `conversations.info` for `channel_id`, form-encoded (every method takes that).
http_request conversation_info(const api_settings& api, const std::string& channel_id);

/// What a Slack call came to.
struct api_result {
  enum class kind {
    ok,           ///< HTTP 2xx and "ok": true
    rate_limited, ///< HTTP 429 (or "ratelimited" with Retry-After): wait `retry_after_sec`
    unreachable,  ///< no HTTP response (connect, timeout, reset)
    server_error, ///< HTTP 5xx, another unexpected status, or a transient "ok": false
                  ///< code (is_transient_error): retry with backoff
    unauthorized, ///< "ok": false with an auth code (is_auth_error): the token is unusable
    refused,      ///< any other "ok": false (or a 4xx): Slack's `error` code; no blind retry
  };
  kind outcome = kind::ok;
  std::string error;          ///< Slack's code, "http_503", "unreachable", "bad_response"
  std::string needed;         ///< missing_scope: the scope the method needs
  std::string provided;       ///< missing_scope: the scopes the token has
  std::string detail;         ///< e.g. canvas_editing_failed: Slack's explanation
  double retry_after_sec = 0; ///< for rate_limited
  /// The token's scopes from the `x-oauth-scopes` header (Slack sends it with
  /// every Web API answer); `scopes_known` false when the header was absent.
  std::vector<std::string> scopes;
  bool scopes_known = false;
  nlohmann::json body; ///< the parsed body (object) when one came

  bool ok() const { return outcome == kind::ok; }
};

/// Classifies a response. A 2xx whose body is not a JSON object with a
/// boolean "ok" is `refused` with error "bad_response".
api_result classify(const http_response& res);

/// Retry-After in seconds (delta-seconds, fractions accepted for tests);
/// `fallback` when absent or malformed; at most one hour.
double parse_retry_after(const http_response& res, double fallback = 1.0);

/// Codes Slack documents as transient ("likely due to a transient issue",
/// "temporarily unavailable", POST data truncated, rate limited without a
/// Retry-After): the same call may succeed later.
bool is_transient_error(const std::string& code);

/// Codes that say the token itself cannot be used (bad, revoked, wrong type,
/// lacking a scope): every further call with it would fail the same way.
bool is_auth_error(const std::string& code);

/// A comma-separated scope list ("a,b, c") as its entries.
std::vector<std::string> split_scopes(const std::string& text);

/// Who a token is, from an auth.test answer.
struct token_identity {
  std::string team;        ///< workspace name
  std::string team_id;     ///< T...
  std::string url;         ///< https://<workspace>.slack.com/
  std::string user;        ///< the bot user's name
  std::string user_id;     ///< U... / W...
  std::string bot_id;      ///< B... (bot tokens)
  std::string enterprise_id;
};
token_identity read_identity(const nlohmann::json& body);

/// `channel.properties.canvas.file_id` of a conversations.info answer: the
/// channel's canvas ("" when it has none or the field is absent).
std::string channel_canvas_id(const nlohmann::json& body);

/// `canvas_id` of a conversations.canvases.create answer ("" when absent).
std::string created_canvas_id(const nlohmann::json& body);

} // namespace epmpulse::slack
