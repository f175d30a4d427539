#pragma once

// The history actor: a detached actor owning the history database
// (history_db) in the data dir. The state actor feeds it every change set
// after the change log made it durable, and asks it to sync before it drops
// a change log (so the log is the durable source until the history holds
// its changes; start-up hands over whatever a crash left behind). Writes are
// off the push path: change sets that arrive together go into one
// transaction, committed once the mailbox holds no more of them.
//
// In PostgreSQL mode the same protocol is served by pg_history (the
// cluster's audit table); the handlers, the event hub and the state do not
// know which backend runs.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/history/alert_history.hpp"
#include "actors/history/history_db.hpp"
#include "actors/state/state_store.hpp"

namespace epmpulse {

/// The protocol; its first two messages are the state's change_archive_actor.
using history_store_actor = caf::typed_actor<
  /// A durable change set from the state actor.
  caf::reacts_to<changed_atom, change_set>,
  /// Commits everything received; answers the highest change id stored, or
  /// ec::state_error when the database cannot be written.
  caf::replies_to<sync_atom>::with<std::uint64_t>,
  /// A page of changes (everything received so far included).
  caf::replies_to<query_atom, history_query>::with<history_page>,
  /// Run statistics per domain.
  caf::replies_to<stats_atom, stats_query>::with<stats_result>,
  /// One alert event from the alert actor, kept durably.
  caf::reacts_to<alert_atom, alert_history_entry>,
  /// A page of alert events, newest first.
  caf::replies_to<alert_atom, alert_history_query>::with<alert_history_page>,
  /// The cluster's election (PostgreSQL mode): the leader alone prunes the
  /// shared history. A backend of one instance ignores it.
  caf::reacts_to<leader_atom, bool>,
  /// Timers: the commit of what arrived, retention.
  caf::reacts_to<commit_due_atom>, caf::reacts_to<prune_due_atom>>;

/// Where the history lives and how long it keeps changes.
struct history_options {
  std::string data_dir;
  int retention_days = 90;
  std::uint64_t max_bytes = 0; ///< 0: no size bound
};

/// The SQLite backend. Opens (or creates) <data_dir>/history.sqlite3 and spawns the actor;
/// an error naming the file when it cannot be opened.
caf::expected<history_store_actor> spawn_history_store(caf::actor_system& sys,
                                                       history_options opts);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::history_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::history_page)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::stats_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::stats_result)
