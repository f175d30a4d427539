#include "actors/state/storage_migration.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "actors/state/pg_store.hpp"
#include "actors/state/state_log.hpp"
#include "actors/state/state_store.hpp"

namespace epmpulse {

namespace fs = std::filesystem;

namespace {

std::optional<std::string> read_whole(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::size_t domain_count(const status_snapshot& snap) {
  std::size_t n = 0;
  for (const auto& [name, app] : snap.apps)
    n += app.domains.size();
  return n;
}

} // namespace

std::string import_json_dir(const std::string& data_dir, const pg_target& target,
                            std::string& summary) {
  const fs::path dir = data_dir;
  auto text = read_whole(dir / state_file_name);
  if (!text)
    return "cannot read " + (dir / state_file_name).string();
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded())
    return (dir / state_file_name).string() + " is not JSON";
  std::string error;
  auto snap = snapshot_from_json(doc, error);
  if (!snap)
    return (dir / state_file_name).string() + ": " + error;
  // The logs hold what the snapshot does not yet: replayed as start-up does
  // (the records were clamped when they were logged, so no skew applies).
  merge_settings replaying{std::chrono::hours(24 * 366), snap->recent_jobs.size() + 50};
  auto position = snapshot_log_seq(doc);
  std::size_t skipped = 0;
  for (const char* name : {previous_log_file_name, log_file_name}) {
    auto log_text = read_whole(dir / name);
    if (!log_text)
      continue;
    auto contents = decode_log(*log_text);
    skipped += contents.unreadable_lines;
    position = replay_log(*snap, position, contents.records, replaying);
  }
  pg_connection conn{target};
  if (auto failure = conn.connect(); !failure.empty())
    return "database unreachable: " + failure;
  if (auto failure = migrate_schema(conn); !failure.empty())
    return "database schema: " + failure;
  if (auto failure = import_state(conn, *snap); !failure.empty())
    return failure;
  summary = "imported " + std::to_string(snap->apps.size()) + " apps, " +
            std::to_string(domain_count(*snap)) + " domains, " +
            std::to_string(snap->recent_jobs.size()) + " recent jobs (log position " +
            std::to_string(position) + ", unreadable log lines skipped: " +
            std::to_string(skipped) + ")";
  return "";
}

std::string export_to_json_dir(const pg_target& target, const std::string& data_dir,
                               std::string& summary) {
  const fs::path file = fs::path(data_dir) / state_file_name;
  std::error_code ec;
  if (fs::exists(file, ec))
    return file.string() + " exists: export into an empty data dir";
  fs::create_directories(data_dir, ec);
  if (ec)
    return "cannot create " + data_dir + ": " + ec.message();
  pg_connection conn{target};
  if (auto failure = conn.connect(); !failure.empty())
    return "database unreachable: " + failure;
  std::string error;
  auto snap = export_state(conn, error);
  if (!snap)
    return "reading the database: " + error;
  {
    const auto old_mask = ::umask(077);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    ::umask(old_mask);
    out << snapshot_document(*snap, 0).dump(2) << '\n';
    out.close();
    if (!out)
      return "cannot write " + file.string();
  }
  summary = "exported " + std::to_string(snap->apps.size()) + " apps, " +
            std::to_string(domain_count(*snap)) + " domains to " + file.string();
  return "";
}

} // namespace epmpulse
