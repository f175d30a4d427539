#include "actors/common/text_file_writer.hpp"

#include <caf/actor_system.hpp>
#include <caf/spawn_options.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"

namespace epmpulse {

text_file_writer_actor::behavior_type text_file_writer(text_file_writer_actor::pointer,
                                                       std::string path, std::string what) {
  return {
    [path, what](write_atom, const std::string& text) {
      if (auto err = write_file_atomically(path, text, 0600)) {
        log::error("cannot write " + what, {{"path", path}, {"error", *err}});
        return false;
      }
      return true;
    },
  };
}

text_file_writer_actor spawn_text_file_writer(caf::actor_system& sys, std::string path,
                                              std::string what) {
  return sys.spawn<caf::detached>(text_file_writer, std::move(path), std::move(what));
}

} // namespace epmpulse
