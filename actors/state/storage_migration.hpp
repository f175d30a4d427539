#pragma once

// `epmpulse migrate`: a JSON data dir (state file replayed with its change
// logs) into an empty PostgreSQL database, and a database's state back into
// the JSON layout for a downgrade. Blocking; run by the command line only,
// never inside the service.

#include <string>

#include "actors/common/pg_connection.hpp"

namespace epmpulse {

/// Imports `data_dir` into the database at `target` (migrating its schema
/// first). Returns "" on success, else what went wrong (never the URL).
std::string import_json_dir(const std::string& data_dir, const pg_target& target,
                            std::string& summary);

/// Writes the database's state as `data_dir`/apps_status.json (mode 0600);
/// refuses a data dir that already holds a state file.
std::string export_to_json_dir(const pg_target& target, const std::string& data_dir,
                               std::string& summary);

} // namespace epmpulse
