#include "actors/history/history_db.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <variant>
#include <sys/stat.h>

#include <sqlite3.h>

namespace epmpulse {

namespace {

// The schema. `id` is the change id (the table's rowid). Times are Unix
// milliseconds. The indexes serve the API's filters in id order: one
// domain's changes, one app's, one job's, and the received-time bounds
// (which become id bounds, see id_bound).
constexpr const char* schema = R"sql(
CREATE TABLE IF NOT EXISTS changes (
  id INTEGER PRIMARY KEY,
  app TEXT NOT NULL,
  domain TEXT NOT NULL,
  old_status INTEGER NOT NULL,
  status INTEGER NOT NULL,
  job_id TEXT,
  message TEXT,
  event_ms INTEGER,
  received_ms INTEGER NOT NULL,
  duration_sec INTEGER,
  source INTEGER NOT NULL,
  key_name TEXT
);
CREATE INDEX IF NOT EXISTS changes_by_domain ON changes (app, domain, id);
CREATE INDEX IF NOT EXISTS changes_by_app ON changes (app, id);
CREATE INDEX IF NOT EXISTS changes_by_job ON changes (job_id, id);
CREATE INDEX IF NOT EXISTS changes_by_received ON changes (received_ms);
)sql";

constexpr const char* columns =
  "id, app, domain, old_status, status, job_id, message, event_ms, received_ms, duration_sec, "
  "source, key_name";

std::int64_t to_ms(time_point t) {
  return t.time_since_epoch().count();
}

time_point from_ms(std::int64_t ms) {
  return time_point{std::chrono::milliseconds{ms}};
}

std::string error_of(sqlite3* db, const char* what) {
  return std::string(what) + ": " + sqlite3_errmsg(db);
}

// A prepared statement, finalised on scope exit.
class statement {
public:
  statement(sqlite3* db, const std::string& sql) {
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt_, nullptr) != SQLITE_OK)
      stmt_ = nullptr;
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

private:
  sqlite3_stmt* stmt_ = nullptr;
};

// Bound parameters collected while a query's text is built.
struct bindings {
  std::vector<std::variant<std::int64_t, std::string>> values;

  std::string add(std::int64_t v) {
    values.emplace_back(v);
    return "?" + std::to_string(values.size());
  }
  std::string add(std::string v) {
    values.emplace_back(std::move(v));
    return "?" + std::to_string(values.size());
  }
  void bind(sqlite3_stmt* stmt) const {
    for (std::size_t i = 0; i < values.size(); ++i) {
      const int index = static_cast<int>(i + 1);
      if (const auto* n = std::get_if<std::int64_t>(&values[i]))
        sqlite3_bind_int64(stmt, index, *n);
      else {
        const auto& text = std::get<std::string>(values[i]);
        sqlite3_bind_text(stmt, index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT);
      }
    }
  }
};

void bind_optional_text(sqlite3_stmt* stmt, int index, const std::optional<std::string>& text) {
  if (text)
    sqlite3_bind_text(stmt, index, text->data(), static_cast<int>(text->size()), SQLITE_STATIC);
  else
    sqlite3_bind_null(stmt, index);
}

std::optional<std::string> optional_text(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
    return std::nullopt;
  return std::string(reinterpret_cast<const char*>(sqlite3_column_text(stmt, column)),
                     static_cast<std::size_t>(sqlite3_column_bytes(stmt, column)));
}

std::optional<std::int64_t> optional_int(sqlite3_stmt* stmt, int column) {
  if (sqlite3_column_type(stmt, column) == SQLITE_NULL)
    return std::nullopt;
  return sqlite3_column_int64(stmt, column);
}

job_status status_of(std::int64_t n) {
  return n >= 0 && n <= 3 ? static_cast<job_status>(n) : job_status::blank;
}

update_source source_of(std::int64_t n) {
  return n >= 0 && n <= 2 ? static_cast<update_source>(n) : update_source::system;
}

// One row in `columns` order.
domain_change change_of(sqlite3_stmt* stmt) {
  domain_change c;
  c.id = static_cast<std::uint64_t>(sqlite3_column_int64(stmt, 0));
  c.app = *optional_text(stmt, 1);
  c.domain = *optional_text(stmt, 2);
  c.before.status = status_of(sqlite3_column_int64(stmt, 3));
  c.after.status = status_of(sqlite3_column_int64(stmt, 4));
  c.after.job_id = optional_text(stmt, 5);
  c.after.message = optional_text(stmt, 6);
  if (auto ms = optional_int(stmt, 7))
    c.after.updated = from_ms(*ms);
  c.received = from_ms(sqlite3_column_int64(stmt, 8));
  c.after.duration_sec = optional_int(stmt, 9);
  c.after.source = source_of(sqlite3_column_int64(stmt, 10));
  c.key_name = optional_text(stmt, 11);
  return c;
}

