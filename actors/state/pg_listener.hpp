#pragma once

// The change listener: a detached actor holding one PostgreSQL session that
// LISTENs on the commit function's channel. Each notification carries the
// newest change id; the listener reads every change above the last id it
// passed on, in id order, and hands them to the state actor, which merges
// those it does not hold yet. On every (re)connection it catches up the
// same way, so a dropped connection or a lost notification costs only time.

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/pg_connection.hpp"
#include "actors/state/pg_store.hpp"

namespace epmpulse {

using remote_change_set = std::shared_ptr<const std::vector<stored_change>>;

/// What receives the changes (the state actor).
using remote_change_sink = caf::typed_actor<caf::reacts_to<remote_atom, remote_change_set>>;

/// The protocol: its own wake-ups only.
using pg_listener_actor = caf::typed_actor<caf::reacts_to<listen_due_atom>>;

struct pg_listener_options {
  pg_target target;
  std::uint64_t after = 0; ///< the highest change id the state holds
  remote_change_sink sink;
};

pg_listener_actor spawn_pg_listener(caf::actor_system& sys, pg_listener_options opts);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::remote_change_set)
