#pragma once

// The canvas ids writer: a detached actor that keeps the ids of the canvases
// the canvas actor created in <data_dir>/canvases.json, so a restart edits
// them instead of creating new ones. A durable replace (temp file, fsync,
// rename, fsync of the directory) blocks, so it runs here, off the shared
// workers; one writer per file applies the writes in the order they were
// sent, so the newest list is the one that stays.

#include <string>

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"

namespace epmpulse {

/// The protocol.
using canvas_ids_writer_actor = caf::typed_actor<
  /// Replaces the file with `text` (mode 0600). A failure is logged and
  /// nothing else: the canvas actor still has the ids in memory.
  caf::reacts_to<write_atom, std::string>>;

/// The behaviour for the file at `path`: spawn_canvas_ids_writer runs it
/// detached; tests on the simulated system spawn it as it is.
canvas_ids_writer_actor::behavior_type canvas_ids_writer(canvas_ids_writer_actor::pointer self,
                                                         std::string path);

/// Spawns the writer for `path` on a thread of its own.
canvas_ids_writer_actor spawn_canvas_ids_writer(caf::actor_system& sys, std::string path);

} // namespace epmpulse
