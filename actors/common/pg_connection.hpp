#pragma once

// One blocking libpq connection. Only detached actors (and start-up, before
// the actors run) hold one: every call here may wait on the network.
// Error texts come from libpq and never carry the password; the connection
// string itself is never logged.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

#include "common/time_format.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// Where and how to connect (settings.storage without the pool).
struct pg_target {
  std::string url;
  std::string sslmode;
  std::string sslrootcert;
  std::string sslcert;
  std::string sslkey;
  int connect_timeout_sec = 5;
  std::string application_name = "epmpulse";
};

pg_target pg_target_of(const config::storage_settings& s, std::string application_name);

/// A result; empty (ok() false) when the call failed, with error() saying why.
class pg_result {
public:
  pg_result() = default;
  explicit pg_result(PGresult* r, std::string error = {});

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }
  int rows() const;
  bool is_null(int row, int col) const;
  std::string_view text(int row, int col) const;
  std::optional<std::string> optional_text(int row, int col) const;
  std::int64_t integer(int row, int col) const;
  std::optional<std::int64_t> optional_integer(int row, int col) const;

private:
  std::shared_ptr<PGresult> result_;
  bool ok_ = false;
  std::string error_;
};

/// Statement parameters as text; nullopt is SQL NULL.
using pg_params = std::vector<std::optional<std::string>>;

class pg_connection {
public:
  explicit pg_connection(pg_target target);
  ~pg_connection();
  pg_connection(const pg_connection&) = delete;
  pg_connection& operator=(const pg_connection&) = delete;

  /// Connects (or reconnects after a failure); "" on success, else why not.
  /// Prepared statements are forgotten with the old session.
  std::string connect();
  void close();

  /// Open and in a good state (a broken socket shows only on the next call).
  bool usable() const;

  /// A statement without parameters (several separated by ';' allowed).
  pg_result exec(const std::string& sql);

  /// Prepares `sql` as `name` on this session once (again after a reconnect).
  pg_result exec_prepared(const std::string& name, const std::string& sql, const pg_params& params);

  /// A statement without parameters that must answer within `timeout`;
  /// when it does not, the connection is closed and the result says so.
  pg_result exec_within(const std::string& sql, std::chrono::milliseconds timeout);

  /// The socket, for waiting on notifications; -1 when closed.
  int socket() const;

  /// Reads what the server sent and returns the notifications received
  /// (their payloads); false in `alive` when the connection broke.
  std::vector<std::string> take_notifications(bool& alive);

  PGconn* raw() { return conn_; }

private:
  std::string last_error() const;

  pg_target target_;
  PGconn* conn_ = nullptr;
  std::vector<std::string> prepared_;
};

/// A quoted SQL identifier or literal for statements built at start-up.
std::string pg_quote_literal(std::string_view text);

/// Milliseconds since the epoch as an SQL timestamptz expression operand
/// (text "2026-12-02T10:00:00.123Z" is what the statements take).
std::optional<std::string> pg_time(const std::optional<time_point>& t);

/// A timestamptz column read as epoch milliseconds (the statements select
/// `extract(epoch from x) * 1000` cast to bigint).
std::optional<time_point> pg_time_of(const pg_result& r, int row, int col);

} // namespace epmpulse
