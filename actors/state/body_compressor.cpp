#include "actors/state/body_compressor.hpp"

#include <map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>
#include <restinio/transforms/zlib.hpp>


namespace epmpulse {

namespace {

// zlib's fastest level: the 1,000-domain body (~150 KB) still shrinks to
// about 10 KB (bench/RESULTS.md) in a third of the default level's time.
constexpr int gzip_level = 1;

using compressor_ptr = body_compressor_actor::stateful_pointer<body_compressor_state>;

// The gzip form of `json`, made at most once per JSON ETag; the JSON itself
// should zlib fail (it fails only without memory).
status_representation zipped_form(compressor_ptr self, const std::string& body,
                                  const status_representation& json) {
  auto& [source_etag, zipped] = self->state.last[body];
  if (zipped.bytes && source_etag == json.etag)
    return zipped;
  try {
    zipped.bytes = std::make_shared<const std::string>(
      restinio::transforms::zlib::gzip_compress(*json.bytes, gzip_level));
  } catch (const std::exception&) {
    zipped = {};
    return json;
  }
  source_etag = json.etag;
  zipped.etag = gzip_etag(json.etag);
  zipped.gzip = true;
  return zipped;
}

} // namespace

body_compressor_actor::behavior_type body_compressor(compressor_ptr self) {
  return {
    [self](compress_atom, const std::string& body,
           status_representation& json) -> caf::result<status_representation> {
      // Requests wait for a deliver message sent to ourselves, which queues
      // behind the requests already in the mailbox: under pushes, readers of
      // many versions then share one compression of the newest, a state at
      // least as new as each asked for (the state actor sends in version order).
      auto& [newest, readers] = self->state.waiting[body];
      newest = std::move(json);
      auto promise = self->make_response_promise<status_representation>();
      readers.push_back(promise);
      if (!self->state.drain_scheduled) {
        self->state.drain_scheduled = true;
        self->send(self, deliver_atom_v);
      }
      return promise;
    },
    [self](deliver_atom) {
      self->state.drain_scheduled = false;
      auto waiting = std::move(self->state.waiting);
      self->state.waiting.clear();
      for (auto& [body, entry] : waiting) {
        auto zipped = zipped_form(self, body, entry.first);
        for (auto& reader : entry.second)
          reader.deliver(zipped);
      }
    },
  };
}

std::string gzip_etag(const std::string& etag) {
  if (etag.size() >= 2 && etag.back() == '"')
    return etag.substr(0, etag.size() - 1) + "-gz\"";
  return etag + "-gz";
}

body_compressor_actor spawn_body_compressor(caf::actor_system& sys) {
  return sys.spawn<caf::detached>(body_compressor);
}

} // namespace epmpulse
