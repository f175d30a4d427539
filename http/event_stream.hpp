#pragma once

// One live stream's writing end: a chunked `text/event-stream` response
// whose frames the event hub offers from its own thread. Writes are
// asynchronous (RESTinio's connection strand); the bytes offered and not yet
// written are counted, and a frame that would take them past the bound
// closes the stream instead: the response is ended (Connection: close, so
// the client sees the end once what is queued is out) and no frame is taken
// any more. A client that reads nothing at all is closed by RESTinio's
// write time limit. The client resumes from the history with Last-Event-ID.

#include <atomic>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <restinio/all.hpp>

#include "actors/events/event_hub.hpp"

namespace epmpulse::http {

class event_stream final : public event_sink,
                           public std::enable_shared_from_this<event_stream> {
public:
  /// Starts the response on `req` (200, the stream's headers and a first
  /// comment, so the client knows it is connected).
  static std::shared_ptr<event_stream> open(const restinio::request_handle_t& req,
                                            const std::string& request_id,
                                            std::size_t max_buffered_bytes);

  bool offer(const shared_bytes& frame) override;
  std::size_t room() const override;

  /// Bytes offered and not yet written to the socket.
  std::size_t buffered() const { return buffered_.load(); }

private:
  using response = restinio::response_builder_t<restinio::chunked_output_t>;
  event_stream(response resp, std::size_t max_buffered_bytes);
  void write(const shared_bytes& frame);
  void close_locked();

  std::mutex mutex_;
  std::optional<response> response_; ///< empty once closed
  std::atomic<std::size_t> buffered_{0};
  std::atomic<bool> failed_{false}; ///< a write failed: the client is gone
  std::size_t max_buffered_;
};

} // namespace epmpulse::http
