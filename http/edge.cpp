#include "http/edge.hpp"

#include <algorithm>
#include <exception>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>

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

struct edge_state {
  static inline constexpr const char* name = "http_edge";
  std::chrono::milliseconds deadline{};
  /// Responses still to be given, oldest first: every job has the same
  /// deadline, so arrival order is deadline order.
  std::deque<std::pair<caf::actor_clock::time_point, std::weak_ptr<responder>>> pending;
  bool sweep_armed = false;
  /// A slow request at the front (a canvas sync) holds back the entries of
  /// the fast ones behind it; past this size the queue is compacted.
  std::size_t compact_at = 1024;
};

using edge_ptr = edge_actor::stateful_pointer<edge_state>;

// Answered requests free their responder; their entries leave from the front.
void drop_answered(edge_state& st) {
  while (!st.pending.empty() && st.pending.front().second.expired())
    st.pending.pop_front();
  if (st.pending.size() >= st.compact_at) {
    std::erase_if(st.pending, [](const auto& entry) { return entry.second.expired(); });
    st.compact_at = std::max<std::size_t>(1024, 2 * st.pending.size());
  }
}

void arm_sweep(edge_ptr self) {
  auto& st = self->state;
  if (st.sweep_armed || st.pending.empty())
    return;
  st.sweep_armed = true;
  auto wait = st.pending.front().first - self->clock().now();
  self->delayed_send(self, std::max(wait, caf::timespan{0}) + std::chrono::milliseconds{1},
                     deadline_sweep_atom_v);
}

edge_actor::behavior_type edge_behavior(edge_ptr self, std::chrono::milliseconds deadline) {
  self->state.deadline = deadline;
  return {
    [self](edge_job& job) {
      auto& st = self->state;
      drop_answered(st);
      st.pending.emplace_back(self->clock().now() + st.deadline, job.out);
      arm_sweep(self);
      // The job's own continuation answers the client. A job that throws
      // before it sent its request leaves its responder to answer 500 when
      // dropped.
      try {
        job.run(self);
      } catch (const std::exception& e) {
        log::write(log::level::error, "an HTTP job failed", job.out->request_id(),
                   {{"reason", e.what()}});
      }
    },
    [self](deadline_sweep_atom) {
      auto& st = self->state;
      st.sweep_armed = false;
      auto now = self->clock().now();
      while (!st.pending.empty() && st.pending.front().first <= now) {
        if (auto out = st.pending.front().second.lock())
          out->send_error(
            {ec::unavailable, "The service did not answer in time; retry shortly.", {}});
        st.pending.pop_front();
      }
      drop_answered(st);
      arm_sweep(self);
    },
  };
}

} // namespace

edge_actor spawn_edge(caf::actor_system& sys, std::chrono::milliseconds deadline) {
  return sys.spawn(edge_behavior, deadline);
}

} // namespace epmpulse::http
