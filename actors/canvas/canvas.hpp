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
// - Each render is one canvases.edit replace of the whole canvas: Slack's
//   section edits cannot remove the list or table under a heading (the
//   heading's section is the heading alone; lookup finds headings only).
// - 429: every canvas waits Retry-After, then the newest state is sent.
//   Network errors, 5xx and Slack's transient codes (internal_error,
//   fatal_error, service_unavailable, request_timeout, ratelimited without
//   Retry-After): retries after 1, 2, 4 s ... (max_retries), then the canvas
//   stays dirty and is retried every 60 s until it succeeds.
//   Auth codes (invalid_auth, token_revoked, missing_scope, ...): no canvas
//   calls Slack any more; auth.test re-checks the token every
//   `auth_recheck` and on a sync, and the dirty canvases are sent once it
//   passes. Other "ok": false codes: logged and shown in health with the fix;
//   the next change tries again.
// - Start-up: auth.test first names the workspace and the bot (log, health)
//   and checks the granted scopes (x-oauth-scopes) against the config.
// - No token: disabled. Previews work, health says "disabled", a sync is
//   refused with ec::slack_disabled, nothing is sent.
//
// At start-up every canvas is synced once; a channel without canvas_id gets
// one created (conversations.canvases.create) when create_missing_canvases
// is set, and the id is kept in <data_dir>/canvases.json (0600) by the
// canvas ids writer (actors/canvas/canvas_ids_writer.hpp). The decisions
// (what to send, what Slack's answers mean, retry delays, the ids file) are
// pure functions in actors/canvas/update_rules.hpp.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_clock.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <nlohmann/json.hpp>

#include "actors/canvas/canvas_ids_writer.hpp"
#include "actors/canvas/canvas_render.hpp"
#include "actors/canvas/slack_api.hpp"
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

/// The answer to (sync_atom): one result per canvas, in config order. A sync
/// in which some canvas failed is still this value; see each result.
struct sync_reply {
  std::vector<canvas_sync_result> canvases;

  /// Every canvas was sent (or was already what Slack has).
  bool all_sent() const;

  /// The POST /canvas/sync body: {"success" (= all_sent()), "canvas_id",
  /// "channel", "updated_at", "canvases": [...]} (first canvas also at top level).
  nlohmann::json to_json() const;
};

/// One canvas exactly as it would be sent.
struct canvas_preview {
  std::string channel;
  std::string canvas_id; ///< "" while not yet created
  std::string markdown;
};

/// The answer to (preview_atom, channel).
struct preview_reply {
  std::vector<canvas_preview> canvases;

  /// {"success": true, "canvases": [{"channel", "canvas_id", "markdown"}]}.
  nlohmann::json to_json() const;
};

/// One canvas's health.
struct canvas_status {
  std::string channel;
  std::string canvas_id;
  std::string status = "pending"; ///< "pending" | "ok" | "error: <code>"
  std::string fix;                ///< what the operator must do ("" when nothing)
  std::optional<time_point> last_success;
  bool dirty = false; ///< a change is waiting to be sent
};

/// The token as auth.test last saw it.
struct slack_auth_status {
  std::string status = "pending"; ///< "pending" | "ok" | "error: <code>"
  std::string team, team_id, url;  ///< the workspace
  std::string bot_user, bot_user_id, bot_id;
  std::vector<std::string> scopes; ///< granted (x-oauth-scopes), when Slack said
  std::vector<std::string> missing_scopes;
  std::string fix;
};

/// The canvas side of GET /health.
struct canvas_health {
  std::string slack_api = "ok"; ///< "ok" | "disabled" | "error: <code>"
  bool degraded = false;        ///< a canvas failed or is retrying, or the token is unusable
  slack_auth_status auth;       ///< not shown when disabled
  bool enabled = false;
  std::vector<canvas_status> canvases;

  /// {"slack_api": ..., "slack_auth": {"status", "workspace", "team_id",
  /// "url", "bot_user", "bot_user_id", "bot_id", "scopes", "missing_scopes",
  /// "fix"}, "canvases": {channel: {"canvas_id", "status", "fix",
  /// "last_success", "dirty"}}}: merged into the health checks.
  nlohmann::json checks() const;
};

