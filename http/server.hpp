#pragma once

// The HTTP server: RESTinio on its own io threads, handing every request to
// the route table. Handlers never block; answers come back from actors and
// complete on the connection's strand.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <sys/resource.h>

#include "http/services.hpp"

namespace epmpulse::http {

/// How many connections the server may hold given the open-file limit:
/// every connection is a file, and the rest of the process needs some too.
struct connection_cap {
  std::size_t connections = 0;   ///< 0: not even a handful fit; refuse to start
  rlim_t soft_limit = 0;         ///< the soft RLIMIT_NOFILE to set (raised up to hard when needed)
  std::string problem;           ///< what did not fit and the fix; "" when the setting fits
};

/// Files the process keeps open besides its connections: logs, state and
/// backup files, Slack and EPM calls, the io and actor machinery.
inline constexpr rlim_t files_besides_connections = 128;

/// The fewest connections worth starting with.
inline constexpr std::size_t min_connections_to_start = 16;

/// Fits `configured` connections into `limit`, raising the soft limit up to
/// the hard one when that is enough, otherwise clamping to what fits.
connection_cap fit_connections(int configured, const rlimit& limit);

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
