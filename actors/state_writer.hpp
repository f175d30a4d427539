#pragma once

// The state writer: a detached actor that performs the state file's blocking
// writes (fsync) for the state actor, which alone drives it. Keeping fsync
// off the shared workers lets the state actor keep merging updates while a
// write is in flight; those then go out together in the next write.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"

namespace epmpulse {

using state_bytes = std::shared_ptr<const std::string>;

/// The protocol.
using state_writer_actor = caf::typed_actor<
  /// Atomically replaces the state file with the bytes; true once durable,
  /// an ec::state_error (with the reason) otherwise.
  caf::replies_to<write_atom, state_bytes>::with<bool>,
  /// Copies the bytes into backups/ under a timestamped name and prunes to
  /// `max_backups`; answers the backup's path.
  caf::replies_to<backup_atom, state_bytes, std::int32_t>::with<std::string>>;

/// Spawns the writer for `state_file` (backups go to <dir of state_file>/backups).
state_writer_actor spawn_state_writer(caf::actor_system& sys, std::string state_file);

/// Backup files of `data_dir`, newest first.
std::vector<std::string> list_backups(const std::string& data_dir);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::state_bytes)
