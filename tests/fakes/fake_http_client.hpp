#pragma once

// An in-process stand-in for the HTTP client actor (http_client_actor
// protocol) for actor tests on simulated time. The real client is detached
// and does real I/O, which the test coordinator cannot hold still; this one
// is event-based, answers from a handler (one of the scripted fakes in
// tests/fakes/fake_epm.hpp, or any function) and gives each answer the
// latency the handler asks for on the actor clock, so a slow endpoint costs
// simulated time only. It records every request and counts the ones it has
// not answered yet.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/common/http_client.hpp"
#include "tests/fakes/fake_epm.hpp"
#include "tests/fakes/fake_http_server.hpp"

namespace epmpulse::test {

/// The answer to one request: a response (status 0 with transport_error set
/// for a failure below HTTP), given `delay` after the request arrived.
struct fake_http_answer {
  http_response response;
  std::chrono::milliseconds delay{0};
};

/// Decides the answer to one request.
using fake_http_handler = std::function<fake_http_answer(const recorded_request&)>;

/// What the fake saw. Tests on the test coordinator read it between runs
/// (one thread), so it needs no lock.
struct fake_http_log {
  /// Every request, in arrival order; `received` is the actor clock's time.
  std::vector<recorded_request> requests;
  std::size_t unanswered = 0;     ///< requests whose answer is still on its way
  std::size_t most_unanswered = 0; ///< the largest `unanswered` seen
};

/// Answers like `fake` would over HTTP (a scripted_epm_pod, a
/// scripted_token_endpoint, or anything with `timed_response answer(req)`).
template <class Fake>
fake_http_handler answering_like(std::shared_ptr<Fake> fake) {
  return [fake](const recorded_request& req) {
    auto timed = fake->answer(req);
    fake_http_answer out;
    out.response.status = timed.response.status;
    out.response.body = timed.response.body;
    out.response.headers = timed.response.headers;
    out.response.headers["content-type"] = timed.response.content_type;
    out.delay = timed.delay;
    return out;
  };
}

/// Every request fails below HTTP with `reason`, at once (nobody listens).
fake_http_handler unreachable(std::string reason = "Couldn't connect to server");

/// Spawns the fake client (event-based: it runs on the test coordinator).
http_client_actor spawn_fake_http_client(caf::actor_system& sys, fake_http_handler handler,
                                         std::shared_ptr<fake_http_log> log);

} // namespace epmpulse::test
