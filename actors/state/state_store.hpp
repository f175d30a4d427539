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
#include "actors/state/body_compressor.hpp"
#include "actors/state/log_writer.hpp"
#include "actors/state/pg_listener.hpp"
#include "actors/state/pg_writer.hpp"
#include "actors/state/state_writer.hpp"
#include "actors/state/status_bodies.hpp"
#include "actors/state/status_model.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// What the state actor answers to an apply, once the log append holding it
/// is durable. A failed append is the error ec::state_error instead.
struct apply_result {
  std::vector<status_update> updates;  ///< the request's updates, handed back for the answer
  std::vector<merge_outcome> outcomes; ///< one per update, in request order
  bool changed = false;                ///< at least one update was applied
};

using change_set = std::shared_ptr<const std::vector<domain_change>>;

/// What a subscriber to the state's changes accepts (the canvas actor and
/// the EPM router do).
using change_listener_actor = caf::typed_actor<caf::reacts_to<changed_atom, change_set>>;

/// The durable history the state feeds (actors/history). It receives every
/// change set after its commit, like a subscriber; the state never drops a
/// change log holding changes the archive has not made durable, and start-up
/// hands it the logged changes it lacks before the logs go.
using change_archive_actor = caf::typed_actor<
  caf::reacts_to<changed_atom, change_set>,
  /// Makes every change received so far durable; answers the highest change
  /// id it holds (0 when empty), or an error when it cannot write.
  caf::replies_to<sync_atom>::with<std::uint64_t>>;

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
  bool database = false;                 ///< PostgreSQL storage: file_ok is its commits
};

/// Which body a get asks for: all apps when `app` is empty; gzip-compressed
/// (by the body compressor, so the answer may come from its thread) when the
/// client accepts that.
struct status_query {
  std::string app;
  bool gzip = false;
};

/// The protocol. Every request is answered with a value or a caf::error.
using state_store_actor = caf::typed_actor<
  /// Validated updates (1 for POST /status, up to 100 for a batch), applied as
  /// one state transition; answered once the log append holding them is
  /// durable, or with ec::state_error when it failed (nothing is confirmed).
  /// An update that changes nothing is answered once the state it saw is
  /// durable. The response promises wait in the group-commit queues.
  caf::replies_to<apply_atom, std::vector<status_update>>::with<apply_result>,
  /// The serialised GET body for all apps or one; ec::app_not_found for an
  /// unknown app. A gzip body is delegated to the body compressor, which
  /// answers from its own thread.
  caf::replies_to<get_atom, status_query>::with<status_representation>,
  /// The state file's health and commit counters.
  caf::replies_to<health_atom>::with<state_health>,
  /// An immutable copy of the current snapshot (for the canvas and pollers).
  caf::replies_to<snapshot_atom>::with<snapshot_ptr>,
  /// `subscriber` receives (changed_atom, change_set) after each durable commit.
  caf::reacts_to<subscribe_atom, change_listener_actor>,
  /// The expectation evaluator's marks, shown by the next GET bodies (not
  /// logged: they are derived from the state and the clock).
  caf::reacts_to<expectation_atom, expectation_marks>,
  /// Changes committed to the database (by any instance), from the change
  /// listener: merged unless already held, then passed to the subscribers.
  caf::reacts_to<remote_atom, remote_change_set>,
  /// Logs everything pending and writes a snapshot of it; answers true once
  /// the JSON file holds the whole state (shutdown), false when it could not.
  caf::replies_to<flush_atom>::with<bool>,
  /// Timers: the stale-Loading sweep, the periodic backup, the retry of a
  /// failed append, the snapshot after changes.
  caf::reacts_to<stale_sweep_atom>, caf::reacts_to<backup_due_atom>,
  caf::reacts_to<append_retry_atom>, caf::reacts_to<snapshot_due_atom>>;

/// The detached helpers the state actor drives. Production spawns the real
/// ones; tests hand in fakes with the same interfaces.
struct state_store_helpers {
  log_writer_actor log;
  state_writer_actor writer;
  body_compressor_actor compressor;
  /// PostgreSQL storage: commits go here instead of the log, and there is
  /// no JSON file (log and writer stay null).
  pg_writer_actor database;
};

/// Where the state lives and how it behaves.
struct state_store_options {
  std::string data_dir;                      ///< holds apps_status.json, the log, backups/
  std::shared_ptr<const config::service_config> config;
  change_archive_actor archive;              ///< the history; null: none (tests)
};

/// Loads (or creates, or recovers) the state file, replays the change log,
/// hands the archive the logged changes it lacks, writes the result as the
/// new snapshot, and spawns the state actor with its
/// detached writers. When that snapshot cannot be written (a full disk) the
/// logs are kept and the actor retries it. Returns an error message when the
/// data dir is unusable (start-up then stops).
/// With settings.storage.kind "postgres" it migrates the schema, loads the
/// state from the database instead, and spawns the database writer and the
/// change listener; an unreachable database stops start-up.
caf::expected<state_store_actor> spawn_state_store(caf::actor_system& sys,
                                                   state_store_options opts);

/// The same with the given helpers (tests): loads, recovers and replays like
/// spawn_state_store, then spawns the state actor driving `helpers`.
caf::expected<state_store_actor> spawn_state_store(caf::actor_system& sys,
                                                   state_store_options opts,
                                                   state_store_helpers helpers);

/// File name of the state file inside the data dir.
inline constexpr const char* state_file_name = "apps_status.json";

} // namespace epmpulse

// Messages of this in-process service only: they are never serialised (no
// actor runs in another process), so they need no inspect().
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<epmpulse::status_update>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::apply_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::state_health)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::status_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::change_set)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::expectation_marks)
