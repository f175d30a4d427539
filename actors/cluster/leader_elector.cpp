#include "actors/cluster/leader_elector.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/log.hpp"

namespace epmpulse {

namespace {

using std::chrono::milliseconds;

constexpr auto tick = milliseconds{1000};
constexpr auto check_timeout = milliseconds{1500};
constexpr auto max_backoff = milliseconds{5000};
// The lock key: (4242, 0) guards migrations, (4242, 1) each commit.
constexpr const char* try_lock = "SELECT pg_try_advisory_lock(4242, 2)";

struct elector_state {
  static inline constexpr const char* name = "leader_elector";
  std::unique_ptr<pg_connection> conn;
  cluster_health health;
  std::vector<leadership_listener> listeners;
  milliseconds backoff{0};
};

using elector_ptr = leader_elector_actor::stateful_pointer<elector_state>;

void announce(elector_ptr self) {
  for (auto& l : self->state.listeners)
    self->send(l, leader_atom_v, self->state.health.leader);
}

void lost_database(elector_ptr self, std::string why) {
  auto& st = self->state;
  st.conn->close();
  bool was_ok = st.health.database_ok;
  st.health.database_ok = false;
  st.health.database_error = why;
  if (st.health.leader) {
    st.health.leader = false;
    log::warn("leader stepped down: the database session is lost", {{"reason", why}});
    announce(self);
  } else if (was_ok) {
    log::warn("database session lost", {{"reason", why}});
  }
  st.backoff = std::clamp(st.backoff * 2, tick, max_backoff);
}

void elect(elector_ptr self) {
  auto& st = self->state;
  if (!st.conn->usable()) {
    auto failure = st.conn->connect();
    if (failure.empty()) {
      // This session's end frees the lock: the server gives up on a silent
      // peer after ~10 s (5 s idle, then 5 probes a second apart), well after
      // the leader has missed its own check and stepped down.
      auto set = st.conn->exec_within("SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval "
                                      "= 1; SET tcp_keepalives_count = 5",
                                      check_timeout);
      if (!set.ok())
        failure = set.error();
    }
    if (!failure.empty()) {
      lost_database(self, failure);
      return;
    }
    st.backoff = milliseconds{0};
  }
  auto r = st.conn->exec_within(st.health.leader ? "SELECT true" : try_lock, check_timeout);
  if (!r.ok() || r.rows() != 1) {
    lost_database(self, r.ok() ? "no answer" : r.error());
    return;
  }
  if (!st.health.database_ok)
    log::info("database session established");
  st.health.database_ok = true;
  st.health.database_error.clear();
  if (!st.health.leader && r.text(0, 0) == "t") {
    st.health.leader = true;
    ++st.health.elections_won;
    log::info("this instance leads: canvases, pollers and evaluators run here");
    announce(self);
  }
}

leader_elector_actor::behavior_type elector(elector_ptr self, pg_target target) {
  self->state.conn = std::make_unique<pg_connection>(std::move(target));
  self->send(self, elect_due_atom_v);
  return {
    [self](health_atom) { return self->state.health; },
    [self](subscribe_atom, leadership_listener& l) {
      self->send(l, leader_atom_v, self->state.health.leader);
      self->state.listeners.push_back(std::move(l));
    },
    [self](elect_due_atom) {
      elect(self);
      self->delayed_send(self, std::max(tick, self->state.backoff), elect_due_atom_v);
    },
  };
}

} // namespace

nlohmann::json cluster_health::checks() const {
  return {{"database", database_ok ? std::string{"ok"} : "error: " + database_error},
          {"role", leader ? "leader" : "follower"}};
}

leader_elector_actor spawn_leader_elector(caf::actor_system& sys, pg_target target) {
  return sys.spawn<caf::detached>(elector, std::move(target));
}

} // namespace epmpulse