/// Counters since start.
struct canvas_metrics {
  std::uint64_t renders = 0;           ///< canvases rendered for sending
  std::uint64_t renders_unchanged = 0; ///< of those, identical to Slack's: not sent
  std::uint64_t slack_calls = 0;       ///< every Slack Web API call
  std::uint64_t edits = 0;             ///< canvases.edit calls
  std::uint64_t creates = 0;           ///< conversations.canvases.create calls
  std::uint64_t failures = 0;          ///< calls that failed (any reason)
  std::uint64_t retries = 0;           ///< backoff and periodic retries started
  std::uint64_t rate_limited = 0;      ///< 429 answers
  std::map<std::string, std::uint64_t> edits_by_channel;

  nlohmann::json to_json() const;
  /// Prometheus text lines (epmpulse_canvas_*).
  std::string prometheus() const;
};

// -- protocol ------------------------------------------------------------------

/// What the canvas uses of the state actor: a state_store_actor converts to it.
using canvas_state_feed = caf::typed_actor<
  caf::replies_to<snapshot_atom>::with<snapshot_ptr>,
  caf::reacts_to<subscribe_atom, change_listener_actor>>;

/// The protocol.
using canvas_actor = caf::typed_actor<
  /// From the state actor after each durable commit: re-render the canvases
  /// showing the changed apps (debounced).
  caf::reacts_to<changed_atom, change_set>,
  /// From the expectation evaluator when a mark or next run changed: the
  /// canvases showing an app whose marks differ re-render, debounced like a
  /// change (one edit for a burst of both).
  caf::reacts_to<expectation_atom, canvas::canvas_marks>,
  /// PostgreSQL storage: only the cluster's leader sends to Slack. Becoming
  /// leader syncs every canvas once; a follower renders previews only.
  caf::reacts_to<leader_atom, bool>,
  /// Render and send every canvas now, bypassing the debounce (not a
  /// Retry-After in force); answers once every canvas has a result or at
  /// `sync_timeout`. Error ec::slack_disabled without a token (its one
  /// std::string of context says how to enable Slack). A sync where
  /// some canvas failed is still a value: each canvas_sync_result says
  /// ok/error (the HTTP edge maps "any failed" to 502 SLACK_ERROR).
  caf::replies_to<sync_atom>::with<sync_reply>,
  /// One channel's canvas, or all for "". Errors, each with exactly one
  /// std::string of context (the human message for the API):
  /// ec::invalid_request for an unknown channel, ec::state_error when the
  /// state did not answer.
  caf::replies_to<preview_atom, std::string>::with<preview_reply>,
  /// The canvas side of GET /health.
  caf::replies_to<health_atom>::with<canvas_health>,
  /// The counters for GET /metrics.
  caf::replies_to<metrics_atom>::with<canvas_metrics>,
  /// Timer: a trailing render of a canvas is due (canvas index, generation).
  caf::reacts_to<debounce_due_atom, std::uint64_t, std::uint64_t>,
  /// Timer: a backoff or periodic retry of a canvas (canvas index, generation).
  caf::reacts_to<retry_due_atom, std::uint64_t, std::uint64_t>,
  /// Timer: the workspace's Retry-After is over (generation).
  caf::reacts_to<resume_due_atom, std::uint64_t>,
  /// Timer: a sync must answer now with what it has (sync id).
  caf::reacts_to<sync_deadline_atom, std::uint64_t>,
  /// Timer: re-check the token with auth.test (generation).
  caf::reacts_to<auth_check_due_atom, std::uint64_t>>;

/// What the canvas actor needs. Times other than the config's are knobs for
/// tests; production uses the defaults.
struct canvas_options {
  std::shared_ptr<const config::service_config> config;
  canvas_state_feed state;
  http_client_actor http;              ///< shared client; spawned when null (and Slack is on)
  canvas_ids_writer_actor ids_writer;  ///< spawned (detached) when null and a canvas may be created
  std::string data_dir;                ///< holds canvases.json (created canvas ids)
  std::chrono::milliseconds backoff_base{1000};   ///< 1, 2, 4 s ...
  std::chrono::milliseconds dirty_retry{60000};   ///< after max_retries
  std::chrono::milliseconds sync_timeout{8000};   ///< below RESTinio's 10 s
  std::chrono::milliseconds state_timeout{5000};  ///< snapshot requests
  std::chrono::milliseconds auth_recheck{300000}; ///< while the token is refused
  /// Sends nothing until told it leads (PostgreSQL storage's leader election).
  bool follows_leader = false;
};

