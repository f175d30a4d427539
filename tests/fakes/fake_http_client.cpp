#include "tests/fakes/fake_http_client.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <utility>

#include <caf/all.hpp>

#include "tests/support/text.hpp"

namespace epmpulse::test {

namespace {

// The fake's own timer: answers whose latency is over. deliver_atom means
// the same for the body compressor (answer the waiting requests).
using fake_http_client_actor =
  http_client_actor::extend<caf::reacts_to<deliver_atom, std::uint64_t>>;

struct fake_http_client_state {
  static inline constexpr const char* name = "fake_http_client";

  struct waiting_answer {
    caf::typed_response_promise<http_response> promise;
    http_response response;
  };

  fake_http_handler handler;
  std::shared_ptr<fake_http_log> log;
  std::uint64_t next_answer = 0;
  std::map<std::uint64_t, waiting_answer> waiting;
};

using fake_http_client_ptr = fake_http_client_actor::stateful_pointer<fake_http_client_state>;

/// The request as a server would have recorded it.
recorded_request as_received(const http_request& req, caf::actor_clock::time_point now) {
  recorded_request rec;
  rec.method = req.method;
  auto scheme_end = req.url.find("://");
  auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto slash = req.url.find('/', host_start);
  rec.target = slash == std::string::npos ? "/" : req.url.substr(slash);
  rec.path = rec.target.substr(0, rec.target.find('?'));
  for (const auto& [name, value] : req.headers) {
    auto lowered = ascii_lower(name);
    auto it = rec.headers.find(lowered);
    if (it == rec.headers.end())
      rec.headers.emplace(std::move(lowered), value);
    else
      it->second += ", " + value;
  }
  rec.body = req.body;
  rec.received = now;
  return rec;
}

fake_http_client_actor::behavior_type fake_http_client(fake_http_client_ptr self,
                                                       fake_http_handler handler,
                                                       std::shared_ptr<fake_http_log> log) {
  self->state.handler = std::move(handler);
  self->state.log = std::move(log);
  return {
    [self](fetch_atom, const http_request& req) -> caf::result<http_response> {
      auto& st = self->state;
      st.log->requests.push_back(as_received(req, self->clock().now()));
      auto answer = st.handler(st.log->requests.back());
      // The real client gives up after the request's own transfer timeout.
      auto limit = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::duration<double>(req.timeout_sec));
      if (answer.delay > limit) {
        answer.delay = limit;
        answer.response = http_response{};
        answer.response.transport_error = "Operation timed out";
      }
      if (answer.delay.count() <= 0)
        return answer.response;
      auto id = ++st.next_answer;
      st.waiting.emplace(id, fake_http_client_state::waiting_answer{
                               self->make_response_promise<http_response>(),
                               std::move(answer.response)});
      ++st.log->unanswered;
      st.log->most_unanswered = std::max(st.log->most_unanswered, st.log->unanswered);
      self->delayed_send(self, answer.delay, deliver_atom_v, id);
      return st.waiting.at(id).promise;
    },
    [self](deliver_atom, std::uint64_t id) {
      auto& st = self->state;
      auto it = st.waiting.find(id);
      if (it == st.waiting.end())
        return;
      --st.log->unanswered;
      it->second.promise.deliver(std::move(it->second.response));
      st.waiting.erase(it);
    },
  };
}

} // namespace

fake_http_handler unreachable(std::string reason) {
  return [reason](const recorded_request&) {
    fake_http_answer out;
    out.response.transport_error = reason;
    return out;
  };
}

http_client_actor spawn_fake_http_client(caf::actor_system& sys, fake_http_handler handler,
                                         std::shared_ptr<fake_http_log> log) {
  return sys.spawn(fake_http_client, std::move(handler), std::move(log));
}

} // namespace epmpulse::test
