#pragma once

// The canvas actor's decisions as pure functions: how a fresh render reaches
// Slack, what each of Slack's answers means for the canvas, how long a failing
// canvas waits before the next try, and the file that keeps the ids of the
// canvases this service created. The actor carries the decisions out; tests
// call them without actors.

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include <caf/expected.hpp>

#include "actors/canvas/canvas_render.hpp"
#include "actors/canvas/slack_api.hpp"
#include "config/config.hpp"

namespace epmpulse::canvas {

// -- what to send ----------------------------------------------------------------

/// How a fresh render reaches Slack. A canvas is always sent whole (one
/// canvases.edit `replace` without a section id): Slack's section edits
/// cannot remove the list or table under a heading, because the heading's
/// section is the heading alone and sections.lookup finds headings only.
enum class send_plan {
  unchanged, ///< identical to what Slack last accepted: nothing is sent
  create,    ///< the channel has no canvas yet: conversations.canvases.create
  full,      ///< one canvases.edit replace of the whole canvas
};

/// Decides how `fresh` reaches Slack, which has `sent` (none before the first
/// success). A forced render (a sync) is sent even when unchanged, so it also
/// repairs a canvas someone edited by hand.
send_plan plan_send(const std::optional<rendered_canvas>& sent, const rendered_canvas& fresh,
                    bool has_canvas_id, bool force);

// -- what Slack's answers mean ---------------------------------------------------

/// How one render attempt of a canvas ended.
struct attempt_outcome {
  enum class kind {
    sent,         ///< Slack accepted every call
    unchanged,    ///< nothing needed sending
    refused,      ///< "ok": false: no blind retry, the next change tries again
    rate_limited, ///< 429: every canvas waits `retry_after_sec`
    failed,       ///< network, 5xx or a transient "ok": false: retried with backoff
    unauthorized, ///< the token is unusable: no canvas calls Slack until a re-check passes
  };
  kind result = kind::sent;
  std::string error;          ///< Slack's code, "http_503", "unreachable", ...
  double retry_after_sec = 0; ///< rate_limited only
  /// What Slack said beyond the code: canvas_editing_failed's `detail`,
  /// missing_scope's "needed: x; provided: y" ("" when nothing).
  std::string detail;

  /// Slack has the state the attempt rendered.
  bool in_step() const { return result == kind::sent || result == kind::unchanged; }
};

/// The outcome of an attempt that ends with the answer `r`.
attempt_outcome outcome_of(const slack::api_result& r);

/// What a conversations.canvases.create answer gives: the new canvas's id,
/// or (no id) the outcome that ends the attempt. An ok answer without an id is
/// refused as "bad_response": retrying could create a second canvas.
/// "channel_canvas_already_exists" sets `already_exists`: the channel's canvas
/// is to be found with conversations.info, never created again.
struct created_canvas {
  std::string canvas_id;
  attempt_outcome failure; ///< when canvas_id is empty
  bool already_exists = false;
};
created_canvas read_create_answer(const slack::api_result& r);

// -- what the operator must do -------------------------------------------------------

/// The fix for a canvas whose attempt ended with `o` (channel `channel`,
/// canvas `canvas_id`): one sentence naming what to change where; "" for
/// outcomes that heal themselves (network, 5xx, 429).
std::string channel_fix(const attempt_outcome& o, const std::string& channel,
                        const std::string& canvas_id);

/// The fix for a token Slack does not accept (`code` an auth error, `detail`
/// as in attempt_outcome).
std::string token_fix(const std::string& code, const std::string& detail);

/// The bot scopes the configuration needs: canvases:write always (edit and
/// create); while creating canvases, one of channels:read / groups:read too
/// (conversations.info finds a channel's existing canvas: public / private
/// channels).
struct scope_check {
  std::vector<std::string> missing_required; ///< nothing works without these
  std::vector<std::string> missing_optional; ///< a feature is lost without these
  std::string fix;                           ///< "" when nothing is missing
};
scope_check check_scopes(const std::vector<std::string>& granted, bool creates_canvases);

// -- retries ----------------------------------------------------------------------

/// When a canvas whose calls failed `attempts` times in a row (network or 5xx)
/// is tried again: backoff_base, twice that, four times ... for the first
/// `max_retries` retries, then every `periodic` until it succeeds.
struct retry_plan {
  std::chrono::milliseconds delay{0};
  bool backoff_used_up = false; ///< periodic retries from now: health shows the error
};
retry_plan plan_retry(int attempts, int max_retries, std::chrono::milliseconds backoff_base,
                      std::chrono::milliseconds periodic);

// -- the canvas ids file ------------------------------------------------------------

/// Reads {"canvases": {channel: canvas_id}}; entries whose id is not a string
/// are skipped. An error (with the reason) when the text is not that document.
caf::expected<std::map<std::string, std::string>> parse_canvas_ids(const std::string& text);

/// The file's text for `ids` (a restart reads it with parse_canvas_ids).
std::string canvas_ids_text(const std::map<std::string, std::string>& ids);

/// Of `current` (channel -> canvas id), the ids a restart needs from the file:
/// those of channels the config names without a canvas_id.
std::map<std::string, std::string> ids_to_keep(const config::service_config& cfg,
                                               const std::map<std::string, std::string>& current);

} // namespace epmpulse::canvas
