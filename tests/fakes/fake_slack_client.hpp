#pragma once

// Slack as an in-process http_client_actor, for actor tests on the simulated
// system: each request is answered by the same slack_workspace the HTTP fake
// (fake_slack) uses, at once in simulated time, and recorded with the
// simulated time it arrived. The network can also go down: a transfer then
// ends the way the real client's does when curl gives up, with status 0 after
// the request's timeout_sec; or the client can stop answering at all, which
// leaves the caller's own request timeout to fire.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/common/http_client.hpp"
#include "tests/fakes/slack_contract.hpp"
#include "tests/fakes/slack_workspace.hpp"

namespace epmpulse::test {

/// What the test scripts and inspects; the fake actor shares it. The test and
/// the actor run on one thread under the simulated system, so nothing locks.
struct in_process_slack {
  enum class network {
    up,     ///< every request is answered at once
    down,   ///< status 0 ("timed out") after the request's timeout_sec
    silent, ///< no answer ever
  };

  explicit in_process_slack(std::string token) : workspace(token), contract(token) {}

  slack_workspace workspace;      ///< documents, created canvases, scripted failures
  slack_contract contract;        ///< the token, its scopes, documented error answers
  std::vector<slack_call> calls;  ///< every request, in arrival order (also unanswered ones)
  network net = network::up;

  std::vector<slack_call> calls_to(const std::string& method) const {
    return slack_calls_to(calls, method);
  }
  std::vector<slack_call> edits_of(const std::string& canvas_id) const {
    return slack_edits_of(calls, canvas_id);
  }
  std::vector<slack_call> applied_edits_of(const std::string& canvas_id) const {
    return slack_applied_edits_of(calls, canvas_id);
  }
};

/// Spawns the fake client (event-based: it runs on the simulated scheduler).
http_client_actor spawn_fake_slack_client(caf::actor_system& sys,
                                          std::shared_ptr<in_process_slack> slack);

} // namespace epmpulse::test
