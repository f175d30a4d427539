#include "actors/state/log_writer.hpp"

#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/errors.hpp"
#include "actors/state/log_file.hpp"
#include "actors/state/state_log.hpp"

namespace fs = std::filesystem;

namespace epmpulse {

namespace {

struct log_writer_state {
  static inline constexpr const char* name = "log_writer";
  std::unique_ptr<log_file> log; ///< open between rotations
  std::string previous_path;
};

log_writer_actor::behavior_type
log_writer(log_writer_actor::stateful_pointer<log_writer_state> self, std::string data_dir) {
  self->state.log = std::make_unique<log_file>((fs::path(data_dir) / log_file_name).string());
  self->state.previous_path = (fs::path(data_dir) / previous_log_file_name).string();
  return {
    [self](append_atom, const log_bytes& bytes) -> caf::result<bool> {
      if (auto failure = self->state.log->append(*bytes))
        return caf::make_error(ec::state_error, *failure);
      return true;
    },
    [self](rotate_atom) -> caf::result<bool> {
      auto& st = self->state;
      std::error_code err;
      if (fs::exists(st.previous_path, err))
        return false;
      const auto& log_path = st.log->path();
      if (!st.log->is_open() && !fs::exists(log_path, err))
        return true; // nothing logged since the last snapshot
      st.log->close();
      if (auto failure = rename_durably(log_path, st.previous_path))
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
