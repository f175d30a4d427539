#include "tests/fakes/fake_pull_actors.hpp"

#include <caf/all.hpp>

namespace epmpulse::test {

namespace {

/// Requests a silent fake leaves unanswered; kept so they stay pending.
struct unanswered_requests {
  std::vector<caf::response_promise> promises;
};

// -- the state actor ------------------------------------------------------------------

// The state's protocol plus the test's word to answer the held applies
// (deliver_atom: the same meaning as the body compressor's).
using fake_state_actor = pull_state_actor::extend<caf::reacts_to<deliver_atom>>;

struct fake_state_state {
  static inline constexpr const char* name = "fake_state";
  std::shared_ptr<fake_state_log> log;
};

using fake_state_ptr = fake_state_actor::stateful_pointer<fake_state_state>;

fake_state_actor::behavior_type fake_state(fake_state_ptr self,
                                           std::shared_ptr<fake_state_log> log) {
  self->state.log = std::move(log);
  return {
    [self](deliver_atom) {
      auto& log = *self->state.log;
      auto answers = std::move(log.held);
      log.held.clear();
      for (auto& answer : answers)
        answer();
    },
    [self](apply_atom, const std::vector<status_update>& updates) -> caf::result<apply_result> {
      auto& log = *self->state.log;
      log.applies.push_back(updates);
      if (log.failing_applies > 0) {
        --log.failing_applies;
        return caf::make_error(ec::state_error, std::string{"cannot append to the change log"});
      }
      apply_result result;
      result.updates = updates;
      result.outcomes.resize(updates.size());
      result.changed = !updates.empty();
      if (!log.holding)
        return result;
      auto promise = self->make_response_promise<apply_result>();
      log.held.push_back([promise, result]() mutable { promise.deliver(std::move(result)); });
      return promise;
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
    [](keepalive_due_atom, std::uint64_t) {},
    [](save_retry_atom, std::uint64_t) {},
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

pull_state_actor spawn_fake_state(caf::actor_system& sys, std::shared_ptr<fake_state_log> log) {
  return sys.spawn(fake_state, std::move(log));
}

void release_held_applies(const pull_state_actor& fake_state) {
  caf::anon_send(caf::actor_cast<fake_state_actor>(fake_state), deliver_atom_v);
}

token_cache_actor spawn_fake_token_actor(caf::actor_system& sys,
                                         std::shared_ptr<fake_token_log> log) {
  return sys.spawn(fake_token_actor, std::move(log));
}

poller_actor spawn_fake_poller(caf::actor_system& sys, std::shared_ptr<fake_poller_log> log) {
  return sys.spawn(fake_poller, std::move(log));
}

} // namespace epmpulse::test
