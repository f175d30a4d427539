#include "tests/fakes/fake_state_feed.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace epmpulse::test {

namespace {

canvas_state_feed::behavior_type fake_state_feed(canvas_state_feed::pointer self,
                                                 std::shared_ptr<state_feed_script> script) {
  return {
    [self, script](snapshot_atom) -> caf::result<snapshot_ptr> {
      if (!script->answering)
        return self->make_response_promise<snapshot_ptr>(); // never delivered
      return script->snapshot;
    },
    [script](subscribe_atom, const change_listener_actor& who) {
      script->subscribers.push_back(who);
    },
  };
}

} // namespace

canvas_state_feed spawn_fake_state_feed(caf::actor_system& sys,
                                        std::shared_ptr<state_feed_script> script) {
  return sys.spawn(fake_state_feed, std::move(script));
}

domain_change set_domain(status_snapshot& snap, const std::string& app, const std::string& domain,
                         job_status status, const std::string& job, time_point t,
                         std::optional<std::string> message) {
  auto& d = snap.apps[app].domains[domain];
  auto before = d;
  d.status = status;
  d.job_id = job;
  d.message = std::move(message);
  d.updated = t;
  if (status == job_status::loading)
    d.started = t;
  else
    d.duration_sec = 300;
  snap.last_updated = t;
  return domain_change{app, domain, before, d};
}

void record_recent_job(status_snapshot& snap, const std::string& job,
                       const std::vector<std::string>& apps, job_status status, time_point t) {
  auto it = std::find_if(snap.recent_jobs.begin(), snap.recent_jobs.end(),
                         [&](const recent_job& j) { return j.job_id == job; });
  if (it == snap.recent_jobs.end()) {
    recent_job j;
    j.job_id = job;
    j.apps = apps;
    j.started = t;
    snap.recent_jobs.push_front(j);
    it = snap.recent_jobs.begin();
  }
  it->status = status;
  if (status != job_status::loading)
    it->completed = t;
}

} // namespace epmpulse::test