std::int64_t single_int(sqlite3* db, const std::string& sql, const bindings& params,
                        std::int64_t fallback) {
  statement stmt{db, sql};
  if (!stmt)
    return fallback;
  params.bind(stmt.get());
  if (sqlite3_step(stmt.get()) == SQLITE_ROW && sqlite3_column_type(stmt.get(), 0) != SQLITE_NULL)
    return sqlite3_column_int64(stmt.get(), 0);
  return fallback;
}

// Received times rise with change ids (the state actor stamps each apply
// with its clock as it assigns ids), so a received-time bound becomes an id
// bound that an index finds at once: the first id received at or after
// `since`, the last one at or before `until`. The exact time condition stays
// in the query as well.
std::int64_t first_id_since(sqlite3* db, time_point since) {
  bindings p;
  auto at = p.add(to_ms(since));
  return single_int(db, "SELECT id FROM changes WHERE received_ms >= " + at
                          + " ORDER BY received_ms, id LIMIT 1",
                    p, -1);
}

std::int64_t last_id_until(sqlite3* db, time_point until) {
  bindings p;
  auto at = p.add(to_ms(until));
  return single_int(db, "SELECT id FROM changes WHERE received_ms <= " + at
                          + " ORDER BY received_ms DESC, id DESC LIMIT 1",
                    p, -1);
}

// Nearest-rank percentile of sorted values.
std::optional<double> percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty())
    return std::nullopt;
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

std::optional<double> median(std::vector<std::int64_t> values) {
  if (values.empty())
    return std::nullopt;
  std::sort(values.begin(), values.end());
  auto n = values.size();
  if (n % 2 == 1)
    return static_cast<double>(values[n / 2]);
  return (static_cast<double>(values[n / 2 - 1]) + static_cast<double>(values[n / 2])) / 2.0;
}

} // namespace

std::unique_ptr<history_db> history_db::open(const std::string& path, std::string& error) {
  // Created 0600 like every file of the data dir: it names keys and jobs.
  const auto old_mask = ::umask(0077);
  sqlite3* db = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &db,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  ::umask(old_mask);
  if (rc != SQLITE_OK) {
    error = "cannot open " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<history_db> out{new history_db(db)};
  // auto_vacuum must be set before the first table exists; it lets prune()
  // give the space of deleted changes back to the file system.
  for (const char* setup : {"PRAGMA auto_vacuum = INCREMENTAL", "PRAGMA journal_mode = WAL",
                            "PRAGMA synchronous = NORMAL", "PRAGMA busy_timeout = 5000", schema}) {
    if (auto failure = out->exec(setup)) {
      error = "cannot set up " + path + ": " + *failure;
      return nullptr;
    }
  }
  const std::string insert_sql =
    std::string("INSERT OR IGNORE INTO changes (") + columns
    + ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)";
  if (sqlite3_prepare_v2(db, insert_sql.c_str(), -1, &out->insert_, nullptr) != SQLITE_OK) {
    error = error_of(db, "cannot prepare the history insert");
    return nullptr;
  }
  return out;
}

history_db::history_db(sqlite3* db) : db_(db) {}

history_db::~history_db() {
  if (in_transaction_)
    commit();
  sqlite3_finalize(insert_);
  sqlite3_close(db_);
}

std::optional<std::string> history_db::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : sqlite3_errmsg(db_);
    sqlite3_free(message);
    return text;
  }
  return std::nullopt;
}

std::optional<std::string> history_db::begin() {
  if (in_transaction_)
    return std::nullopt;
  if (auto failure = exec("BEGIN"))
    return failure;
  in_transaction_ = true;
  return std::nullopt;
}

