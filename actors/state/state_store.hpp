#pragma once

// The state actor: the only owner of the status snapshot and of the state
// files. Handlers and other actors change or read state only by messaging it.
//
// Durability works like a database's: an apply is answered only after its
// record is appended to the change log (apps_status.wal) and fdatasync'd by
// the log_writer it drives. While an append is in flight, arriving updates are
// merged in memory and go out together in the next append (group commit).
// The JSON state file (apps_status.json), the readable document users and
// backups see, is a snapshot rewritten by the state_writer in the background
// shortly after changes (and on shutdown); start-up replays the log records
// newer than the snapshot, then rewrites the snapshot and empties the log.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/errors.hpp"
#include "actors/state/state_writer.hpp"
#include "actors/state/status_bodies.hpp"
#include "actors/state/status_model.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// What the state actor answers to an apply.
struct apply_reply {
  ec error = ec::none;                 ///< ec::state_error when the write failed
  std::vector<status_update> updates;  ///< the request's updates, handed back for the answer
  std::vector<merge_outcome> outcomes; ///< one per update, in request order
  bool changed = false;                ///< at least one update was applied
};

/// One applied change, as subscribers see it (after it is durable).
struct domain_change {
  std::string app;
  std::string domain;
  domain_state before;
  domain_state after;
};

using change_set = std::shared_ptr<const std::vector<domain_change>>;

/// What a subscriber to the state's changes accepts (the canvas actor and
/// the EPM router do).
using change_listener_actor = caf::typed_actor<caf::reacts_to<changed_atom, change_set>>;

/// What GET /status and GET /status/{app} answer: a body serialised once per
/// state version and shared by every reader of that version.
struct status_body {
  ec error = ec::none; ///< ec::app_not_found for an unknown app
  status_representation body;
};

/// The state side of GET /health.
struct state_health {
  bool file_ok = true;
  std::string file_error;                ///< last write error, "" when ok
  std::optional<time_point> last_update; ///< snapshot's last_updated
  std::uint64_t commits = 0;             ///< successful change-log appends
  std::uint64_t committed_updates = 0;   ///< applies carried by those appends
  std::uint64_t version = 0;             ///< state version = log position
  bool snapshot_ok = true;               ///< the last snapshot write succeeded
  std::string snapshot_error;            ///< its error, "" when ok
  std::uint64_t snapshots = 0;           ///< successful snapshot writes
  std::uint64_t snapshot_lag = 0;        ///< versions not yet in the JSON file
};

using apply_callback = std::function<void(apply_reply)>;
using body_callback = std::function<void(status_body)>;
using health_callback = std::function<void(state_health)>;

/// Which body a get asks for: all apps when `app` is empty; gzip-compressed
/// (by the body compressor, so the answer may come from its thread) when the
/// client accepts that.
struct status_query {
  std::string app;
  bool gzip = false;
};

/// The protocol. Callbacks are invoked exactly once, from the actor's thread
/// (a gzip body's from the body compressor's); they must not block.
using state_store_actor = caf::typed_actor<
  /// Validated updates (1 for POST /status, up to 100 for a batch), applied as
  /// one state transition; answered once the log append holding them is durable.
  caf::reacts_to<apply_atom, std::vector<status_update>, apply_callback>,
  /// The serialised GET body for all apps or one.
  caf::reacts_to<get_atom, status_query, body_callback>,
  /// The state file's health and commit counters.
  caf::reacts_to<health_atom, health_callback>,
  /// An immutable copy of the current snapshot (for the canvas and pollers).
  caf::replies_to<snapshot_atom>::with<snapshot_ptr>,
  /// `subscriber` receives (changed_atom, change_set) after each durable commit.
  caf::reacts_to<subscribe_atom, change_listener_actor>,
  /// Logs everything pending and writes a snapshot of it; answers true once
  /// the JSON file holds the whole state (shutdown), false when it could not.
  caf::replies_to<flush_atom>::with<bool>,
  /// Internal timers: 0 = stale-loading sweep, 1 = backup, 2 = append retry,
  /// 3 = snapshot.
  caf::reacts_to<tick_atom, std::uint8_t, std::uint64_t>>;

/// Where the state lives and how it behaves.
struct state_store_options {
  std::string data_dir;                      ///< holds apps_status.json, the log, backups/
  std::shared_ptr<const config::service_config> config;
};

/// Loads (or creates, or recovers) the state file, replays the change log,
/// writes the result as the new snapshot, and spawns the state actor with its
/// detached writers. Returns an error message when the data dir is
/// unusable (start-up then stops).
caf::expected<state_store_actor> spawn_state_store(caf::actor_system& sys,
                                                   state_store_options opts);

/// File name of the state file inside the data dir.
inline constexpr const char* state_file_name = "apps_status.json";

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<epmpulse::status_update>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::apply_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::body_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::health_callback)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::status_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::change_set)
