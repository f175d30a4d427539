#pragma once

// The leader store (PostgreSQL storage): a detached actor with one database
// session of its own that keeps what the elected singletons must carry over
// a takeover — the alert actor's alerts (Slack threads, acknowledgements,
// reminders, pending deliveries) and the evaluator's consecutive-Warning
// counts as one document each, the ad-hoc maintenance windows, and the
// acknowledgements made on followers until the leader applies them.
//
// Fencing: load (a leader taking over) raises the document's epoch and
// remembers it; write succeeds only while the row still has that epoch, so
// a deposed leader's late write changes nothing (false) once another
// instance has loaded. Every call may wait on the network: only this
// detached actor holds the session.

#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/pg_connection.hpp"
#include "actors/expectations/expectation_model.hpp"

namespace epmpulse {

using maintenance_windows = std::vector<maintenance_window>;

using leader_store_actor = caf::typed_actor<
  /// Takes the document over (raises its epoch) and answers it; "" when none
  /// was written yet. ec::database_unavailable when unreachable.
  caf::replies_to<load_atom, std::string>::with<std::string>,
  /// Reads the document without taking it over (followers' GET /alerts).
  caf::replies_to<get_atom, std::string>::with<std::string>,
  /// Replaces the document; false when another instance took it over since
  /// this one loaded it (or never loaded), or the database failed.
  caf::replies_to<write_atom, std::string, std::string>::with<bool>,
  /// Stores an ad-hoc window; answers it with its id ("m-<n>").
  caf::replies_to<maintenance_atom, maintenance_window>::with<maintenance_window>,
  /// The windows not yet ended (ended ones are deleted).
  caf::replies_to<maintenance_atom>::with<maintenance_windows>,
  /// Stores an acknowledgement for the leader to apply.
  caf::replies_to<ack_atom, std::string>::with<bool>,
  /// Takes (and deletes) the stored acknowledgements.
  caf::replies_to<ack_atom>::with<std::vector<std::string>>>;

leader_store_actor spawn_leader_store(caf::actor_system& sys, pg_target target);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::maintenance_window)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::maintenance_windows)
