#pragma once

// The canvas actor: keeps every channel's Slack canvas in step with the
// state. One actor manages all canvases: they share one Slack workspace, so a
// 429's Retry-After (per method and workspace) holds them all at once, one
// state subscription and one snapshot request serve every canvas, and sync
// answers for all canvases from one place. It never blocks: every Slack call
// goes through the http_client actor (detached curl workers) and every wait
// is a timer message.
//
// Per canvas:
// - Debounce, leading + trailing: the first change after a quiet period
//   renders at once; changes within `min_update_interval_sec` of the last
//   render coalesce into one trailing render at the end of the interval, of
//   the newest state. Nothing is dropped: a change always leaves the canvas
//   dirty until a render of a state at least as new has been sent.
// - A render identical to what Slack last accepted is not sent.
// - update_mode "full": one canvases.edit replace of the whole canvas.
//   "sections": replace only the changed sections (header, app, recent jobs),
//   their ids looked up once (canvases.sections.lookup) and cached; a full
//   replace when the layout changed, a lookup does not find exactly one
//   heading, or a section replace is refused.
// - 429: every canvas waits Retry-After, then the newest state is sent.
//   Network errors and 5xx: retries after 1, 2, 4 s ... (max_retries), then
//   the canvas stays dirty and is retried every 60 s until it succeeds.
//   "ok": false: the code is logged and shown in health; the next change
//   tries again.
// - No token: disabled. Previews work, health says "disabled", sync answers
//   ec::slack_disabled, nothing is sent.
//
// At start-up every canvas is synced once; a channel without canvas_id gets
// one created (conversations.canvases.create) when create_missing_canvases
// is set, and the id is kept in <data_dir>/canvases.json (0600).

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/errors.hpp"
#include "actors/common/http_client.hpp"
#include "actors/state/state_store.hpp"
#include "actors/state/status_model.hpp"
#include "config/config.hpp"

namespace epmpulse {

// -- replies -------------------------------------------------------------------

/// One canvas's part of a sync answer.
struct canvas_sync_result {
  std::string channel;
  std::string canvas_id;
  std::optional<time_point> updated_at; ///< when Slack accepted it (ok only)
  bool ok = false;
  std::string error; ///< Slack's code, "ratelimited", "unreachable", "http_5xx", "timeout"
};

/// The answer to (sync_atom): ec::none when every canvas was sent,
/// ec::slack_error when any was not (see each result's error),
/// ec::slack_disabled without a token.
struct sync_reply {
  ec error = ec::none;
  std::vector<canvas_sync_result> canvases; ///< in config order

  /// The POST /canvas/sync body: {"success", "canvas_id", "channel",
  /// "updated_at", "canvases": [...]} (first canvas also at top level).
  nlohmann::json to_json() const;
};

/// One canvas exactly as it would be sent.
struct canvas_preview {
  std::string channel;
  std::string canvas_id; ///< "" while not yet created
  std::string markdown;
};

/// The answer to (preview_atom): ec::invalid_request for an unknown channel,
/// ec::state_error when the state did not answer.
struct preview_reply {
  ec error = ec::none;
  std::string message;
  std::vector<canvas_preview> canvases;

  /// {"success": true, "canvases": [{"channel", "canvas_id", "markdown"}]}.
  nlohmann::json to_json() const;
};

/// One canvas's health.
struct canvas_status {
  std::string channel;
  std::string canvas_id;
  std::string status = "pending"; ///< "pending" | "ok" | "error: <code>"
  std::optional<time_point> last_success;
  bool dirty = false; ///< a change is waiting to be sent
};

/// The canvas side of GET /health.
struct canvas_health {
  std::string slack_api = "ok"; ///< "ok" | "disabled" | "error: <code>"
  bool degraded = false;        ///< a canvas failed or is retrying
  std::vector<canvas_status> canvases;

  /// {"slack_api": ..., "canvases": {channel: {"canvas_id", "status",
  /// "last_success", "dirty"}}}: merged into the health checks.
  nlohmann::json checks() const;
};

/// Counters since start.
struct canvas_metrics {
  std::uint64_t renders = 0;           ///< canvases rendered for sending
  std::uint64_t renders_unchanged = 0; ///< of those, identical to Slack's: not sent
  std::uint64_t slack_calls = 0;       ///< every Slack Web API call
  std::uint64_t edits = 0;             ///< canvases.edit calls
  std::uint64_t lookups = 0;           ///< canvases.sections.lookup calls
  std::uint64_t creates = 0;           ///< conversations.canvases.create calls
  std::uint64_t failures = 0;          ///< calls that failed (any reason)
  std::uint64_t retries = 0;           ///< backoff and periodic retries started
  std::uint64_t rate_limited = 0;      ///< 429 answers
  std::uint64_t fallbacks = 0;         ///< sections mode fell back to a full replace
  std::map<std::string, std::uint64_t> edits_by_channel;

  nlohmann::json to_json() const;
  /// Prometheus text lines (epmpulse_canvas_*).
  std::string prometheus() const;
};

using sync_callback = std::function<void(sync_reply)>;
using preview_callback = std::function<void(preview_reply)>;
using canvas_health_callback = std::function<void(canvas_health)>;
using canvas_metrics_callback = std::function<void(canvas_metrics)>;

// -- protocol ------------------------------------------------------------------

/// Callbacks are called exactly once, from the actor's thread; they must not
/// block (hand the value to RESTinio and return).
using canvas_actor = caf::typed_actor<
  /// From the state actor after each durable commit: re-render the canvases
  /// showing the changed apps (debounced).
  caf::reacts_to<changed_atom, change_set>,
  /// POST /canvas/sync: render and send every canvas now, bypassing the
  /// debounce (not a Retry-After in force); answers once every canvas has a
  /// result or after `sync_timeout`.
  caf::reacts_to<sync_atom, sync_callback>,
  /// GET /canvas/preview: one channel's canvas, or all when "".
  caf::reacts_to<preview_atom, std::string, preview_callback>,
  caf::reacts_to<health_atom, canvas_health_callback>,
  caf::reacts_to<metrics_atom, canvas_metrics_callback>,
  /// Internal timers: (kind, canvas index or sync id, generation); stale
  /// generations are ignored (0.17 cannot cancel a delayed message).
  caf::reacts_to<tick_atom, std::uint8_t, std::uint64_t, std::uint64_t>>;

/// What the canvas actor needs. Times other than the config's are knobs for
/// tests; production uses the defaults.
struct canvas_options {
  std::shared_ptr<const config::service_config> config;
  state_store_actor state;
  http_client_actor http;    ///< shared client; spawned when null
  std::string data_dir;      ///< holds canvases.json (created canvas ids)
  std::chrono::milliseconds backoff_base{1000};   ///< 1, 2, 4 s ...
  std::chrono::milliseconds dirty_retry{60000};   ///< after max_retries
  std::chrono::milliseconds sync_timeout{8000};   ///< below RESTinio's 10 s
  std::chrono::milliseconds state_timeout{5000};  ///< snapshot requests
};

/// Validates the Slack settings, loads created canvas ids from the data dir,
/// spawns the actor, subscribes it to the state actor and starts the initial
/// sync. Errors: ec::invalid_request with the reason (unknown time zone is
/// only a warning: UTC is used).
caf::expected<canvas_actor> spawn_canvas(caf::actor_system& sys, canvas_options opts);

/// File name, inside the data dir, of the created canvases' ids.
inline constexpr const char* canvas_ids_file_name = "canvases.json";

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::sync_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::preview_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::canvas_health_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::canvas_metrics_callback)
