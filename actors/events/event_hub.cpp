#include "actors/events/event_hub.hpp"

#include <algorithm>
#include <deque>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/log.hpp"
#include "actors/history/history_json.hpp"

namespace epmpulse {

namespace {

constexpr std::size_t recent_frames_kept = 4096;
constexpr std::size_t catch_up_page = 500;
// A history entry's frame is about 330 bytes; a page is sized to the room the
// stream has left at this many bytes a frame, and waits while that is less
// than a few frames.
constexpr std::size_t frame_estimate = 512;
constexpr std::size_t min_page = 8;
constexpr auto room_wait = std::chrono::milliseconds(20);
constexpr auto history_timeout = std::chrono::seconds(10);

struct stream {
  std::uint64_t id = 0; ///< the hub's handle for the stream
  event_sink_ptr sink;
  std::uint64_t last_id = 0; ///< the newest change it was sent
  bool live = false;         ///< false while it catches up from the history
  bool fresh = false;        ///< live only and sent nothing yet: starts at the next change
};

struct event_hub_state {
  static inline constexpr const char* name = "event_hub";

  event_hub_options opts;
  std::vector<stream> streams;
  std::uint64_t next_stream = 1;
  /// The newest frames, oldest first: (change id, frame).
  std::deque<std::pair<std::uint64_t, shared_bytes>> recent;
  std::uint64_t newest_id = 0;  ///< the newest change seen live
  std::uint64_t flushed_id = 0; ///< the newest change offered to the live streams
  std::size_t gathered_bytes = 0; ///< frames after flushed_id
  bool flush_scheduled = false;
  shared_bytes keepalive_frame = std::make_shared<const std::string>(": keep-alive\n\n");
};

using hub_ptr = event_hub_actor::stateful_pointer<event_hub_state>;

stream* find_stream(hub_ptr self, std::uint64_t id) {
  for (auto& s : self->state.streams)
    if (s.id == id)
      return &s;
  return nullptr;
}

void forget(hub_ptr self, std::uint64_t id) {
  std::erase_if(self->state.streams, [id](const stream& s) { return s.id == id; });
}

// Offers the recent frames after the stream's last id; false when the
// stream is gone. When the oldest of them does not follow its last id, the
// changes between are in the history only: `gap` is set.
bool send_recent(stream& s, const event_hub_state& st, bool& gap) {
  gap = false;
  auto first = std::upper_bound(
    st.recent.begin(), st.recent.end(), s.last_id,
    [](std::uint64_t id, const auto& frame) { return id < frame.first; });
  if (first != st.recent.end() && first->first != s.last_id + 1) {
    gap = true;
    return true;
  }
  if (first == st.recent.end() && st.newest_id > s.last_id) {
    gap = true;
    return true;
  }
  for (auto it = first; it != st.recent.end(); ++it) {
    if (!s.sink->offer(it->second))
      return false;
    s.last_id = it->first;
  }
  return true;
}

void catch_up(hub_ptr self, std::uint64_t stream_id);

// The history answered a page for a stream that is catching up.
void on_page(hub_ptr self, std::uint64_t stream_id, history_page& page) {
  auto* s = find_stream(self, stream_id);
  if (s == nullptr)
    return;
  for (const auto& change : page.entries) {
    if (change.id <= s->last_id)
      continue;
    if (!s->sink->offer(std::make_shared<const std::string>(event_frame(change)))) {
      forget(self, stream_id);
      return;
    }
    s->last_id = change.id;
  }
  if (page.next)
    return catch_up(self, stream_id);
  bool gap = false;
  if (!send_recent(*s, self->state, gap)) {
    forget(self, stream_id);
    return;
  }
  if (gap && !page.entries.empty())
    // The history holds more by now (it gets the changes in parallel with
    // the hub): read on from where this page ended.
    return catch_up(self, stream_id);
  // An empty page with a gap: the changes between are gone from the history
  // too (retention); the stream goes on from what the hub has.
  if (gap) {
    for (const auto& [id, frame] : self->state.recent)
      if (id > s->last_id) {
        if (!s->sink->offer(frame)) {
          forget(self, stream_id);
          return;
        }
        s->last_id = id;
      }
  }
  s->live = true;
}

void catch_up(hub_ptr self, std::uint64_t stream_id) {
  auto* s = find_stream(self, stream_id);
  if (s == nullptr)
    return;
  const auto fits = s->sink->room() / frame_estimate;
  if (fits < min_page) {
    self->delayed_send(self, room_wait, catch_up_due_atom_v, stream_id);
    return;
  }
  history_query q;
  q.after_id = s->last_id;
  q.limit = std::min(catch_up_page, fits);
  self->request(self->state.opts.history, history_timeout, query_atom_v, std::move(q))
    .then([self, stream_id](history_page& page) { on_page(self, stream_id, page); },
          [self, stream_id](caf::error& err) {
            // The client reconnects and tries again.
            log::warn("live stream closed: the history did not answer",
                      {{"reason", describe_error(err)}});
            forget(self, stream_id);
          });
}

void flush(hub_ptr self) {
  auto& st = self->state;
  st.gathered_bytes = 0;
  auto first = std::upper_bound(
    st.recent.begin(), st.recent.end(), st.flushed_id,
    [](std::uint64_t id, const auto& frame) { return id < frame.first; });
  // The frames since the last flush as one chunk, for every stream that had
  // everything before them; any other stream takes them one by one.
  shared_bytes chunk;
  if (first != st.recent.end() && first->first == st.flushed_id + 1) {
    std::string all;
    for (auto it = first; it != st.recent.end(); ++it)
      all += *it->second;
    chunk = std::make_shared<const std::string>(std::move(all));
  }
  std::vector<std::uint64_t> dropped;
  for (auto& s : st.streams) {
    if (!s.live)
      continue; // it takes these from `recent` once its catch-up is done
    if (s.fresh && first != st.recent.end()) {
      s.fresh = false;
      s.last_id = first->first - 1;
    }
    if (chunk && s.last_id == st.flushed_id) {
      if (!s.sink->offer(chunk))
        dropped.push_back(s.id);
      else
        s.last_id = st.newest_id;
      continue;
    }
    bool gap = false;
    if (!send_recent(s, st, gap)) {
      dropped.push_back(s.id);
    } else if (gap) {
      // Fell behind the frames the hub keeps (cannot happen while every
      // change passes here; a safeguard): read the rest from the history.
      s.live = false;
      catch_up(self, s.id);
    }
  }
  st.flushed_id = st.newest_id;
  for (auto id : dropped)
    forget(self, id);
}

void on_changes(hub_ptr self, const change_set& changes) {
  auto& st = self->state;
  for (const auto& c : *changes) {
    auto frame = std::make_shared<const std::string>(event_frame(c));
    st.gathered_bytes += frame->size();
    st.recent.emplace_back(c.id, std::move(frame));
    st.newest_id = std::max(st.newest_id, c.id);
  }
  while (st.recent.size() > recent_frames_kept)
    st.recent.pop_front();
  if (st.gathered_bytes >= st.opts.coalesce_bytes) {
    flush(self);
  } else if (!st.flush_scheduled && !changes->empty()) {
    st.flush_scheduled = true;
    self->delayed_send(self, st.opts.coalesce, events_flush_atom_v);
  }
}

event_hub_actor::behavior_type event_hub(hub_ptr self, event_hub_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  self->send(st.opts.state, subscribe_atom_v,
             caf::actor_cast<change_listener_actor>(caf::actor_cast<caf::actor>(self)));
  self->delayed_send(self, st.opts.keepalive, events_keepalive_atom_v);
  return {
    [self](changed_atom, const change_set& changes) { on_changes(self, changes); },
    [self](attach_atom, stream_request& req) {
      auto& st = self->state;
      stream s;
      s.id = st.next_stream++;
      s.sink = std::move(req.sink);
      if (!req.last_event_id) {
        s.last_id = st.newest_id;
        s.live = true;
        s.fresh = st.newest_id == 0;
        st.streams.push_back(std::move(s));
        return;
      }
      s.last_id = *req.last_event_id;
      auto id = s.id;
      st.streams.push_back(std::move(s));
      catch_up(self, id);
    },
    [self](catch_up_due_atom, std::uint64_t stream_id) { catch_up(self, stream_id); },
    [self](events_flush_atom) {
      self->state.flush_scheduled = false;
      flush(self);
    },
    [self](events_keepalive_atom) {
      auto& st = self->state;
      self->delayed_send(self, st.opts.keepalive, events_keepalive_atom_v);
      std::erase_if(st.streams, [&](stream& s) { return !s.sink->offer(st.keepalive_frame); });
    },
  };
}

} // namespace

event_hub_actor spawn_event_hub(caf::actor_system& sys, event_hub_options opts) {
  return sys.spawn(event_hub, std::move(opts));
}

} // namespace epmpulse
