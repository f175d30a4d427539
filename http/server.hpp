#pragma once

// The HTTP server: RESTinio on its own io threads, handing every request to
// the route table. Handlers never block; answers come back from actors and
// complete on the connection's strand.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "http/services.hpp"

namespace epmpulse::http {

class http_server {
public:
  /// Binds host:port (port 0 = ephemeral) and starts serving. On failure
  /// returns null with `error` set.
  static std::unique_ptr<http_server> start(const std::string& host, std::uint16_t port,
                                            http_services services, std::string& error);
  ~http_server();

  /// The address and port actually bound.
  const std::string& host() const;
  std::uint16_t port() const;

  /// From now on new requests are answered 503 while in-flight ones finish.
  void begin_draining();

  /// Waits until no request is in flight or the deadline passes; true if idle.
  bool wait_idle(std::chrono::milliseconds deadline);

  /// Stops the io threads (closes connections).
  void stop();

  struct impl;

private:
  explicit http_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

} // namespace epmpulse::http
