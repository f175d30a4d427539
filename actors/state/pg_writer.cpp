#include "actors/state/pg_writer.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/errors.hpp"
#include "actors/common/log.hpp"

namespace epmpulse {

namespace {

using clock = std::chrono::steady_clock;

struct pooled {
  std::unique_ptr<pg_connection> conn;
  clock::time_point next_attempt{}; ///< no reconnect before (backoff)
  std::chrono::milliseconds backoff{0};
};

struct pg_writer_state {
  static inline constexpr const char* name = "pg_writer";
  pg_writer_options opts;
  std::vector<pooled> pool;
  bool down_logged = false; ///< this outage is logged; its end is logged at the next commit
};

// One line when commits start failing, one when they succeed again: the
// state actor leaves the outage's logging to this actor in PostgreSQL mode.
void log_down(pg_writer_state& st, const char* what, const std::string& reason) {
  if (st.down_logged)
    return;
  st.down_logged = true;
  log::error(what, {{"reason", reason}});
}

// A usable connection, reconnecting those whose backoff is over; null when
// none can be had now.
pg_connection* usable_connection(pg_writer_state& st) {
  for (auto& p : st.pool)
    if (p.conn->usable())
      return p.conn.get();
  auto now = clock::now();
  for (auto& p : st.pool) {
    if (now < p.next_attempt)
      continue;
    auto failure = p.conn->connect();
    if (failure.empty()) {
      p.backoff = std::chrono::milliseconds{0};
      return p.conn.get();
    }
    p.backoff = std::clamp(p.backoff * 2, std::chrono::milliseconds{250}, st.opts.max_backoff);
    p.next_attempt = now + p.backoff;
    log_down(st, "database unreachable: pushes answer 503 until it is back", failure);
    return nullptr;
  }
  return nullptr;
}

pg_writer_actor::behavior_type writer(pg_writer_actor::stateful_pointer<pg_writer_state> self,
                                      pg_writer_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  for (int i = 0; i < std::max(1, st.opts.pool); ++i)
    st.pool.push_back({std::make_unique<pg_connection>(st.opts.target), {}, {}});
  return {
    [self](commit_atom, const commit_batch_ptr& batch) -> caf::result<commit_receipt> {
      auto& st = self->state;
      auto* conn = usable_connection(st);
      if (conn == nullptr)
        return caf::make_error(ec::database_unavailable, "the database is unreachable");
      commit_receipt receipt;
      auto failure = commit_changes(*conn, *batch, receipt);
      if (failure.empty()) {
        if (st.down_logged)
          log::info("database commits succeed again");
        st.down_logged = false;
        return receipt;
      }
      // A broken connection shows here first: the next call reconnects.
      if (!conn->usable())
        conn->close();
      log_down(st, "database commit failed: pushes answer 503 until it is back", failure);
      return caf::make_error(ec::database_unavailable, "database commit failed: " + failure);
    },
  };
}

} // namespace

pg_writer_actor spawn_pg_writer(caf::actor_system& sys, pg_writer_options opts) {
  return sys.spawn<caf::detached>(writer, std::move(opts));
}

} // namespace epmpulse
