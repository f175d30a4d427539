#pragma once

// The leader election (PostgreSQL storage): a detached actor holding one
// dedicated database session. The instance whose session holds the session
// advisory lock leads: it alone runs the canvas writer (and, through it,
// Slack edits), the pollers and the evaluators; the others follow and serve
// reads and pushes. When the leader dies its session ends, the lock is
// free, and the next follower to try (every second) takes over.
//
// The session is checked every second with a query that must answer within
// check_timeout; a leader that misses one steps down at once, before the
// server can end its session (server-side keepalives on this session give
// up only after ~10 s), so two leaders never overlap (docs/database.md).
// The same checks are the health's database check.

#include <cstdint>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/pg_connection.hpp"

namespace epmpulse {

/// The cluster side of GET /health.
struct cluster_health {
  bool leader = false;
  bool database_ok = false;
  std::string database_error;
  std::uint64_t elections_won = 0;

  nlohmann::json checks() const;
  bool degraded() const { return !database_ok; }
};

/// What hears of role changes (the canvas actor, the EPM router).
using leadership_listener = caf::typed_actor<caf::reacts_to<leader_atom, bool>>;

using leader_elector_actor = caf::typed_actor<
  caf::replies_to<health_atom>::with<cluster_health>,
  /// The subscriber hears its current role at once, then every change.
  caf::reacts_to<subscribe_atom, leadership_listener>,
  caf::reacts_to<elect_due_atom>>;

leader_elector_actor spawn_leader_elector(caf::actor_system& sys, pg_target target);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::cluster_health)
