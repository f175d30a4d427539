#include "actors/state/pg_store.hpp"

#include <nlohmann/json.hpp>

#include "actors/common/log.hpp"

namespace epmpulse {

using nlohmann::json;

namespace {

// Generated from actors/state/migrations/*.sql by CMake.
const std::vector<pg_migration> migrations{
#include "pg_migrations.inc"
};

// The advisory lock keys (two-int form): the migrations' session lock. The
// commit function takes (4242, 1) per transaction; the leader election
// holds (4242, 2).
constexpr const char* migration_lock = "4242, 0";

// Times are exchanged as RFC 3339 text going in and epoch milliseconds
// coming out: both exact to the millisecond the service keeps.
std::string millis(const char* column) {
  return std::string{"(extract(epoch FROM "} + column + ") * 1000)::bigint";
}

json optional_json(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

json time_json(const std::optional<time_point>& t) {
  return t ? json(format_time(*t)) : json(nullptr);
}

std::string rollback_after(pg_connection& conn, std::string error) {
  conn.exec("ROLLBACK");
  return error;
}

domain_state domain_of_row(const pg_result& r, int row, int status_col) {
  // status, job_id, message, updated, started, duration, source
  domain_state d;
  d.status = parse_status(r.text(row, status_col)).value_or(job_status::blank);
  d.job_id = r.optional_text(row, status_col + 1);
  d.message = r.optional_text(row, status_col + 2);
  d.updated = pg_time_of(r, row, status_col + 3);
  d.started = pg_time_of(r, row, status_col + 4);
  d.duration_sec = r.optional_integer(row, status_col + 5);
  d.source = parse_source(r.text(row, status_col + 6)).value_or(update_source::system);
  return d;
}

std::optional<pg_loaded_state> read_state(pg_connection& conn, std::size_t jobs_limit,
                                          std::string& error) {
  auto fail = [&](const pg_result& r) -> std::optional<pg_loaded_state> {
    error = r.error();
    conn.exec("ROLLBACK");
    return std::nullopt;
  };
  // One snapshot of the database: the domains hold exactly the changes up to
  // the highest id read with them (commits become visible in id order).
  if (auto r = conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"); !r.ok())
    return fail(r);
  pg_loaded_state out;
  auto last = conn.exec("SELECT coalesce(max(id), 0) FROM epm_status_audit");
  if (!last.ok())
    return fail(last);
  out.last_change_id = static_cast<std::uint64_t>(last.integer(0, 0));
  auto created = conn.exec("SELECT " + millis("created_at") + " FROM epm_state");
  if (!created.ok())
    return fail(created);
  if (created.rows() > 0)
    out.snapshot.created = pg_time_of(created, 0, 0).value_or(now_ms());
  auto rows = conn.exec("SELECT app_name, domain_name, status, job_id, message, "
                        + millis("updated_at") + ", " + millis("started_at")
                        + ", duration_sec, source FROM epm_status ORDER BY app_name, domain_name");
  if (!rows.ok())
    return fail(rows);
  for (int i = 0; i < rows.rows(); ++i) {
    auto d = domain_of_row(rows, i, 2);
    if (d.updated && (!out.snapshot.last_updated || *d.updated > *out.snapshot.last_updated))
      out.snapshot.last_updated = d.updated;
    std::string app{rows.text(i, 0)};
    auto& state = out.snapshot.apps[app];
    if (state.display_name.empty())
      state.display_name = app;
    state.domains[std::string{rows.text(i, 1)}] = std::move(d);
  }
  auto jobs = conn.exec("SELECT job_id, array_to_json(apps_affected)::text, status, "
                        + millis("started_at") + ", " + millis("completed_at")
                        + " FROM epm_job_history ORDER BY updated_at DESC, job_id LIMIT "
                        + std::to_string(jobs_limit));
  if (!jobs.ok())
    return fail(jobs);
  for (int i = 0; i < jobs.rows(); ++i) {
    recent_job j;
    j.job_id = std::string{jobs.text(i, 0)};
    auto apps = json::parse(jobs.text(i, 1), nullptr, false);
    if (apps.is_array())
      for (const auto& a : apps)
        if (a.is_string())
          j.apps.push_back(a.get<std::string>());
    j.status = parse_status(jobs.text(i, 2)).value_or(job_status::loading);
    j.started = pg_time_of(jobs, i, 3);
    j.completed = pg_time_of(jobs, i, 4);
    out.snapshot.recent_jobs.push_back(std::move(j));
  }
  if (auto r = conn.exec("COMMIT"); !r.ok())
    return fail(r);
  return out;
}

} // namespace

const std::vector<pg_migration>& pg_migrations() {
  return migrations;
}

std::string migrate_schema(pg_connection& conn) {
  if (auto r = conn.exec(std::string{"SELECT pg_advisory_lock("} + migration_lock + ")"); !r.ok())
    return r.error();
  auto unlock = [&conn] {
    conn.exec(std::string{"SELECT pg_advisory_unlock("} + migration_lock + ")");
  };
  auto table = conn.exec("CREATE TABLE IF NOT EXISTS epm_schema_version ("
                         "version int PRIMARY KEY, name text NOT NULL, "
                         "applied_at timestamptz NOT NULL DEFAULT now())");
  if (!table.ok()) {
    unlock();
    return table.error();
  }
  auto current = conn.exec("SELECT coalesce(max(version), 0) FROM epm_schema_version");
  if (!current.ok()) {
    unlock();
    return current.error();
  }
  auto have = current.integer(0, 0);
  if (have > migrations.back().version) {
    unlock();
    return "the database's schema version " + std::to_string(have)
           + " is newer than this binary knows (" + std::to_string(migrations.back().version)
           + "): run the newer binary, or export with it and import into an empty database";
  }
  for (const auto& m : migrations) {
    if (m.version <= have)
      continue;
    auto applied = conn.exec(std::string{"BEGIN;\n"} + m.sql
                             + "\nINSERT INTO epm_schema_version (version, name) VALUES ("
                             + std::to_string(m.version) + ", " + pg_quote_literal(m.name)
                             + ");\nCOMMIT;");
    if (!applied.ok()) {
      auto why = rollback_after(conn, std::string{"migration "} + m.name + ": " + applied.error());
      unlock();
      return why;
    }
    log::info("database schema migrated", {{"version", m.version}, {"name", m.name}});
  }
  unlock();
  return {};
}

std::optional<pg_loaded_state> load_state(pg_connection& conn, const config::service_config& cfg,
                                          std::string& error) {
  json seed = json::array();
  for (const auto& app : cfg.apps)
    for (const auto& d : app.domains)
      seed.push_back({{"app", app.name}, {"domain", d}});
  auto seeded = conn.exec_prepared(
    "epm_seed",
    "INSERT INTO epm_status (app_name, domain_name, status) SELECT app, domain, 'Blank' "
    "FROM jsonb_to_recordset($1::jsonb) AS s(app text, domain text) "
    "ON CONFLICT (app_name, domain_name) DO NOTHING",
    {seed.dump()});
  if (!seeded.ok()) {
    error = seeded.error();
    return std::nullopt;
  }
  auto loaded = read_state(conn, static_cast<std::size_t>(cfg.settings.recent_jobs_limit), error);
  if (loaded)
    reconcile_with_config(loaded->snapshot, cfg);
  return loaded;
}

std::string commit_changes(pg_connection& conn, const commit_batch& batch,
                           commit_receipt& receipt) {
  json changes = json::array();
  int ord = 0;
  for (const auto& c : batch.changes) {
    changes.push_back({{"ord", ord++},
                       {"app", c.app},
                       {"domain", c.domain},
                       {"old_status", to_string(c.old_status)},
                       {"status", to_string(c.after.status)},
                       {"job_id", optional_json(c.after.job_id)},
                       {"message", optional_json(c.after.message)},
                       {"event_time", time_json(c.after.updated.value_or(c.received))},
                       {"received_time", format_time(c.received)},
                       {"started_at", time_json(c.after.started)},
                       {"duration_sec",
                        c.after.duration_sec ? json(*c.after.duration_sec) : json(nullptr)},
                       {"source", to_string(c.after.source)},
                       {"key_name", optional_json(c.key_name)}});
  }
  json jobs = json::array();
  for (const auto& j : batch.jobs)
    jobs.push_back({{"job_id", j.job_id},
                    {"apps", j.apps},
                    {"status", to_string(j.status)},
                    {"started_at", time_json(j.started)},
                    {"completed_at", time_json(j.completed)}});
  auto r = conn.exec_prepared("epm_commit", "SELECT ord, id FROM epm_commit($1::jsonb, $2::jsonb)",
                              {changes.dump(), jobs.dump()});
  if (!r.ok())
    return r.error();
  receipt.ids.assign(batch.changes.size(), 0);
  for (int i = 0; i < r.rows(); ++i) {
    auto at = static_cast<std::size_t>(r.integer(i, 0));
    if (at < receipt.ids.size())
      receipt.ids[at] = static_cast<std::uint64_t>(r.integer(i, 1));
  }
  return {};
}

std::optional<std::vector<stored_change>> read_changes_after(pg_connection& conn,
                                                             std::uint64_t after, int limit,
                                                             std::string& error) {
  static const std::string sql =
    "SELECT id, app_name, domain_name, old_status, new_status, job_id, message, "
    + millis("event_time") + ", " + millis("started_at") + ", duration_sec, source, "
    + millis("received_time")
    + ", key_name FROM epm_status_audit WHERE id > $1 ORDER BY id LIMIT $2";
  auto r = conn.exec_prepared("epm_changes_after", sql,
                              {std::to_string(after), std::to_string(limit)});
  if (!r.ok()) {
    error = r.error();
    return std::nullopt;
  }
  std::vector<stored_change> out;
  out.reserve(static_cast<std::size_t>(r.rows()));
  for (int i = 0; i < r.rows(); ++i) {
    stored_change c;
    c.id = static_cast<std::uint64_t>(r.integer(i, 0));
    c.app = std::string{r.text(i, 1)};
    c.domain = std::string{r.text(i, 2)};
    if (!r.is_null(i, 3))
      c.old_status = parse_status(r.text(i, 3));
    c.after = domain_of_row(r, i, 4);
    c.received = pg_time_of(r, i, 11).value_or(time_point{});
    c.key_name = r.optional_text(i, 12);
    out.push_back(std::move(c));
  }
  return out;
}

std::string import_state(pg_connection& conn, const status_snapshot& snap) {
  auto existing = conn.exec("SELECT count(*) FROM epm_status_audit");
  if (!existing.ok())
    return existing.error();
  if (existing.integer(0, 0) > 0)
    return "the database already holds " + std::string{existing.text(0, 0)}
           + " changes: import into an empty database only (drop and recreate it, or "
             "export it first)";
  if (auto r = conn.exec("BEGIN"); !r.ok())
    return r.error();
  auto created = conn.exec_prepared("epm_import_created", "UPDATE epm_state SET created_at = $1",
                                    {format_time(snap.created)});
  if (!created.ok())
    return rollback_after(conn, created.error());
  for (const auto& [app, state] : snap.apps) {
    for (const auto& [domain, d] : state.domains) {
      auto row = conn.exec_prepared(
        "epm_import_status",
        "INSERT INTO epm_status (app_name, domain_name, status, job_id, message, updated_at, "
        "started_at, duration_sec, source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
        "ON CONFLICT (app_name, domain_name) DO UPDATE SET status = EXCLUDED.status, "
        "job_id = EXCLUDED.job_id, message = EXCLUDED.message, updated_at = EXCLUDED.updated_at, "
        "started_at = EXCLUDED.started_at, duration_sec = EXCLUDED.duration_sec, "
        "source = EXCLUDED.source",
        {app, domain, std::string{to_string(d.status)}, d.job_id, d.message, pg_time(d.updated),
         pg_time(d.started),
         d.duration_sec ? std::optional{std::to_string(*d.duration_sec)} : std::nullopt,
         std::string{to_string(d.source)}});
      if (!row.ok())
        return rollback_after(conn, row.error());
      if (!d.updated)
        continue;
      // The JSON state keeps no history: each domain's current state becomes
      // its first change, so other instances and the history start from it.
      auto audit = conn.exec_prepared(
        "epm_import_audit",
        "INSERT INTO epm_status_audit (id, app_name, domain_name, old_status, new_status, "
        "job_id, message, event_time, received_time, started_at, duration_sec, source, "
        "changed_by) VALUES (nextval('epm_change_id'), $1, $2, NULL, $3, $4, $5, $6, $6, $7, $8, "
        "$9, 'import')",
        {app, domain, std::string{to_string(d.status)}, d.job_id, d.message, pg_time(d.updated),
         pg_time(d.started),
         d.duration_sec ? std::optional{std::to_string(*d.duration_sec)} : std::nullopt,
         std::string{to_string(d.source)}});
      if (!audit.ok())
        return rollback_after(conn, audit.error());
    }
  }
  for (const auto& j : snap.recent_jobs) {
    json apps = j.apps;
    auto job = conn.exec_prepared(
      "epm_import_job",
      "INSERT INTO epm_job_history (job_id, apps_affected, status, started_at, completed_at, "
      "updated_at) SELECT $1, ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), $3, $4, $5, "
      "coalesce($5::timestamptz, $4::timestamptz, now()) ON CONFLICT (job_id) DO NOTHING",
      {j.job_id, apps.dump(), std::string{to_string(j.status)}, pg_time(j.started),
       pg_time(j.completed)});
    if (!job.ok())
      return rollback_after(conn, job.error());
  }
  if (auto r = conn.exec("COMMIT"); !r.ok())
    return rollback_after(conn, r.error());
  return {};
}

std::optional<status_snapshot> export_state(pg_connection& conn, std::string& error) {
  auto loaded = read_state(conn, 10'000, error);
  if (!loaded)
    return std::nullopt;
  return std::move(loaded->snapshot);
}

} // namespace epmpulse
