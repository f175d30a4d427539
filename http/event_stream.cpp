#include "http/event_stream.hpp"

namespace epmpulse::http {

namespace {

const shared_bytes& opening_comment() {
  static const shared_bytes comment = std::make_shared<const std::string>(": keep-alive\n\n");
  return comment;
}

} // namespace

std::shared_ptr<event_stream> event_stream::open(const restinio::request_handle_t& req,
                                                 const std::string& request_id,
                                                 std::size_t max_buffered_bytes) {
  auto resp = req->create_response<restinio::chunked_output_t>();
  resp.append_header(restinio::http_field::content_type, "text/event-stream")
    .append_header(restinio::http_field::cache_control, "no-cache")
    .append_header("X-Request-ID", request_id)
    // Proxies such as nginx would otherwise hold the frames back.
    .append_header("X-Accel-Buffering", "no")
    // Ending the response (a client that fell behind) then also ends the
    // connection, which is what tells the client to reconnect.
    .connection_close();
  std::shared_ptr<event_stream> stream{new event_stream(std::move(resp), max_buffered_bytes)};
  {
    std::lock_guard lock{stream->mutex_};
    stream->write(opening_comment());
  }
  return stream;
}

event_stream::event_stream(response resp, std::size_t max_buffered_bytes)
  : response_(std::move(resp)), max_buffered_(max_buffered_bytes) {}

void event_stream::write(const shared_bytes& frame) {
  buffered_ += frame->size();
  std::weak_ptr<event_stream> weak = weak_from_this();
  response_->append_chunk(restinio::writable_item_t{frame});
  response_->flush([weak, size = frame->size()](const asio::error_code& ec) {
    if (auto self = weak.lock()) {
      self->buffered_ -= size;
      if (ec)
        self->failed_ = true;
    }
  });
}

void event_stream::close_locked() {
  if (!response_)
    return;
  response_->done();
  response_.reset();
}

std::size_t event_stream::room() const {
  if (failed_)
    return 0;
  auto used = buffered_.load();
  return used < max_buffered_ ? max_buffered_ - used : 0;
}

bool event_stream::offer(const shared_bytes& frame) {
  std::lock_guard lock{mutex_};
  if (!response_)
    return false;
  if (failed_ || buffered_ + frame->size() > max_buffered_) {
    close_locked();
    return false;
  }
  write(frame);
  return true;
}

} // namespace epmpulse::http
