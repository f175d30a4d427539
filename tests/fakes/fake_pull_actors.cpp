#include "tests/fakes/fake_pull_actors.hpp"

#include <caf/all.hpp>

namespace epmpulse::test {

namespace {

/// Requests a silent fake leaves unanswered; kept so they stay pending.
struct unanswered_requests {
  std::vector<caf::response_promise> promises;
};

// -- the state actor ------------------------------------------------------------------

struct fake_state_state {
  static inline constexpr const char* name = "fake_state";
  std::shared_ptr<fake_state_log> log;
};

using fake_state_ptr = pull_state_actor::stateful_pointer<fake_state_state>;

pull_state_actor::behavior_type fake_state(fake_state_ptr self,
                                           std::shared_ptr<fake_state_log> log) {
  self->state.log = std::move(log);
  return {
    [self](apply_atom, const std::vector<status_update>& updates, apply_callback& answer) {
      auto& log = *self->state.log;
      log.applies.push_back(updates);
      apply_reply reply;
      reply.updates = updates;
      if (log.failing_applies > 0) {
        --log.failing_applies;
        reply.error = ec::state_error;
      } else {
        reply.outcomes.resize(updates.size());
        reply.changed = !updates.empty();
      }
      if (log.holding)
        log.held.push_back([answer, reply] { answer(reply); });
      else
        answer(std::move(reply));
    },
    [self](snapshot_atom) -> caf::result<snapshot_ptr> {
      auto& log = *self->state.log;
      ++log.snapshot_requests;
      if (log.failing_snapshots > 0) {
        --log.failing_snapshots;
        return caf::make_error(ec::state_error, std::string{"state not loaded yet"});
      }
      return log.snapshot;
    },
    [self](subscribe_atom, const change_listener_actor& listener) {
      self->state.log->subscribers.push_back(listener);
    },
  };
}

// -- the token actor ------------------------------------------------------------------

struct fake_token_state : unanswered_requests {
  static inline constexpr const char* name = "fake_token_actor";
  std::shared_ptr<fake_token_log> log;
};

using fake_token_ptr = token_cache_actor::stateful_pointer<fake_token_state>;

caf::result<access_token> current_token(fake_token_log& log) {
  if (!log.failing.empty())
    return caf::make_error(ec::epm_auth_error, "EPM token unavailable: " + log.failing);
  ++log.served;
  return access_token{log.header(), log.generation};
}

token_cache_actor::behavior_type fake_token_actor(fake_token_ptr self,
                                                  std::shared_ptr<fake_token_log> log) {
  self->state.log = std::move(log);
  return {
    [self](token_atom) { return current_token(*self->state.log); },
    [self](invalid_atom, std::uint64_t generation) {
      auto& log = *self->state.log;
      log.invalidated.push_back(generation);
      if (generation >= log.generation)
        ++log.generation;
      return current_token(log);
    },
    [self](health_atom) -> caf::result<token_health> {
      if (self->state.log->silent) {
        auto rp = self->make_response_promise<token_health>();
        self->state.promises.push_back(rp);
        return rp;
      }
      return self->state.log->health;
    },
    [](refresh_due_atom, std::uint64_t) {},
  };
}

// -- a poller ---------------------------------------------------------------------------

struct fake_poller_state : unanswered_requests {
  static inline constexpr const char* name = "fake_poller";
  std::shared_ptr<fake_poller_log> log;
};

using fake_poller_ptr = poller_actor::stateful_pointer<fake_poller_state>;

poller_actor::behavior_type fake_poller(fake_poller_ptr self,
                                        std::shared_ptr<fake_poller_log> log) {
  self->state.log = std::move(log);
  return {
    [self](watch_atom, const watch_request& w) { self->state.log->watched.push_back(w); },
    [self](unwatch_atom, const std::string& app, const std::string& domain) {
      self->state.log->unwatched.emplace_back(app, domain);
    },
    [self](health_atom) -> caf::result<poller_health> {
      if (self->state.log->silent) {
        auto rp = self->make_response_promise<poller_health>();
        self->state.promises.push_back(rp);
        return rp;
      }
      return self->state.log->health;
    },
    [](apply_atom, const std::string&, std::uint64_t, bool) {},
    [](poll_due_atom, std::uint64_t) {},
  };
}

} // namespace

std::vector<status_update> fake_state_log::updates() const {
  std::vector<status_update> out;
  for (const auto& apply : applies)
    out.insert(out.end(), apply.begin(), apply.end());
  return out;
}

void fake_state_log::release_held() {
  auto answers = std::move(held);
  held.clear();
  for (auto& answer : answers)
    answer();
}

pull_state_actor spawn_fake_state(caf::actor_system& sys, std::shared_ptr<fake_state_log> log) {
  return sys.spawn(fake_state, std::move(log));
}

token_cache_actor spawn_fake_token_actor(caf::actor_system& sys,
                                         std::shared_ptr<fake_token_log> log) {
  return sys.spawn(fake_token_actor, std::move(log));
}

poller_actor spawn_fake_poller(caf::actor_system& sys, std::shared_ptr<fake_poller_log> log) {
  return sys.spawn(fake_poller, std::move(log));
}

} // namespace epmpulse::test