std::optional<std::string> history_db::insert(const std::vector<domain_change>& changes) {
  if (auto failure = begin())
    return failure;
  for (const auto& c : changes) {
    sqlite3_reset(insert_);
    sqlite3_bind_int64(insert_, 1, static_cast<std::int64_t>(c.id));
    sqlite3_bind_text(insert_, 2, c.app.data(), static_cast<int>(c.app.size()), SQLITE_STATIC);
    sqlite3_bind_text(insert_, 3, c.domain.data(), static_cast<int>(c.domain.size()),
                      SQLITE_STATIC);
    sqlite3_bind_int(insert_, 4, static_cast<int>(c.before.status));
    sqlite3_bind_int(insert_, 5, static_cast<int>(c.after.status));
    bind_optional_text(insert_, 6, c.after.job_id);
    bind_optional_text(insert_, 7, c.after.message);
    if (c.after.updated)
      sqlite3_bind_int64(insert_, 8, to_ms(*c.after.updated));
    else
      sqlite3_bind_null(insert_, 8);
    sqlite3_bind_int64(insert_, 9, to_ms(c.received));
    if (c.after.duration_sec)
      sqlite3_bind_int64(insert_, 10, *c.after.duration_sec);
    else
      sqlite3_bind_null(insert_, 10);
    sqlite3_bind_int(insert_, 11, static_cast<int>(c.after.source));
    bind_optional_text(insert_, 12, c.key_name);
    if (sqlite3_step(insert_) != SQLITE_DONE) {
      auto failure = error_of(db_, "history insert failed");
      sqlite3_reset(insert_);
      return failure;
    }
  }
  sqlite3_reset(insert_);
  return std::nullopt;
}

std::optional<std::string> history_db::commit() {
  if (!in_transaction_)
    return std::nullopt;
  if (auto failure = exec("COMMIT")) {
    // A failed COMMIT may leave the transaction open (SQLITE_BUSY, a full
    // disk): roll it back so that the caller's retry starts clean.
    exec("ROLLBACK");
    in_transaction_ = false;
    return failure;
  }
  in_transaction_ = false;
  return std::nullopt;
}

std::optional<std::string> history_db::make_durable() {
  if (auto failure = commit())
    return failure;
  // FULL waits for nothing here (one connection) and fsyncs the WAL and then
  // the database file; "1" in its first column would mean it could not run.
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA wal_checkpoint(FULL)", -1, &stmt, nullptr) != SQLITE_OK)
    return error_of(db_, "history checkpoint failed");
  std::optional<std::string> failure;
  if (sqlite3_step(stmt) != SQLITE_ROW)
    failure = error_of(db_, "history checkpoint failed");
  else if (sqlite3_column_int(stmt, 0) != 0)
    failure = "history checkpoint could not complete (database busy)";
  sqlite3_finalize(stmt);
  return failure;
}

std::uint64_t history_db::highest_id() {
  return static_cast<std::uint64_t>(single_int(db_, "SELECT max(id) FROM changes", {}, 0));
}

std::uint64_t history_db::count() {
  return static_cast<std::uint64_t>(single_int(db_, "SELECT count(*) FROM changes", {}, 0));
}

std::uint64_t history_db::used_bytes() {
  auto pages = single_int(db_, "PRAGMA page_count", {}, 0);
  auto free_pages = single_int(db_, "PRAGMA freelist_count", {}, 0);
  auto page_size = single_int(db_, "PRAGMA page_size", {}, 4096);
  return static_cast<std::uint64_t>(std::max<std::int64_t>(pages - free_pages, 0) * page_size);
}

history_page history_db::query(const history_query& q) {
  history_page page;
  bindings p;
  std::string where = "1";
  const bool ascending = q.after_id.has_value();
  if (q.since) {
    auto lo = first_id_since(db_, *q.since);
    if (lo < 0)
      return page;
    where += " AND id >= " + p.add(lo) + " AND received_ms >= " + p.add(to_ms(*q.since));
  }
  if (q.until) {
    auto hi = last_id_until(db_, *q.until);
    if (hi < 0)
      return page;
    where += " AND id <= " + p.add(hi) + " AND received_ms <= " + p.add(to_ms(*q.until));
  }
  if (q.before_id)
    where += " AND id < " + p.add(static_cast<std::int64_t>(*q.before_id));
  if (q.after_id)
    where += " AND id > " + p.add(static_cast<std::int64_t>(*q.after_id));
  if (q.app)
    where += " AND app = " + p.add(*q.app);
  if (q.domain)
    where += " AND domain = " + p.add(*q.domain);
  if (q.job_id)
    where += " AND job_id = " + p.add(*q.job_id);
  if (q.status)
    where += " AND status = " + p.add(static_cast<std::int64_t>(*q.status));
  const auto limit = std::max<std::size_t>(q.limit, 1);
  // One more than asked tells whether another page follows.
  const std::string sql = std::string("SELECT ") + columns + " FROM changes WHERE " + where
                          + " ORDER BY id " + (ascending ? "ASC" : "DESC") + " LIMIT "
                          + p.add(static_cast<std::int64_t>(limit + 1));
  statement stmt{db_, sql};
  if (!stmt)
    return page;
  p.bind(stmt.get());
  while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
    if (page.entries.size() == limit) {
      page.next = page.entries.back().id;
      break;
    }
    page.entries.push_back(change_of(stmt.get()));
  }
  return page;
}

