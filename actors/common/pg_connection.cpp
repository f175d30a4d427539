#include "actors/common/pg_connection.hpp"

#include <poll.h>

#include <algorithm>
#include <charconv>
#include <deque>

namespace epmpulse {

pg_target pg_target_of(const config::storage_settings& s, std::string application_name) {
  pg_target t;
  t.url = s.url;
  t.sslmode = s.sslmode;
  t.sslrootcert = s.sslrootcert;
  t.sslcert = s.sslcert;
  t.sslkey = s.sslkey;
  t.connect_timeout_sec = std::max(1, static_cast<int>(s.connect_timeout_sec + 0.5));
  t.application_name = std::move(application_name);
  return t;
}

// -- results -----------------------------------------------------------------

pg_result::pg_result(PGresult* r, std::string error)
  : result_(r, [](PGresult* p) { if (p != nullptr) PQclear(p); }) {
  if (r == nullptr) {
    error_ = error.empty() ? "no result" : std::move(error);
    return;
  }
  auto status = PQresultStatus(r);
  ok_ = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
  if (!ok_) {
    const char* msg = PQresultErrorMessage(r);
    error_ = msg != nullptr && *msg != '\0' ? msg : std::move(error);
    while (!error_.empty() && (error_.back() == '\n' || error_.back() == ' '))
      error_.pop_back();
  }
}

int pg_result::rows() const {
  return result_ ? PQntuples(result_.get()) : 0;
}

bool pg_result::is_null(int row, int col) const {
  return PQgetisnull(result_.get(), row, col) != 0;
}

std::string_view pg_result::text(int row, int col) const {
  return {PQgetvalue(result_.get(), row, col),
          static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}

std::optional<std::string> pg_result::optional_text(int row, int col) const {
  if (is_null(row, col))
    return std::nullopt;
  return std::string{text(row, col)};
}

std::int64_t pg_result::integer(int row, int col) const {
  auto t = text(row, col);
  std::int64_t v = 0;
  std::from_chars(t.data(), t.data() + t.size(), v);
  return v;
}

std::optional<std::int64_t> pg_result::optional_integer(int row, int col) const {
  if (is_null(row, col))
    return std::nullopt;
  return integer(row, col);
}

// -- connection --------------------------------------------------------------

pg_connection::pg_connection(pg_target target) : target_(std::move(target)) {}

pg_connection::~pg_connection() {
  close();
}

void pg_connection::close() {
  if (conn_ != nullptr)
    PQfinish(conn_);
  conn_ = nullptr;
  prepared_.clear();
}

std::string pg_connection::last_error() const {
  std::string msg = conn_ != nullptr ? PQerrorMessage(conn_) : "not connected";
  while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' '))
    msg.pop_back();
  return msg.empty() ? "connection failed" : msg;
}

std::string pg_connection::connect() {
  close();
  auto timeout = std::to_string(target_.connect_timeout_sec);
  std::vector<const char*> keys{"dbname", "connect_timeout", "application_name"};
  std::vector<const char*> values{target_.url.c_str(), timeout.c_str(),
                                  target_.application_name.c_str()};
  std::deque<std::string> held; // the pointers below point into it
  auto add = [&](const char* key, std::string value) {
    if (!value.empty()) {
      keys.push_back(key);
      values.push_back(held.emplace_back(std::move(value)).c_str());
    }
  };
  add("sslmode", target_.sslmode);
  add("sslrootcert", target_.sslrootcert);
  add("sslcert", target_.sslcert);
  add("sslkey", target_.sslkey);
  // A dead peer must end a session within seconds, on both sides (the leader
  // election relies on the client side noticing first; docs/database.md).
  add("keepalives", "1");
  add("keepalives_idle", "2");
  add("keepalives_interval", "1");
  add("keepalives_count", "3");
  add("tcp_user_timeout", "5000");
  // A hung server must not hold a commit (or the leader's check) for long.
  add("options", "-c statement_timeout=10000");
  keys.push_back(nullptr);
  values.push_back(nullptr);
  // expand_dbname = 1: the url may be a URI or key=value pairs.
  conn_ = PQconnectdbParams(keys.data(), values.data(), 1);
  if (conn_ == nullptr || PQstatus(conn_) != CONNECTION_OK) {
    auto why = last_error();
    close();
    return why;
  }
  return {};
}

bool pg_connection::usable() const {
  return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK;
}

pg_result pg_connection::exec(const std::string& sql) {
  if (!usable())
    return pg_result{nullptr, "not connected"};
  auto* r = PQexec(conn_, sql.c_str());
  return pg_result{r, last_error()};
}

pg_result pg_connection::exec_prepared(const std::string& name, const std::string& sql,
                                       const pg_params& params) {
  if (!usable())
    return pg_result{nullptr, "not connected"};
  if (std::find(prepared_.begin(), prepared_.end(), name) == prepared_.end()) {
    pg_result prepared{PQprepare(conn_, name.c_str(), sql.c_str(), 0, nullptr), last_error()};
    if (!prepared.ok())
      return prepared;
    prepared_.push_back(name);
  }
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const auto& p : params)
    values.push_back(p ? p->c_str() : nullptr);
  auto* r = PQexecPrepared(conn_, name.c_str(), static_cast<int>(values.size()), values.data(),
                           nullptr, nullptr, 0);
  return pg_result{r, last_error()};
}

pg_result pg_connection::exec_within(const std::string& sql, std::chrono::milliseconds timeout) {
  if (!usable())
    return pg_result{nullptr, "not connected"};
  if (PQsendQuery(conn_, sql.c_str()) != 1)
    return pg_result{nullptr, last_error()};
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (PQflush(conn_) < 0 || PQconsumeInput(conn_) != 1)
      break;
    if (PQisBusy(conn_) == 0) {
      pg_result last{nullptr, "no result"};
      while (PGresult* r = PQgetResult(conn_))
        last = pg_result{r, last_error()};
      return last;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      close();
      return pg_result{nullptr, "no answer within " + std::to_string(timeout.count()) + " ms"};
    }
    pollfd fd{PQsocket(conn_), POLLIN, 0};
    ::poll(&fd, 1, static_cast<int>(left.count()));
  }
  auto why = last_error();
  close();
  return pg_result{nullptr, why};
}

int pg_connection::socket() const {
  return conn_ != nullptr ? PQsocket(conn_) : -1;
}

std::vector<std::string> pg_connection::take_notifications(bool& alive) {
  std::vector<std::string> out;
  alive = usable() && PQconsumeInput(conn_) == 1 && PQstatus(conn_) == CONNECTION_OK;
  if (!alive)
    return out;
  while (PGnotify* n = PQnotifies(conn_)) {
    out.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return out;
}

// -- values --------------------------------------------------------------------

std::string pg_quote_literal(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'')
      out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::optional<std::string> pg_time(const std::optional<time_point>& t) {
  return format_time(t);
}

std::optional<time_point> pg_time_of(const pg_result& r, int row, int col) {
  auto ms = r.optional_integer(row, col);
  if (!ms)
    return std::nullopt;
  return time_point{std::chrono::milliseconds{*ms}};
}

} // namespace epmpulse
