#include "actors/log_writer.hpp"

#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/durable_file.hpp"
#include "actors/errors.hpp"
#include "actors/state_log.hpp"

namespace fs = std::filesystem;

namespace epmpulse {

namespace {

struct log_writer_state {
  static inline constexpr const char* name = "log_writer";
  std::string log_path;
  std::string previous_path;
};

log_writer_actor::behavior_type
log_writer(log_writer_actor::stateful_pointer<log_writer_state> self, std::string data_dir) {
  self->state.log_path = (fs::path(data_dir) / log_file_name).string();
  self->state.previous_path = (fs::path(data_dir) / previous_log_file_name).string();
  return {
    [self](append_atom, const log_bytes& bytes) -> caf::result<bool> {
      if (auto failure = append_durably(self->state.log_path, *bytes))
        return caf::make_error(ec::state_error, *failure);
      return true;
    },
    [self](rotate_atom) -> caf::result<bool> {
      const auto& st = self->state;
      std::error_code err;
      if (fs::exists(st.previous_path, err))
        return false;
      if (!fs::exists(st.log_path, err))
        return true; // nothing logged since the last snapshot
      if (auto failure = rename_durably(st.log_path, st.previous_path))
        return caf::make_error(ec::state_error, *failure);
      return true;
    },
    [self](drop_atom) -> caf::result<bool> {
      if (auto failure = remove_durably(self->state.previous_path))
        return caf::make_error(ec::state_error, *failure);
      return true;
    },
  };
}

} // namespace

log_writer_actor spawn_log_writer(caf::actor_system& sys, const std::string& data_dir) {
  return sys.spawn<caf::detached>(log_writer, data_dir);
}

} // namespace epmpulse
