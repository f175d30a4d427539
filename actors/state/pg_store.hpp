#pragma once

// The state in PostgreSQL (settings.storage.kind "postgres"): the schema's
// migrations, the start-up load, one group commit, reading the changes other
// instances committed, and the import and export of the JSON layout. Plain
// functions over a blocking connection: start-up and the migrate command call
// them directly, the detached database actors (pg_writer, pg_listener) call
// them off the shared workers. docs/database.md describes the schema.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/common/pg_connection.hpp"
#include "actors/state/status_model.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// One applied change as the database holds it (a row of epm_status_audit).
struct stored_change {
  std::uint64_t id = 0; ///< the change id
  std::string app;
  std::string domain;
  std::optional<job_status> old_status;
  domain_state after;    ///< after.updated is the event time
  time_point received{};
  std::optional<std::string> key_name;
};

/// What one group commit writes: the group's applied changes in apply order
/// and the recent jobs they touched.
struct commit_batch {
  struct change {
    std::string app;
    std::string domain;
    job_status old_status = job_status::blank;
    domain_state after;
    time_point received{};
    std::optional<std::string> key_name; ///< the pushing key's name (the history shows it)
  };
  std::vector<change> changes;
  std::vector<recent_job> jobs;
};

/// The change id each change of a batch got, in the batch's order; 0 for a
/// change the event-time rule refused (another instance wrote a newer one).
struct commit_receipt {
  std::vector<std::uint64_t> ids;
};

/// The numbered migrations compiled into the binary (actors/state/migrations).
struct pg_migration {
  int version;
  const char* name;
  const char* sql;
};
const std::vector<pg_migration>& pg_migrations();

/// Applies the migrations the database lacks, each in its own transaction,
/// under a session advisory lock (instances starting together apply each
/// once), recording each in epm_schema_version. "" on success, else why not.
std::string migrate_schema(pg_connection& conn);

/// The state as start-up loads it, and the highest change id it includes.
struct pg_loaded_state {
  status_snapshot snapshot;
  std::uint64_t last_change_id = 0;
};

/// Adds the configured apps' domains the database lacks (as Blank) and loads
/// the whole state in one consistent read.
std::optional<pg_loaded_state> load_state(pg_connection& conn, const config::service_config& cfg,
                                          std::string& error);

/// Commits `batch` in one transaction (one round trip: the epm_commit
/// function). "" on success, else why not (nothing of the batch is written).
std::string commit_changes(pg_connection& conn, const commit_batch& batch,
                           commit_receipt& receipt);

/// The changes with an id above `after`, oldest first, at most `limit`.
std::optional<std::vector<stored_change>> read_changes_after(pg_connection& conn,
                                                             std::uint64_t after, int limit,
                                                             std::string& error);

/// Imports a JSON state (its file replayed with its change log) into an
/// empty database: the domains, the recent jobs, and one audit row per
/// domain that was ever updated. Refuses a database that already holds
/// changes. "" on success.
std::string import_state(pg_connection& conn, const status_snapshot& snap);

/// The database's state as a snapshot (for the export to the JSON layout).
std::optional<status_snapshot> export_state(pg_connection& conn, std::string& error);

/// The channel the commit function notifies.
inline constexpr const char* change_channel = "epm_changes";

} // namespace epmpulse
