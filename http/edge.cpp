#include "http/edge.hpp"

#include <exception>

#include <caf/actor_system.hpp>

#include "actors/common/log.hpp"

namespace epmpulse::http {

void answer_guarded(responder& out, const std::function<void()>& body) {
  try {
    body();
  } catch (const std::exception& e) {
    log::write(log::level::error, "answering a request failed", out.request_id(),
               {{"reason", e.what()}});
    out.send_error({ec::internal_error, "Internal error; the request ID is in the log.", {}});
  }
}

namespace {

edge_actor::behavior_type edge_behavior(edge_self self) {
  return {
    [self](edge_job& job) {
      // The io thread that posted the job has no answer to wait for: the
      // job's own continuation answers the client. A job that throws before
      // it sent its request leaves its responder to answer 500 when dropped.
      try {
        job.run(self);
      } catch (const std::exception& e) {
        log::error("an HTTP job failed", {{"reason", e.what()}});
      }
    },
  };
}

} // namespace

edge_actor spawn_edge(caf::actor_system& sys) {
  return sys.spawn(edge_behavior);
}

} // namespace epmpulse::http
