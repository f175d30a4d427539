#pragma once

// A stand-in for the part of the state actor the canvas actor uses
// (canvas_state_feed): it serves the snapshot the test sets, or never answers
// when told so, and records subscribers, to whom the test sends the change
// notifications the state actor would send after a commit.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/canvas/canvas.hpp"

namespace epmpulse::test {

/// What the fake serves and saw; shared with the test (one thread under the
/// simulated system, so nothing locks).
struct state_feed_script {
  snapshot_ptr snapshot = std::make_shared<const status_snapshot>();
  bool answering = true; ///< false: snapshot requests are never answered
  std::vector<change_listener_actor> subscribers;
};

/// Spawns the fake (event-based).
canvas_state_feed spawn_fake_state_feed(caf::actor_system& sys,
                                        std::shared_ptr<state_feed_script> script);

/// Sets one domain of `snap` the way an applied update does (the start time
/// for Loading, a duration otherwise) and returns the change subscribers see.
domain_change set_domain(status_snapshot& snap, const std::string& app, const std::string& domain,
                         job_status status, const std::string& job, time_point t,
                         std::optional<std::string> message = std::nullopt);

/// Records `job` of `apps` in snap.recent_jobs the way the state actor does
/// (newest first; a job seen again keeps its place and start).
void record_recent_job(status_snapshot& snap, const std::string& job,
                       const std::vector<std::string>& apps, job_status status, time_point t);

} // namespace epmpulse::test
