#pragma once

// The snapshot writer: a detached actor that writes the JSON state file (and
// its backups) for the state actor, which alone drives it. Serialising a large
// state and fsyncing a whole-file rewrite take long (hundreds of ms for 10,000
// domains here), so both happen here, off the state actor and the shared
// workers, while acknowledged changes are already safe in the change log.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/shared_bytes.hpp"
#include "actors/state/status_model.hpp"

namespace epmpulse {

using state_bytes = shared_bytes;
using snapshot_ptr = std::shared_ptr<const status_snapshot>;

/// The protocol.
using state_writer_actor = caf::typed_actor<
  /// Atomically replaces the state file with the snapshot taken at log
  /// position `seq` (temp file, fsync, rename, fsync dir); answers the bytes
  /// written once durable, an ec::state_error (with the reason) otherwise.
  caf::replies_to<write_atom, snapshot_ptr, std::uint64_t>::with<state_bytes>,
  /// Copies the bytes into backups/ under a timestamped name and prunes to
  /// `max_backups`; answers the backup's path.
  caf::replies_to<backup_atom, state_bytes, std::int32_t>::with<std::string>>;

/// Spawns the writer for `state_file` (backups go to <dir of state_file>/backups).
state_writer_actor spawn_state_writer(caf::actor_system& sys, std::string state_file);

/// Backup files of `data_dir`, newest first.
std::vector<std::string> list_backups(const std::string& data_dir);

} // namespace epmpulse

// In-process only: an immutable snapshot shared with the writer, never
// serialised (no actor of this service runs in another process).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::snapshot_ptr)
