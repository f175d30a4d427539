#pragma once

// The event hub: fans every durable change out to the live streams of
// GET /api/v1/events. A stream that resumes (Last-Event-ID) first gets the
// changes after its id from the history, page by page, then the live ones;
// the hub keeps the most recent frames so that nothing falls between the
// history's last page and the live feed (change ids are consecutive, so a
// gap is seen and read again from the history). Each frame is formatted once
// and shared by every stream. Live changes are gathered for `coalesce` (or
// until `coalesce_bytes` are waiting) and offered to every stream as one
// chunk: one write per stream per flush instead of one per change, which
// with 100 open streams had cut pushes to an eighth of what they were with
// none (bench/RESULTS.md). A stream's writing end (event_sink, built by
// the HTTP side) has a bounded buffer: it refuses a frame when its client
// has fallen behind, closes itself, and the hub forgets it; the client
// resumes from the history when it reconnects. Nothing here ever waits on a
// client.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/common/atoms.hpp"
#include "actors/common/shared_bytes.hpp"
#include "actors/history/history_store.hpp"
#include "actors/state/state_store.hpp"

namespace epmpulse {

/// The writing end of one live stream.
class event_sink {
public:
  virtual ~event_sink() = default;
  /// Queues `frame` for the client without waiting; false when the stream
  /// is closed or its buffer would overflow (it then closes itself).
  virtual bool offer(const shared_bytes& frame) = 0;
  /// Bytes it can take now before its buffer is full: a stream catching up
  /// from the history is fed no faster than its client reads.
  virtual std::size_t room() const = 0;
};

using event_sink_ptr = std::shared_ptr<event_sink>;

/// A new stream and the change id it has seen (none: live only).
struct stream_request {
  event_sink_ptr sink;
  std::optional<std::uint64_t> last_event_id;
};

/// The protocol.
using event_hub_actor = caf::typed_actor<
  /// A durable change set (the hub subscribes to the state).
  caf::reacts_to<changed_atom, change_set>,
  /// A stream to feed from now on.
  caf::reacts_to<attach_atom, stream_request>,
  /// Timers: a comment line to every stream, so that idle connections stay
  /// open; the next history page for a stream whose client had no room.
  caf::reacts_to<events_keepalive_atom>, caf::reacts_to<catch_up_due_atom, std::uint64_t>,
  /// Timer: the changes gathered since the last flush go out.
  caf::reacts_to<events_flush_atom>>;

struct event_hub_options {
  state_store_actor state;     ///< subscribed to at spawn
  history_store_actor history; ///< where resuming streams read what they missed
  std::chrono::milliseconds keepalive{15'000};
  /// How long live changes are gathered before they go out together: the
  /// page shows a change this much later at most.
  std::chrono::milliseconds coalesce{20};
  /// Gathered frames that make a flush due before `coalesce` has passed, so
  /// that one chunk stays well within a stream's buffer.
  std::size_t coalesce_bytes = 64 * 1024;
};

/// Spawns the hub on the CAF workers and subscribes it to the state.
event_hub_actor spawn_event_hub(caf::actor_system& sys, event_hub_options opts);

} // namespace epmpulse

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(epmpulse::stream_request)
