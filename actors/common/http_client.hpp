#pragma once

// The outbound HTTP client actor (Slack, EPM, OAuth token endpoints). All
// libcurl I/O happens here, off the shared worker threads, so no handler or
// other actor ever waits on the network. Requests run concurrently.
// Never logs request headers or bodies: they carry tokens and secrets.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"

namespace epmpulse {

struct http_request {
  std::string method = "GET"; ///< GET | POST | PUT | DELETE
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  double timeout_sec = 10;         ///< whole transfer
  double connect_timeout_sec = 5;
};

struct http_response {
  long status = 0;                             ///< 0 when no HTTP response came
  std::map<std::string, std::string> headers;  ///< names lower-cased
  std::string body;
  std::string transport_error;                 ///< curl's reason when status == 0
  double elapsed_sec = 0;

  bool ok() const { return status >= 200 && status < 300; }
};

/// The protocol: one request in, one response out (transport failures are a
/// response with status 0 and transport_error set, never a CAF error).
using http_client_actor = caf::typed_actor<
  caf::replies_to<fetch_atom, http_request>::with<http_response>>;

/// Spawns a client; `max_concurrent` transfers run at once, the rest queue.
http_client_actor spawn_http_client(caf::actor_system& sys, int max_concurrent = 8);

} // namespace epmpulse

// In-process only, and they carry secrets (tokens in headers): they must
// never be serialised, so they get no inspect().
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::http_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::http_response)
