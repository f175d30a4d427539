#pragma once

// The body compressor: a detached actor that gzips the GET bodies for the
// state actor, which forwards it every read that accepts gzip. Compressing a
// 1,000-domain body takes about half a millisecond; on the state actor that
// time was taken from every push waiting behind it, here it runs beside
// them. Readers waiting together share one compression of the newest
// state, and the last result is kept per body.

#include <map>
#include <string>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "actors/common/atoms.hpp"
#include "actors/state/status_bodies.hpp"

namespace epmpulse {

/// The protocol.
using body_compressor_actor = caf::typed_actor<
  /// The gzip form of `json` (a JSON representation from status_bodies), for
  /// the body named `body` ("" for all apps, else the app's name); its ETag
  /// is the JSON's with "-gz" added. Readers of several versions may get the
  /// newest one's (never an older). Should zlib fail, the JSON itself.
  caf::replies_to<compress_atom, std::string, status_representation>::with<status_representation>,
  /// Sent to itself behind the queued requests: answer the readers waiting together.
  caf::reacts_to<deliver_atom>>;

/// What the actor keeps.
struct body_compressor_state {
  static inline constexpr const char* name = "body_compressor";
  /// Per body: the newest JSON asked for and the readers waiting for it.
  std::map<std::string,
           std::pair<status_representation,
                     std::vector<caf::typed_response_promise<status_representation>>>,
           std::less<>>
    waiting;
  bool drain_scheduled = false;
  /// Per body: the last gzip form, with the ETag of the JSON it came from.
  std::map<std::string, std::pair<std::string, status_representation>, std::less<>> last;
};

/// The behaviour (tests spawn it on the test coordinator, undetached).
body_compressor_actor::behavior_type
body_compressor(body_compressor_actor::stateful_pointer<body_compressor_state> self);

/// Spawns the compressor on a thread of its own.
body_compressor_actor spawn_body_compressor(caf::actor_system& sys);

/// The ETag of a representation's gzip form: `"x"` becomes `"x-gz"`.
std::string gzip_etag(const std::string& etag);

} // namespace epmpulse

// In-process only: a shared immutable buffer, never serialised.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::status_representation)
