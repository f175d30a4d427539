#pragma once

// The log writer: a detached actor that owns the change log files for the
// state actor, which alone drives it. Appends block on fdatasync, so they run
// here, off the shared workers; while one is in flight the state actor keeps
// merging updates, which then go out together in the next append (group
// commit). The file is written in place over zero-filled space
// (actors/log_file.hpp); see actors/state_log.hpp for the record format.

#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/shared_bytes.hpp"

namespace epmpulse {

using log_bytes = shared_bytes;

/// The protocol. Failures are ec::state_error errors carrying the reason.
using log_writer_actor = caf::typed_actor<
  /// Appends whole records to the log and fdatasyncs; true once durable.
  caf::replies_to<append_atom, log_bytes>::with<bool>,
  /// Moves the log aside (to the previous-log name) before a snapshot, so the
  /// records the snapshot will contain can be dropped once it is durable.
  /// False when an older log is still aside (a snapshot failed): then the
  /// log stays in place and both are kept until a snapshot succeeds.
  caf::replies_to<rotate_atom>::with<bool>,
  /// Deletes the log moved aside: its records are all in a durable snapshot.
  caf::replies_to<drop_atom>::with<bool>>;

/// Spawns the writer for the logs in `data_dir`.
log_writer_actor spawn_log_writer(caf::actor_system& sys, const std::string& data_dir);

} // namespace epmpulse