/// What the actor keeps.
struct canvas_state {
  static inline constexpr const char* name = "canvas";
  using steady_point = caf::actor_clock::time_point;

  /// One channel's canvas.
  struct slot {
    config::channel_config channel;
    /// What Slack has, as far as we know: the last render it accepted.
    /// None until the first success.
    std::optional<canvas::rendered_canvas> sent;

    bool dirty = false; ///< a change not yet taken by a render
    bool busy = false;  ///< a render and its calls are in progress
    bool force = false; ///< the next render is sent even if unchanged (sync)
    std::optional<steady_point> last_start; ///< when the last render started
    // CAF 0.17 cannot cancel a delayed message: each timer carries the
    // generation it was armed with, and one older than the slot's is ignored.
    std::uint64_t debounce_gen = 0;
    bool debounce_armed = false;
    std::uint64_t retry_gen = 0;
    bool retry_armed = false;
    int attempts = 0; ///< consecutive network/5xx failures

    std::string status = "pending";
    std::string fix; ///< what the operator must do about `status`
    /// The channel has a canvas whose id is unknown: no create until a sync.
    bool create_blocked = false;
    std::optional<time_point> last_success;
    std::vector<std::uint64_t> waiting_syncs; ///< syncs waiting for the next forced render
    std::vector<std::uint64_t> current_syncs; ///< syncs the render in progress answers
  };

  /// A sync waiting for Slack.
  struct pending_sync {
    caf::typed_response_promise<sync_reply> promise;
    std::vector<canvas_sync_result> results; ///< one per slot
    std::vector<bool> waiting;               ///< per slot: no result yet
    std::size_t open = 0;                    ///< slots still waiting
  };

  std::shared_ptr<const config::service_config> cfg;
  canvas_options opts; ///< as given, with the helpers it needs spawned
  slack::api_settings api;
  canvas::render_options render;
  bool leading = true; ///< false on a follower of the leader election
  bool enabled = false;
  std::chrono::milliseconds interval{2000};

  std::vector<slot> slots;
  std::map<std::string, std::vector<std::size_t>> slots_by_app;
  /// The evaluator's latest marks (null until its first set): every render
  /// shows these, so a trailing render shows the newest marks too.
  canvas::canvas_marks marks;

  // Snapshot cache: valid until the next change notification.
  snapshot_ptr snapshot;
  std::uint64_t change_seq = 0;   ///< bumped by every change notification
  std::uint64_t snapshot_seq = 0; ///< change_seq the cached snapshot is at least as new as
  bool snapshot_requested = false;
  std::vector<std::function<void(snapshot_ptr)>> snapshot_waiters;

  // Workspace-wide Retry-After: Slack counts it per method and workspace.
  std::optional<steady_point> blocked_until;
  std::uint64_t resume_gen = 0;

  std::map<std::uint64_t, pending_sync> syncs;
  std::uint64_t next_sync_id = 1;

  // The token (auth.test): canvases wait for the first answer; while
  // `auth.status` is an error no canvas calls Slack.
  slack_auth_status auth;
  bool auth_answered = false;   ///< the start-up check has answered (anyhow)
  bool auth_checking = false;   ///< an auth.test is in flight
  int auth_attempts = 0;        ///< consecutive unanswered checks (network, 5xx)
  std::uint64_t auth_gen = 0;   ///< the armed re-check's generation

  canvas_metrics metrics;
};

/// The canvas side of GET /health as `st` shows it: "degraded" while a canvas
/// failed or is retrying, "slack_api" the first canvas error.
canvas_health canvas_health_of(const canvas_state& st);

/// Checks the options the config loader cannot (a config and a state actor
/// are given), loads created canvas ids from the data dir, spawns the actor,
/// subscribes it to the state actor and starts the initial sync. Errors:
/// ec::invalid_request with the reason. An unusable time zone is only a
/// warning: UTC is shown.
caf::expected<canvas_actor> spawn_canvas(caf::actor_system& sys, canvas_options opts);

/// File name, inside the data dir, of the created canvases' ids.
inline constexpr const char* canvas_ids_file_name = "canvases.json";

} // namespace epmpulse

// The replies travel only between actors of this process (the HTTP edge asks
// in-process); they are never serialised, so they need no inspect().
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::sync_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::preview_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::canvas_health)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::canvas_metrics)
