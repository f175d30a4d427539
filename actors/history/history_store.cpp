#include "actors/history/history_store.hpp"

#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/errors.hpp"
#include "actors/common/log.hpp"
#include "actors/state/data_dir.hpp"

namespace fs = std::filesystem;

namespace epmpulse {

namespace {

constexpr auto commit_retry_delay = std::chrono::seconds(1);
constexpr auto prune_interval = std::chrono::minutes(10);

struct history_store_state {
  static inline constexpr const char* name = "history_store";

  std::shared_ptr<history_db> db;
  history_options opts;
  /// Change sets not yet committed: inserted again after a failed commit
  /// (the insert skips ids already stored).
  std::vector<change_set> unstored;
  bool commit_scheduled = false;
  bool retry_scheduled = false;
  std::string failure; ///< the last write error while the database fails
};

using history_ptr = history_store_actor::stateful_pointer<history_store_state>;

// Writes and commits every change set received; the error text on failure.
// Opens the database when start-up could not; the error text while it fails.
std::optional<std::string> ensure_open(history_ptr self) {
  auto& st = self->state;
  if (st.db)
    return std::nullopt;
  std::string error;
  auto db = history_db::open((fs::path(st.opts.data_dir) / history_file_name).string(), error);
  if (!db)
    return error;
  st.db = std::move(db);
  log::info("history opened", {{"highest_id", st.db->highest_id()}});
  return std::nullopt;
}

std::optional<std::string> store_received(history_ptr self) {
  auto& st = self->state;
  if (auto failure = ensure_open(self)) {
    if (!st.unstored.empty() && !st.retry_scheduled) {
      st.retry_scheduled = true;
      self->delayed_send(self, commit_retry_delay, commit_due_atom_v);
    }
    return failure;
  }
  if (st.unstored.empty())
    return std::nullopt;
  std::optional<std::string> failure;
  for (const auto& set : st.unstored)
    if ((failure = st.db->insert(*set)))
      break;
  if (!failure)
    failure = st.db->commit();
  else
    st.db->commit(); // ends the transaction; what went in is skipped next time
  if (failure) {
    if (st.failure.empty())
      log::error("history not written: the change log keeps the changes until it is",
                 {{"reason", *failure}});
    st.failure = *failure;
    if (!st.retry_scheduled) {
      st.retry_scheduled = true;
      self->delayed_send(self, commit_retry_delay, commit_due_atom_v);
    }
    return failure;
  }
  if (!st.failure.empty())
    log::info("history writable again");
  st.failure.clear();
  st.unstored.clear();
  return std::nullopt;
}

void prune(history_ptr self) {
  auto& st = self->state;
  auto oldest_kept = now_ms() - std::chrono::hours(24) * st.opts.retention_days;
  auto deleted = st.db->prune(oldest_kept, st.opts.max_bytes);
  if (deleted > 0)
    log::info("history pruned", {{"deleted", deleted},
                                 {"retention_days", st.opts.retention_days},
                                 {"max_bytes", st.opts.max_bytes}});
}

history_store_actor::behavior_type history_store(history_ptr self, std::shared_ptr<history_db> db,
                                                 history_options opts) {
  auto& st = self->state;
  st.db = std::move(db);
  st.opts = std::move(opts);
  self->send(self, prune_due_atom_v);
  return {
    [self](changed_atom, const change_set& changes) {
      auto& st = self->state;
      st.unstored.push_back(changes);
      // Sent to the back of the mailbox: change sets already waiting there
      // go into the same commit.
      if (!st.commit_scheduled) {
        st.commit_scheduled = true;
        self->send(self, commit_due_atom_v);
      }
    },
    [self](sync_atom) -> caf::result<std::uint64_t> {
      if (auto failure = store_received(self))
        return caf::make_error(ec::state_error, "history not written: " + *failure);
      // The state drops a change log after this answer: what the log held
      // must survive a power loss here first.
      if (auto failure = self->state.db->make_durable())
        return caf::make_error(ec::state_error, "history not written: " + *failure);
      return self->state.db->highest_id();
    },
    [self](query_atom, const history_query& q) -> caf::result<history_page> {
      // A client that pushed and then reads sees its change: the state sent
      // it here before it answered the push.
      store_received(self);
      if (!self->state.db)
        return caf::make_error(ec::unavailable, "The history cannot be opened; retry later.");
      return self->state.db->query(q);
    },
    [self](stats_atom, const stats_query& q) -> caf::result<stats_result> {
      store_received(self);
      if (!self->state.db)
        return caf::make_error(ec::unavailable, "The history cannot be opened; retry later.");
      return self->state.db->stats(q);
    },
    [self](commit_due_atom) {
      auto& st = self->state;
      st.commit_scheduled = false;
      st.retry_scheduled = false;
      store_received(self);
    },
    [self](prune_due_atom) {
      self->delayed_send(self, prune_interval, prune_due_atom_v);
      store_received(self);
      if (self->state.db)
        prune(self);
    },
  };
}

} // namespace

caf::expected<history_store_actor> spawn_history_store(caf::actor_system& sys,
                                                       history_options opts) {
  std::string error;
  // The history opens before the state, which checks an existing data dir
  // (and warns about its mode); a missing one is created here, 0700.
  std::error_code exists_error;
  if (!fs::is_directory(opts.data_dir, exists_error))
    if (auto failure = prepare_private_dir(opts.data_dir))
      return caf::make_error(ec::state_error, *failure);
  auto path = (fs::path(opts.data_dir) / history_file_name).string();
  auto db = history_db::open(path, error);
  // A full disk must not keep the service from starting: the history opens
  // later, and until it does the state keeps its change logs.
  if (!db)
    log::error("history not opened: retried while changes arrive; the change logs are kept",
               {{"path", path}, {"reason", error}});
  else
    log::info("history opened", {{"path", path}, {"highest_id", db->highest_id()}});
  return sys.spawn<caf::detached>(history_store, std::shared_ptr<history_db>{std::move(db)},
                                  std::move(opts));
}

} // namespace epmpulse
