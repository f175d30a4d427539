#include "tests/fakes/fake_state_store.hpp"

#include <caf/all.hpp>

#include "tests/support/wait.hpp"

namespace epmpulse::test {

std::vector<status_update> state_recorder::updates() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return updates_;
}

std::size_t state_recorder::applies() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return applies_;
}

bool state_recorder::wait_updates(std::size_t n, std::chrono::milliseconds timeout) const {
  return eventually([&] { return updates().size() >= n; }, timeout);
}

void state_recorder::fail_next_applies(std::size_t n) {
  std::lock_guard<std::mutex> guard(mtx_);
  fail_next_ = n;
}

void state_recorder::set_snapshot(status_snapshot snap) {
  std::lock_guard<std::mutex> guard(mtx_);
  snapshot_ = std::make_shared<const status_snapshot>(std::move(snap));
}

std::vector<caf::actor> state_recorder::subscribers() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return subscribers_;
}

caf::expected<apply_result> state_recorder::record(const std::vector<status_update>& ups) {
  std::lock_guard<std::mutex> guard(mtx_);
  ++applies_;
  apply_result reply;
  if (fail_next_ > 0) {
    --fail_next_;
    return caf::make_error(ec::state_error);
  }
  for (const auto& u : ups) {
    updates_.push_back(u);
    merge_outcome o;
    o.result = merge_outcome::kind::applied;
    reply.outcomes.push_back(o);
  }
  reply.changed = !ups.empty();
  reply.updates = ups;
  return reply;
}

snapshot_ptr state_recorder::snapshot() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return snapshot_;
}

void state_recorder::subscribe(caf::actor a) {
  std::lock_guard<std::mutex> guard(mtx_);
  subscribers_.push_back(std::move(a));
}

namespace {

state_store_actor::behavior_type fake_state_store(state_store_actor::pointer self,
                                                  std::shared_ptr<state_recorder> rec) {
  return {
    [rec](apply_atom, const std::vector<status_update>& ups) -> caf::result<apply_result> {
      return rec->record(ups);
    },
    [](get_atom, const status_query&) -> caf::result<status_representation> {
      return caf::make_error(ec::app_not_found);
    },
    [](health_atom) { return state_health{}; },
    [rec](snapshot_atom) -> snapshot_ptr { return rec->snapshot(); },
    [rec](subscribe_atom, const change_listener_actor& who) { rec->subscribe(caf::actor_cast<caf::actor>(who)); },
    [rec](expectation_atom, expectation_marks& marks) { rec->set_marks(std::move(marks)); },
    [](remote_atom, const remote_change_set&) {},
    [](flush_atom) { return true; },
    [](stale_sweep_atom) {},
    [](backup_due_atom) {},
    [](append_retry_atom) {},
    [](snapshot_due_atom) {},
  };
}

} // namespace

state_store_actor spawn_fake_state_store(caf::actor_system& sys,
                                         std::shared_ptr<state_recorder> rec) {
  return sys.spawn(fake_state_store, std::move(rec));
}

change_set one_change(domain_change c) {
  return std::make_shared<const std::vector<domain_change>>(std::vector<domain_change>{std::move(c)});
}

expectation_marks state_recorder::marks() const {
  std::lock_guard lock{mtx_};
  return marks_;
}

void state_recorder::set_marks(expectation_marks marks) {
  std::lock_guard lock{mtx_};
  marks_ = std::move(marks);
}

} // namespace epmpulse::test
