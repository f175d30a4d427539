#pragma once

// The database writer: a detached actor that commits the state actor's
// groups into PostgreSQL (settings.storage.kind "postgres"), in place of the
// change log. One group is one transaction and one round trip; the state
// actor sends the next only when this one is answered, exactly as it drives
// the log writer. A failed or unreachable database answers
// ec::database_unavailable at once (pushes get 503 with Retry-After); the
// writer reconnects with a backoff up to max_backoff.

#include <chrono>
#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/pg_connection.hpp"
#include "actors/state/pg_store.hpp"

namespace epmpulse {

using commit_batch_ptr = std::shared_ptr<const commit_batch>;

/// The protocol.
using pg_writer_actor = caf::typed_actor<
  /// Commits the batch; answers the change ids once committed, or
  /// ec::database_unavailable (nothing of the batch was written, or the
  /// outcome is unknown: a repeat of it changes nothing).
  caf::replies_to<commit_atom, commit_batch_ptr>::with<commit_receipt>>;

struct pg_writer_options {
  pg_target target;
  int pool = 2; ///< connections kept open; one commits, the others stand by
  std::chrono::milliseconds max_backoff{5000};
};

pg_writer_actor spawn_pg_writer(caf::actor_system& sys, pg_writer_options opts);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::commit_batch_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::commit_receipt)
