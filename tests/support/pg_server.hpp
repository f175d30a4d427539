#pragma once

// A real PostgreSQL for one test: initdb and pg_ctl (Debian's postgresql
// package, /usr/lib/postgresql/<version>/bin) into a temp dir, run as the
// unprivileged user `nobody` (PostgreSQL refuses to run as root), listening
// on 127.0.0.1 only, on an ephemeral port, its unix socket in the temp dir;
// stopped and removed when the object goes away. Password authentication
// (scram-sha-256) with a random password registered as a log secret.

#include <filesystem>
#include <string>

#include "tests/support/temp_dir.hpp"

namespace epmpulse::test {

/// The directory holding initdb and pg_ctl, "" when none is installed.
std::string postgres_bin_dir();

class pg_server {
public:
  /// initdb + start; throws with a clear message (naming the missing
  /// package when the binaries are absent, the server log otherwise).
  pg_server();
  ~pg_server();

  pg_server(const pg_server&) = delete;
  pg_server& operator=(const pg_server&) = delete;

  /// postgresql://epmpulse:<password>@127.0.0.1:<port>/postgres (secret).
  std::string url() const;
  const std::string& password() const { return password_; }
  int port() const { return port_; }

  /// pg_ctl stop -m fast (the clients' sessions end) / start again on the same port.
  void stop();
  void start();

  /// Runs one SQL command with psql; returns its unaligned output (throws on failure).
  std::string psql(const std::string& sql) const;

private:
  temp_dir dir_{"epmpulse-pg-"};
  std::string bin_;
  std::string password_;
  int port_ = 0;
  bool running_ = false;
};

} // namespace epmpulse::test
