#pragma once

// A plain TCP connection to 127.0.0.1:<port> for tests that must send what no
// HTTP client library would: broken framing, bytes one at a time, several
// requests in one write, connections held open and silent. Every read has a
// deadline; a close or reset by the server is reported, not thrown.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace epmpulse::test {

/// One HTTP response as it came over the wire.
struct raw_response {
  int status = 0;
  std::map<std::string, std::string> headers; ///< names lower-cased
  std::string body;

  /// Header value by lower-case name, "" when absent.
  std::string header(const std::string& name) const;
};

class raw_socket {
public:
  /// Connects (blocking) to 127.0.0.1:port; throws std::runtime_error when
  /// the connection cannot be made.
  explicit raw_socket(std::uint16_t port);
  ~raw_socket();

  raw_socket(raw_socket&& other) noexcept;
  raw_socket& operator=(raw_socket&& other) noexcept;
  raw_socket(const raw_socket&) = delete;
  raw_socket& operator=(const raw_socket&) = delete;

  /// Writes all of `bytes`; false when the server has closed or reset the
  /// connection (no SIGPIPE).
  bool send(std::string_view bytes);

  /// Reads one response (headers, then a Content-Length body, or up to the
  /// close without one); nullopt when the connection closes first or the
  /// deadline passes (closed() tells which). Bytes after it stay buffered
  /// for the next call: pipelined answers are read one by one.
  std::optional<raw_response> read_response(std::chrono::milliseconds timeout);

  /// Waits until the server closes or resets the connection (what arrives
  /// meanwhile goes to pending()); true when it did before the deadline.
  bool wait_closed(std::chrono::milliseconds timeout);

  /// Reads until `done(pending())` holds (-> true), the connection closes or
  /// the deadline passes (-> false); for streamed answers (Server-Sent Events).
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout);

  /// True once a read saw the end of the stream or a reset.
  bool closed() const { return closed_; }

  /// Everything received and not yet consumed by read_response.
  const std::string& pending() const { return buffer_; }

  /// Closes our end now.
  void close();

private:
  // Reads once, waiting up to `until`; false when nothing more can come in
  // time (closed, reset, or the deadline passed).
  bool read_some(std::chrono::steady_clock::time_point until);

  int fd_ = -1;
  bool closed_ = false;
  std::string buffer_;
};

/// Parses one response at the start of `bytes`: the response and how many
/// bytes it took; nullopt when `bytes` does not hold a whole one yet.
/// `complete_at_end` treats the end of `bytes` as the end of the stream.
std::optional<std::pair<raw_response, std::size_t>> parse_raw_response(std::string_view bytes,
                                                                       bool complete_at_end);

} // namespace epmpulse::test
