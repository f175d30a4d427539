#pragma once

// The body compressor: a detached actor that gzips the GET bodies for the
// state actor, which forwards it every read that accepts gzip. Compressing a
// 1,000-domain body takes about half a millisecond; on the state actor that
// time was taken from every push waiting behind it, here it runs beside
// them. Readers waiting together share one compression of the newest
// state, and the last result is kept per body.

#include <functional>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/state/status_bodies.hpp"

namespace epmpulse {

/// Receives the gzip representation, from the compressor's thread.
using compressed_callback = std::function<void(status_representation)>;

/// The protocol.
using body_compressor_actor = caf::typed_actor<
  /// The gzip form of `json` (a JSON representation from status_bodies), for
  /// the body named `body` ("" for all apps, else the app's name); its ETag
  /// is the JSON's with "-gz" added.
  /// Readers of several versions may get the newest one's (never an older).
  caf::reacts_to<compress_atom, std::string, status_representation, compressed_callback>,
  /// Internal: answer the waiting readers.
  caf::reacts_to<tick_atom>>;

body_compressor_actor spawn_body_compressor(caf::actor_system& sys);

/// The ETag of a representation's gzip form: `"x"` becomes `"x-gz"`.
std::string gzip_etag(const std::string& etag);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::status_representation)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::compressed_callback)
