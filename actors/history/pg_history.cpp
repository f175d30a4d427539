#include "actors/history/pg_history.hpp"

#include <algorithm>
#include <deque>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/common/errors.hpp"
#include "actors/common/log.hpp"
#include "actors/history/history_stats.hpp"

namespace epmpulse {

// Named, not anonymous: the unity build puts this file beside others with
// helpers of the same names.
namespace pg_history_impl {

constexpr auto prune_interval = std::chrono::minutes(10);
constexpr auto alert_retry_delay = std::chrono::seconds(1);

std::string millis(const char* column) {
  return std::string{"(extract(epoch FROM "} + column + ") * 1000)::bigint";
}

const std::string& change_columns() {
  static const std::string columns =
    "id, app_name, domain_name, old_status, new_status, job_id, message, " + millis("event_time")
    + ", " + millis("received_time") + ", duration_sec, source, key_name";
  return columns;
}

// Statement parameters collected while a query's text is built; the
// statement is prepared once per shape (which filters are on).
struct statement_builder {
  pg_params params;
  std::string shape;

  std::string add(std::string value, char tag) {
    params.emplace_back(std::move(value));
    shape += tag;
    return "$" + std::to_string(params.size());
  }
};

domain_change change_of(const pg_result& r, int i) {
  domain_change c;
  c.id = static_cast<std::uint64_t>(r.integer(i, 0));
  c.app = std::string{r.text(i, 1)};
  c.domain = std::string{r.text(i, 2)};
  if (!r.is_null(i, 3))
    c.before.status = parse_status(r.text(i, 3)).value_or(job_status::blank);
  c.after.status = parse_status(r.text(i, 4)).value_or(job_status::blank);
  c.after.job_id = r.optional_text(i, 5);
  c.after.message = r.optional_text(i, 6);
  c.after.updated = pg_time_of(r, i, 7);
  c.received = pg_time_of(r, i, 8).value_or(time_point{});
  c.after.duration_sec = r.optional_integer(i, 9);
  c.after.source = parse_source(r.text(i, 10)).value_or(update_source::system);
  c.key_name = r.optional_text(i, 11);
  return c;
}

struct pg_history_state {
  static inline constexpr const char* name = "pg_history";
  std::unique_ptr<pg_connection> conn;
  pg_history_options opts;
  bool leader = false;
  std::deque<alert_history_entry> unstored_alerts;
  bool alert_retry_scheduled = false;
  bool down_logged = false;
};

using pg_history_ptr = history_store_actor::stateful_pointer<pg_history_state>;

// Runs a prepared statement, connecting first when needed and once more
// when the session broke under it.
pg_result run(pg_history_ptr self, const std::string& name, const std::string& sql,
              const pg_params& params) {
  auto& st = self->state;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (!st.conn->usable()) {
      if (auto failure = st.conn->connect(); !failure.empty()) {
        if (!st.down_logged)
          log::warn("history database unreachable", {{"reason", failure}});
        st.down_logged = true;
        return pg_result{nullptr, failure};
      }
    }
    auto r = st.conn->exec_prepared(name, sql, params);
    if (r.ok()) {
      if (st.down_logged)
        log::info("history database reachable again");
      st.down_logged = false;
      return r;
    }
    if (st.conn->usable())
      return r; // the statement failed, not the session
    st.conn->close();
  }
  return pg_result{nullptr, "the history database connection broke"};
}

caf::error unavailable(const pg_result& r) {
  log::warn("history query failed", {{"reason", r.error()}});
  return caf::make_error(ec::unavailable, "The history cannot be read; retry later.");
}

caf::result<history_page> query(pg_history_ptr self, const history_query& q) {
  statement_builder b;
  std::string where = "true";
  const bool ascending = q.after_id.has_value();
  if (q.since)
    where += " AND received_time >= " + b.add(format_time(*q.since), 's') + "::timestamptz";
  if (q.until)
    where += " AND received_time <= " + b.add(format_time(*q.until), 'u') + "::timestamptz";
  if (q.before_id)
    where += " AND id < " + b.add(std::to_string(*q.before_id), 'b') + "::bigint";
  if (q.after_id)
    where += " AND id > " + b.add(std::to_string(*q.after_id), 'a') + "::bigint";
  if (q.app)
    where += " AND app_name = " + b.add(*q.app, 'p');
  if (q.domain)
    where += " AND domain_name = " + b.add(*q.domain, 'd');
  if (q.job_id)
    where += " AND job_id = " + b.add(*q.job_id, 'j');
  if (q.status)
    where += " AND new_status = " + b.add(std::string{to_string(*q.status)}, 't');
  const auto limit = std::max<std::size_t>(q.limit, 1);
  // One more than asked tells whether another page follows.
  auto sql = "SELECT " + change_columns() + " FROM epm_status_audit WHERE " + where
             + " ORDER BY id " + (ascending ? "ASC" : "DESC") + " LIMIT "
             + b.add(std::to_string(limit + 1), 'l') + "::bigint";
  auto r = run(self, "epm_history_" + b.shape + (ascending ? "_asc" : "_desc"), sql, b.params);
  if (!r.ok())
    return unavailable(r);
  history_page page;
  for (int i = 0; i < r.rows(); ++i) {
    if (page.entries.size() == limit) {
      page.next = page.entries.back().id;
      break;
    }
    page.entries.push_back(change_of(r, i));
  }
  return page;
}

caf::result<stats_result> stats(pg_history_ptr self, const stats_query& q) {
  statement_builder b;
  const auto since = q.now - std::chrono::hours(24) * q.days;
  std::string sql = "SELECT app_name, domain_name, new_status, duration_sec, "
                    + millis("received_time") + " FROM epm_status_audit WHERE received_time >= "
                    + b.add(format_time(since), 's')
                    + "::timestamptz AND new_status IN ('OK', 'Warning')";
  if (q.app)
    sql += " AND app_name = " + b.add(*q.app, 'p');
  if (q.domain)
    sql += " AND domain_name = " + b.add(*q.domain, 'd');
  sql += " ORDER BY id";
  auto r = run(self, "epm_stats_" + b.shape, sql, b.params);
  if (!r.ok())
    return unavailable(r);
  run_aggregator runs;
  for (int i = 0; i < r.rows(); ++i)
    runs.add(std::string{r.text(i, 0)}, std::string{r.text(i, 1)},
             parse_status(r.text(i, 2)).value_or(job_status::ok), r.optional_integer(i, 3),
             pg_time_of(r, i, 4).value_or(time_point{}));
  return runs.finish(q.days);
}

// Writes the alert events received; those that fail stay queued and are
// retried (the database may be down for a while).
void store_alerts(pg_history_ptr self) {
  auto& st = self->state;
  static const std::string sql =
    "INSERT INTO epm_alert_events (at, alert_id, app_name, domain_name, kind, event, target, "
    "channel, message, detail) VALUES ($1::timestamptz, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
  while (!st.unstored_alerts.empty()) {
    const auto& e = st.unstored_alerts.front();
    auto r = run(self, "epm_alert_event", sql,
                 {format_time(e.at), e.alert_id, e.app, e.domain, e.kind, e.event, e.target,
                  e.channel, e.message, e.detail});
    if (!r.ok()) {
      if (!st.alert_retry_scheduled) {
        st.alert_retry_scheduled = true;
        self->delayed_send(self, alert_retry_delay, commit_due_atom_v);
      }
      return;
    }
    st.unstored_alerts.pop_front();
  }
}

caf::result<alert_history_page> query_alerts(pg_history_ptr self, const alert_history_query& q) {
  store_alerts(self);
  statement_builder b;
  std::string where = "true";
  if (q.before_id)
    where += " AND id < " + b.add(std::to_string(*q.before_id), 'b') + "::bigint";
  if (q.since)
    where += " AND at >= " + b.add(format_time(*q.since), 's') + "::timestamptz";
  if (q.until)
    where += " AND at <= " + b.add(format_time(*q.until), 'u') + "::timestamptz";
  if (q.app)
    where += " AND app_name = " + b.add(*q.app, 'p');
  if (q.domain)
    where += " AND domain_name = " + b.add(*q.domain, 'd');
  if (q.alert_id)
    where += " AND alert_id = " + b.add(*q.alert_id, 'i');
  if (q.event)
    where += " AND event = " + b.add(*q.event, 'e');
  if (q.target)
    where += " AND target = " + b.add(*q.target, 't');
  const auto limit = std::max<std::size_t>(q.limit, 1);
  auto sql = "SELECT id, " + millis("at")
             + ", alert_id, app_name, domain_name, kind, event, target, channel, message, detail "
               "FROM epm_alert_events WHERE "
             + where + " ORDER BY id DESC LIMIT " + b.add(std::to_string(limit + 1), 'l')
             + "::bigint";
  auto r = run(self, "epm_alert_history_" + b.shape, sql, b.params);
  if (!r.ok())
    return unavailable(r);
  alert_history_page page;
  for (int i = 0; i < r.rows(); ++i) {
    if (page.entries.size() == limit) {
      page.next = page.entries.back().id;
      break;
    }
    alert_history_entry e;
    e.id = static_cast<std::uint64_t>(r.integer(i, 0));
    e.at = pg_time_of(r, i, 1).value_or(time_point{});
    e.alert_id = std::string{r.text(i, 2)};
    e.app = std::string{r.text(i, 3)};
    e.domain = std::string{r.text(i, 4)};
    e.kind = std::string{r.text(i, 5)};
    e.event = std::string{r.text(i, 6)};
    e.target = r.optional_text(i, 7);
    e.channel = r.optional_text(i, 8);
    e.message = r.optional_text(i, 9);
    e.detail = std::string{r.text(i, 10)};
    page.entries.push_back(std::move(e));
  }
  return page;
}

// Retention on the shared tables, by the leader alone. The newest audit row
// always stays: start-up and the listeners take the highest id from it.
void prune(pg_history_ptr self) {
  auto& st = self->state;
  auto oldest_kept = format_time(now_ms() - std::chrono::hours(24) * st.opts.retention_days);
  std::int64_t deleted = 0;
  auto by_age = run(self, "epm_prune_age",
                    "WITH gone AS (DELETE FROM epm_status_audit WHERE received_time < "
                    "$1::timestamptz AND id < (SELECT max(id) FROM epm_status_audit) "
                    "RETURNING 1) SELECT count(*) FROM gone",
                    {oldest_kept});
  if (by_age.ok())
    deleted += by_age.integer(0, 0);
  run(self, "epm_prune_alerts", "DELETE FROM epm_alert_events WHERE at < $1::timestamptz",
      {oldest_kept});
  if (st.opts.max_bytes > 0) {
    // The rows' data size, from the newest rows' average: deleted rows'
    // space is reused by the table, so the file size would not tell when
    // enough are gone. The oldest rows go until a tenth is to spare.
    auto by_size = run(
      self, "epm_prune_size",
      "WITH sizes AS (SELECT count(*) AS n, (SELECT avg(pg_column_size(a.*)) FROM "
      "(SELECT * FROM epm_status_audit ORDER BY id DESC LIMIT 1000) a) AS per_row "
      "FROM epm_status_audit), keep AS (SELECT greatest(1, floor($1::bigint * 0.9 / "
      "greatest(per_row, 1)))::bigint AS rows, n, per_row FROM sizes), cutoff AS ("
      "SELECT id FROM epm_status_audit ORDER BY id DESC OFFSET (SELECT rows FROM keep) - 1 "
      "LIMIT 1), gone AS (DELETE FROM epm_status_audit WHERE (SELECT n * per_row FROM keep) > "
      "$1::bigint AND id < (SELECT id FROM cutoff) RETURNING 1) SELECT count(*) FROM gone",
      {std::to_string(st.opts.max_bytes)});
    if (by_size.ok())
      deleted += by_size.integer(0, 0);
    else
      log::warn("history size bound not applied", {{"reason", by_size.error()}});
  }
  if (deleted > 0)
    log::info("history pruned", {{"deleted", deleted},
                                 {"retention_days", st.opts.retention_days},
                                 {"max_bytes", st.opts.max_bytes}});
}

history_store_actor::behavior_type pg_history(pg_history_ptr self, pg_history_options opts) {
  auto& st = self->state;
  st.conn = std::make_unique<pg_connection>(opts.target);
  st.opts = std::move(opts);
  return {
    [](changed_atom, const change_set&) {
      // Already in epm_status_audit: the commit function wrote it there.
    },
    [self](sync_atom) -> caf::result<std::uint64_t> {
      auto r = run(self, "epm_history_highest", "SELECT coalesce(max(id), 0) FROM epm_status_audit",
                   {});
      if (!r.ok())
        return caf::make_error(ec::state_error, "history not readable: " + r.error());
      return static_cast<std::uint64_t>(r.integer(0, 0));
    },
    [self](query_atom, const history_query& q) { return query(self, q); },
    [self](stats_atom, const stats_query& q) { return stats(self, q); },
    [self](alert_atom, alert_history_entry& e) {
      self->state.unstored_alerts.push_back(std::move(e));
      store_alerts(self);
    },
    [self](alert_atom, const alert_history_query& q) { return query_alerts(self, q); },
    [self](leader_atom, bool leader) {
      auto& st = self->state;
      bool became = leader && !st.leader;
      st.leader = leader;
      if (became)
        self->send(self, prune_due_atom_v);
    },
    [self](commit_due_atom) {
      self->state.alert_retry_scheduled = false;
      store_alerts(self);
    },
    [self](prune_due_atom) {
      auto& st = self->state;
      if (!st.leader)
        return; // the next leader starts its own round
      self->delayed_send(self, prune_interval, prune_due_atom_v);
      prune(self);
    },
  };
}

} // namespace pg_history_impl

history_store_actor spawn_pg_history(caf::actor_system& sys, pg_history_options opts) {
  return sys.spawn<caf::detached>(pg_history_impl::pg_history, std::move(opts));
}

} // namespace epmpulse
