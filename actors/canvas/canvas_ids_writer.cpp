#include "actors/canvas/canvas_ids_writer.hpp"

#include <caf/actor_system.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"

namespace epmpulse {

canvas_ids_writer_actor::behavior_type canvas_ids_writer(canvas_ids_writer_actor::pointer,
                                                         std::string path) {
  return {
    [path](write_atom, const std::string& text) {
      if (auto err = write_file_atomically(path, text, 0600))
        log::error("canvas: cannot keep created canvas ids", {{"path", path}, {"error", *err}});
    },
  };
}

canvas_ids_writer_actor spawn_canvas_ids_writer(caf::actor_system& sys, std::string path) {
  return sys.spawn<caf::detached>(canvas_ids_writer, std::move(path));
}

} // namespace epmpulse