stats_result history_db::stats(const stats_query& q) {
  stats_result out;
  out.days = q.days;
  const auto since = q.now - std::chrono::hours(24) * q.days;
  auto lo = first_id_since(db_, since);
  if (lo < 0)
    return out;
  bindings p;
  std::string sql = "SELECT app, domain, status, duration_sec, received_ms FROM changes WHERE id >= "
                    + p.add(lo) + " AND received_ms >= " + p.add(to_ms(since))
                    + " AND status IN (2, 3)";
  if (q.app)
    sql += " AND app = " + p.add(*q.app);
  if (q.domain)
    sql += " AND domain = " + p.add(*q.domain);
  sql += " ORDER BY id";
  statement stmt{db_, sql};
  if (!stmt)
    return out;
  p.bind(stmt.get());
  struct runs_of_domain {
    domain_stats stats;
    std::vector<std::int64_t> durations;
    std::map<std::string, std::pair<std::uint64_t, std::vector<std::int64_t>>> days;
  };
  std::map<std::pair<std::string, std::string>, runs_of_domain> by_domain;
  while (sqlite3_step(stmt.get()) == SQLITE_ROW) {
    auto app = *optional_text(stmt.get(), 0);
    auto domain = *optional_text(stmt.get(), 1);
    auto& d = by_domain[{app, domain}];
    if (d.stats.app.empty()) {
      d.stats.app = app;
      d.stats.domain = domain;
    }
    auto status = status_of(sqlite3_column_int64(stmt.get(), 2));
    auto duration = optional_int(stmt.get(), 3);
    auto received = from_ms(sqlite3_column_int64(stmt.get(), 4));
    ++d.stats.runs;
    if (status == job_status::ok)
      ++d.stats.successes;
    else
      ++d.stats.warnings;
    if (!d.stats.last_run || received > *d.stats.last_run)
      d.stats.last_run = received;
    auto& day = d.days[format_time(received).substr(0, 10)];
    ++day.first;
    if (duration) {
      d.durations.push_back(*duration);
      day.second.push_back(*duration);
    }
  }
  for (auto& [key, d] : by_domain) {
    std::sort(d.durations.begin(), d.durations.end());
    d.stats.median_duration_sec = median(d.durations);
    d.stats.p95_duration_sec = percentile(d.durations, 0.95);
    for (auto& [day, runs] : d.days)
      d.stats.trend.push_back({day, runs.first, median(std::move(runs.second))});
    out.domains.push_back(std::move(d.stats));
  }
  return out;
}

std::uint64_t history_db::prune(time_point oldest_kept, std::uint64_t max_bytes) {
  commit();
  std::uint64_t deleted = 0;
  {
    bindings p;
    statement stmt{db_, "DELETE FROM changes WHERE received_ms < " + p.add(to_ms(oldest_kept))};
    if (stmt) {
      p.bind(stmt.get());
      if (sqlite3_step(stmt.get()) == SQLITE_DONE)
        deleted += static_cast<std::uint64_t>(sqlite3_changes(db_));
    }
  }
  // Over the size bound: delete the oldest changes, sized from the average
  // row, until it fits with a tenth to spare (so one prune covers a while).
  for (int round = 0; max_bytes > 0 && round < 8; ++round) {
    auto used = used_bytes();
    auto rows = count();
    if (used <= max_bytes || rows == 0)
      break;
    const auto target = max_bytes - max_bytes / 10;
    const auto per_row = std::max<std::uint64_t>(used / rows, 1);
    const auto excess = (used - target + per_row - 1) / per_row;
    bindings p;
    statement stmt{db_, "DELETE FROM changes WHERE id IN (SELECT id FROM changes ORDER BY id LIMIT "
                          + p.add(static_cast<std::int64_t>(std::min(excess, rows))) + ")"};
    if (!stmt)
      break;
    p.bind(stmt.get());
    if (sqlite3_step(stmt.get()) != SQLITE_DONE)
      break;
    deleted += static_cast<std::uint64_t>(sqlite3_changes(db_));
  }
  if (deleted > 0)
    exec("PRAGMA incremental_vacuum");
  return deleted;
}

} // namespace epmpulse
