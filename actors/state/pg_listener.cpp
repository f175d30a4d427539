#include "actors/state/pg_listener.hpp"

#include <poll.h>

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/log.hpp"

namespace epmpulse {

namespace {

using std::chrono::milliseconds;

// How long one wait for a notification blocks this actor's thread: its
// mailbox (the exit at shutdown) is read between waits.
constexpr int wait_ms = 200;
// A notification only says "there is something": as a safety net the
// listener also reads every few seconds without one.
constexpr auto safety_read = std::chrono::seconds(5);
constexpr int read_batch = 1000;
constexpr milliseconds max_backoff{5000};

struct pg_listener_state {
  static inline constexpr const char* name = "pg_listener";
  std::unique_ptr<pg_connection> conn;
  std::uint64_t after = 0;
  remote_change_sink sink;
  milliseconds backoff{0};
  std::chrono::steady_clock::time_point last_read{};
  bool down_logged = false;
};

using listener_ptr = pg_listener_actor::stateful_pointer<pg_listener_state>;

// Reads and hands on everything above `after`; false when the session broke.
bool catch_up(listener_ptr self) {
  auto& st = self->state;
  st.last_read = std::chrono::steady_clock::now();
  for (;;) {
    std::string error;
    auto changes = read_changes_after(*st.conn, st.after, read_batch, error);
    if (!changes) {
      log::warn("reading other instances' changes failed", {{"reason", error}});
      return false;
    }
    if (changes->empty())
      return true;
    st.after = changes->back().id;
    auto full = changes->size() == static_cast<std::size_t>(read_batch);
    self->send(st.sink, remote_atom_v,
               std::make_shared<const std::vector<stored_change>>(std::move(*changes)));
    if (!full)
      return true;
  }
}

void reconnect(listener_ptr self) {
  auto& st = self->state;
  auto failure = st.conn->connect();
  if (failure.empty()) {
    if (auto r = st.conn->exec(std::string{"LISTEN "} + change_channel); !r.ok())
      failure = r.error();
  }
  if (!failure.empty() || !catch_up(self)) {
    st.conn->close();
    st.backoff = std::clamp(st.backoff * 2, milliseconds{250}, max_backoff);
    if (!st.down_logged)
      log::warn("change listener disconnected: reconnecting",
                {{"reason", failure.empty() ? std::string{"read failed"} : failure}});
    st.down_logged = true;
    self->delayed_send(self, st.backoff, listen_due_atom_v);
    return;
  }
  if (st.down_logged)
    log::info("change listener connected again: caught up", {{"after", st.after}});
  st.down_logged = false;
  st.backoff = milliseconds{0};
  self->send(self, listen_due_atom_v);
}

pg_listener_actor::behavior_type listener(listener_ptr self, pg_listener_options opts) {
  auto& st = self->state;
  st.conn = std::make_unique<pg_connection>(opts.target);
  st.after = opts.after;
  st.sink = opts.sink;
  self->link_to(st.sink);
  self->send(self, listen_due_atom_v);
  return {
    [self](listen_due_atom) {
      auto& st = self->state;
      if (!st.conn->usable()) {
        reconnect(self);
        return;
      }
      pollfd fd{st.conn->socket(), POLLIN, 0};
      ::poll(&fd, 1, wait_ms);
      bool alive = true;
      auto notes = st.conn->take_notifications(alive);
      bool due = std::chrono::steady_clock::now() - st.last_read > safety_read;
      if (!alive || ((!notes.empty() || due) && !catch_up(self))) {
        st.conn->close();
        reconnect(self);
        return;
      }
      self->send(self, listen_due_atom_v);
    },
  };
}

} // namespace

pg_listener_actor spawn_pg_listener(caf::actor_system& sys, pg_listener_options opts) {
  return sys.spawn<caf::detached>(listener, std::move(opts));
}

} // namespace epmpulse
