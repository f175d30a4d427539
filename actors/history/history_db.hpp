#pragma once

// The history's store: every applied change in an SQLite database in the
// data dir (WAL mode), indexed so that the queries of GET /api/v1/history
// and /stats read a few pages instead of the whole table. Plain blocking
// code: the history actor (history_store) alone drives it, on its own
// thread; tests and the bench call it directly.
//
// Writes go into one open transaction; commit() makes them visible and
// safe from a crash of the process (WAL, synchronous=NORMAL: no fsync per
// commit), which the history actor does once per burst of change sets.
// make_durable() fsyncs (a full checkpoint), which the actor does whenever
// the state asks before it drops a change log: until then the log holds
// every change a power loss could take from the history, and start-up hands
// them over again. An fsync per burst here competed with the change log's
// own fdatasync on the push path.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/state/status_model.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace epmpulse {

/// What GET /api/v1/history asks for. Every member but `limit` is a filter
/// that is off when absent; times compare received time.
struct history_query {
  std::optional<std::string> app;
  std::optional<std::string> domain;
  std::optional<std::string> job_id;
  std::optional<job_status> status;
  std::optional<time_point> since;
  std::optional<time_point> until;
  std::size_t limit = 100;
  std::optional<std::uint64_t> before_id; ///< newest first, ids below this (a cursor)
  std::optional<std::uint64_t> after_id;  ///< oldest first, ids above this (a stream's resume)
};

/// One page of the answer.
struct history_page {
  std::vector<domain_change> entries;
  /// Newest first: the id to continue below; oldest first: the id to
  /// continue above; none when this was the last page.
  std::optional<std::uint64_t> next;
};

/// GET /api/v1/stats: runs of the last `days` days up to `now`.
struct stats_query {
  std::optional<std::string> app;
  std::optional<std::string> domain;
  int days = 30;
  time_point now{};
};

struct day_stats {
  std::string day; ///< "2026-12-01" (UTC)
  std::uint64_t runs = 0;
  std::optional<double> median_duration_sec;
};

struct domain_stats {
  std::string app;
  std::string domain;
  std::uint64_t runs = 0;      ///< changes into OK or Warning
  std::uint64_t successes = 0; ///< into OK
  std::uint64_t warnings = 0;  ///< into Warning
  std::optional<double> median_duration_sec;
  std::optional<double> p95_duration_sec;
  std::optional<time_point> last_run; ///< received time of the newest run
  std::vector<day_stats> trend;       ///< one per day that had runs, oldest first
};

struct stats_result {
  int days = 30;
  std::vector<domain_stats> domains; ///< by app, then domain
};

class history_db {
public:
  /// Opens (creating) the database at `path` with mode 0600; null with
  /// `error` set when it cannot.
  static std::unique_ptr<history_db> open(const std::string& path, std::string& error);
  ~history_db();
  history_db(const history_db&) = delete;
  history_db& operator=(const history_db&) = delete;

  /// Adds the changes to the open transaction; a change whose id is stored
  /// already is skipped (start-up may hand over what a crash left unsure).
  /// The error text when the write failed.
  std::optional<std::string> insert(const std::vector<domain_change>& changes);

  /// Commits the open transaction (not yet fsync'd); the error text when it
  /// failed.
  std::optional<std::string> commit();

  /// Commits and fsyncs everything committed so far (survives a power
  /// loss); the error text when it failed.
  std::optional<std::string> make_durable();

  /// True while inserts wait for commit().
  bool uncommitted() const { return in_transaction_; }

  /// The highest change id stored (0 when empty), uncommitted ones included.
  std::uint64_t highest_id();

  history_page query(const history_query& q);

  stats_result stats(const stats_query& q);

  /// Deletes changes received before `oldest_kept`, then the oldest ones
  /// until the database uses at most `max_bytes` (0: no size bound).
  /// Commits; returns how many were deleted.
  std::uint64_t prune(time_point oldest_kept, std::uint64_t max_bytes);

  /// Bytes the stored changes take (pages in use times page size).
  std::uint64_t used_bytes();

  /// How many changes are stored.
  std::uint64_t count();

private:
  explicit history_db(sqlite3* db);
  std::optional<std::string> exec(const char* sql);
  std::optional<std::string> begin();

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  bool in_transaction_ = false;
};

/// File name of the history inside the data dir.
inline constexpr const char* history_file_name = "history.sqlite3";

} // namespace epmpulse
