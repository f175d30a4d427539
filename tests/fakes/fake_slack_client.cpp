#include "tests/fakes/fake_slack_client.hpp"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <map>

#include <caf/all.hpp>

namespace epmpulse::test {

namespace {

// The fake's own timer (a test double's, so not among the service's atoms).
using fake_transfer_due_atom = caf::atom_constant<caf::atom("fakedue")>;
inline constexpr fake_transfer_due_atom fake_transfer_due_atom_v{};

std::string slack_method_in(const std::string& url) {
  auto slash = url.rfind('/');
  return slash == std::string::npos ? url : url.substr(slash + 1);
}

std::string slack_request_header(const http_request& req, const std::string& name) {
  for (const auto& [key, value] : req.headers) {
    if (key.size() != name.size())
      continue;
    bool same = true;
    for (std::size_t i = 0; i < key.size() && same; ++i)
      same = std::tolower(static_cast<unsigned char>(key[i]))
             == std::tolower(static_cast<unsigned char>(name[i]));
    if (same)
      return value;
  }
  return {};
}

http_response as_client_response(const scripted_response& scripted) {
  http_response res;
  res.status = scripted.status;
  for (const auto& [key, value] : scripted.headers) {
    std::string lower = key;
    for (auto& ch : lower)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    res.headers[lower] = value;
  }
  res.headers["content-type"] = scripted.content_type;
  res.body = scripted.body;
  return res;
}

/// The client's interface plus the fake's own timer: a transfer that curl
/// gives up on is answered when its timeout has passed.
using fake_slack_client_actor =
  http_client_actor::extend<caf::reacts_to<fake_transfer_due_atom, std::uint64_t>>;

struct fake_slack_client_state {
  static inline constexpr const char* name = "fake_slack_client";
  std::shared_ptr<in_process_slack> slack;
  std::map<std::uint64_t, caf::typed_response_promise<http_response>> held;
  std::uint64_t next_held = 1;
};

fake_slack_client_actor::behavior_type
fake_slack_client(fake_slack_client_actor::stateful_pointer<fake_slack_client_state> self,
                  std::shared_ptr<in_process_slack> slack) {
  self->state.slack = std::move(slack);
  return {
    [self](fetch_atom, const http_request& req) -> caf::result<http_response> {
      auto& st = self->state;
      auto c = read_slack_call(slack_method_in(req.url),
                               slack_request_header(req, "Authorization"), req.body);
      c.received = self->clock().now();
      if (st.slack->net == in_process_slack::network::up) {
        auto res = as_client_response(
          answer_as_slack(st.slack->contract, st.slack->workspace, c));
        st.slack->calls.push_back(c);
        return res;
      }
      c.status = 0;
      c.error = "no_answer";
      st.slack->calls.push_back(c);
      auto promise = self->make_response_promise<http_response>();
      // Silent: kept unanswered until the fake ends (the caller's timeout fires).
      auto id = st.next_held++;
      st.held.emplace(id, promise);
      if (st.slack->net == in_process_slack::network::down)
        self->delayed_send(self, std::chrono::milliseconds{std::llround(req.timeout_sec * 1000)},
                           fake_transfer_due_atom_v, id);
      return promise;
    },
    [self](fake_transfer_due_atom, std::uint64_t id) {
      auto it = self->state.held.find(id);
      if (it == self->state.held.end())
        return;
      http_response gave_up; // status 0: what the real client answers when curl times out
      gave_up.transport_error = "Operation timed out";
      it->second.deliver(std::move(gave_up));
      self->state.held.erase(it);
    },
  };
}

} // namespace

http_client_actor spawn_fake_slack_client(caf::actor_system& sys,
                                          std::shared_ptr<in_process_slack> slack) {
  return http_client_actor{sys.spawn(fake_slack_client, std::move(slack))};
}

} // namespace epmpulse::test
