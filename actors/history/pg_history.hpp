#pragma once

// The history in PostgreSQL mode: a detached actor serving the history
// protocol (history_store_actor) from the cluster's complete record, the
// epm_status_audit table, over its own libpq session. Every instance's
// /history, /stats and live-stream resume read the same rows with the same
// ids, including changes that lost an event-time race on this instance.
//
// The audit rows are written by the commit function (pg_writer), so the
// change sets the state sends here are not stored again. Alert events go
// into epm_alert_events. Retention deletes rows by age and size on the
// leader only (the elector tells this actor its role), so instances never
// prune the shared tables at once. A query while the database cannot be
// reached is answered ec::unavailable; the session reconnects on the next.

#include <cstdint>
#include <string>

#include <caf/fwd.hpp>

#include "actors/common/pg_connection.hpp"
#include "actors/history/history_store.hpp"

namespace epmpulse {

struct pg_history_options {
  pg_target target;
  int retention_days = 90;
  std::uint64_t max_bytes = 0; ///< 0: no size bound (rows' data, indexes excluded)
};

history_store_actor spawn_pg_history(caf::actor_system& sys, pg_history_options opts);

} // namespace epmpulse
