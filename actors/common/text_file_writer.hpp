#pragma once

// A detached actor that keeps one small file durably replaced (temp file,
// fsync, rename, fsync of the directory): the blocking write runs here, off
// the shared workers. One writer per file applies writes in the order they
// were sent, so the newest content is the one that stays.

#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"

namespace epmpulse {

/// The protocol: replace the file with `text` (mode 0600); answers true once
/// it is durable, false when it could not be written (logged with `what`).
using text_file_writer_actor =
  caf::typed_actor<caf::replies_to<write_atom, std::string>::with<bool>>;

/// The behaviour for the file at `path`; `what` names the file in logs.
text_file_writer_actor::behavior_type text_file_writer(text_file_writer_actor::pointer self,
                                                       std::string path, std::string what);

/// Spawns the writer for `path` on a thread of its own.
text_file_writer_actor spawn_text_file_writer(caf::actor_system& sys, std::string path,
                                              std::string what);

} // namespace epmpulse
