// Start-up of the state: the JSON file (or its newest valid backup) and the
// change logs replayed onto it, the history caught up, the file rewritten;
// or, with PostgreSQL storage, the schema migrated and the state read. All of
// it runs before the state actor exists, so nothing else sees a half-loaded
// state.
#include "actors/state/state_startup.hpp"

#include <algorithm>
#include <filesystem>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"
#include "actors/state/data_dir.hpp"
#include "actors/state/state_log.hpp"
#include "actors/state/state_writer.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace epmpulse {

namespace {

constexpr auto archive_sync_timeout = std::chrono::seconds(30);

std::string compact_now() {
  std::string s = format_time(now_ms());
  std::string out;
  for (char c : s)
    if (c != '-' && c != ':' && c != '.')
      out += c;
  return out;
}

/// A state file's content and the log position it was written at.
struct loaded_state {
  status_snapshot snapshot;
  std::uint64_t log_seq = 0;
};

std::optional<loaded_state> load_snapshot_file(const std::string& path, std::string& error) {
  auto text = read_file(path);
  if (!text) {
    error = "cannot read file";
    return std::nullopt;
  }
  auto doc = json::parse(*text, nullptr, false);
  if (doc.is_discarded()) {
    error = "not valid JSON";
    return std::nullopt;
  }
  auto snap = snapshot_from_json(doc, error);
  if (!snap)
    return std::nullopt;
  return loaded_state{std::move(*snap), snapshot_log_seq(doc)};
}

// The newest backup that loads, reconciled with the config.
std::optional<loaded_state> newest_valid_backup(const std::string& data_dir,
                                                const config::service_config& cfg) {
  for (const auto& backup : list_backups(data_dir)) {
    std::string backup_why;
    if (auto loaded = load_snapshot_file(backup, backup_why)) {
      log::warn("state restored from backup", {{"backup", backup}});
      reconcile_with_config(loaded->snapshot, cfg);
      return loaded;
    }
    log::warn("backup invalid, skipped", {{"backup", backup}, {"reason", backup_why}});
  }
  return std::nullopt;
}

// Loads the state file, recovering from a corrupt one: it is moved aside and
// the newest valid backup (or a fresh state) takes its place. A missing file
// next to a change log was lost after it was served (moved aside, then a
// crash before the rewrite on a full disk): the backups come before the seed.
caf::expected<loaded_state> load_or_recover(const std::string& data_dir,
                                            const config::service_config& cfg) {
  auto path = (fs::path(data_dir) / state_file_name).string();
  std::error_code err;
  if (!fs::exists(path, err)) {
    bool logs_left = false;
    for (const char* name : {previous_log_file_name, log_file_name})
      logs_left = logs_left || fs::exists(fs::path(data_dir) / name, err);
    if (logs_left) {
      log::warn("state file missing next to a change log: trying the backups", {{"path", path}});
      if (auto loaded = newest_valid_backup(data_dir, cfg))
        return std::move(*loaded);
    }
    log::info("state file not found: starting fresh from the config", {{"path", path}});
    return loaded_state{seed_snapshot(cfg, now_ms()), 0};
  }
  std::string why;
  if (auto loaded = load_snapshot_file(path, why)) {
    reconcile_with_config(loaded->snapshot, cfg);
    return std::move(*loaded);
  }
  auto aside = path + ".corrupt-" + compact_now();
  fs::rename(path, aside, err);
  if (err)
    return caf::make_error(ec::state_error,
                           "state file " + path + " is invalid (" + why
                             + ") and cannot be moved aside: " + err.message());
  log::warn("state file invalid: moved aside", {{"path", path}, {"moved_to", aside}, {"reason", why}});
  if (auto loaded = newest_valid_backup(data_dir, cfg))
    return std::move(*loaded);
  log::warn("no valid backup: starting fresh from the config", {{"path", path}});
  return loaded_state{seed_snapshot(cfg, now_ms()), 0};
}

// Replays the logs (the one moved aside for an unfinished snapshot first)
// onto the loaded state; returns the new log position. `logged` receives
// every change the logs record (for the history), replayed or not.
std::uint64_t replay_logs(loaded_state& state, const std::string& data_dir,
                          const config::service_config& cfg, std::vector<domain_change>& logged) {
  auto position = state.log_seq;
  for (const char* name : {previous_log_file_name, log_file_name}) {
    auto path = (fs::path(data_dir) / name).string();
    std::error_code err;
    if (!fs::exists(path, err))
      continue;
    auto text = read_file(path);
    if (!text) {
      log::warn("change log unreadable, skipped", {{"path", path}});
      continue;
    }
    auto contents = decode_log(*text);
    if (contents.unreadable_lines > 0)
      // After a crash the last record may be torn: it was never acknowledged.
      log::warn("change log lines skipped as unreadable",
                {{"path", path}, {"lines", contents.unreadable_lines}});
    auto before = position;
    position = replay_log(state.snapshot, position, contents.records, merge_settings_of(cfg));
    for (auto& record : contents.records)
      for (auto& c : record.changes)
        logged.push_back(std::move(c));
    log::info("change log replayed", {{"path", path},
                                      {"records", contents.records.size()},
                                      {"applied", position - before}});
  }
  return position;
}


std::string instance_name() {
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string{"epmpulse "} + host + ":" + std::to_string(::getpid());
}

// PostgreSQL storage: the schema is migrated and the state loaded before
// the actor runs (as the file is read), then the writer and the change
// listener take over.
caf::expected<state_store_actor> spawn_database_state_store(caf::actor_system& sys,
                                                            state_store_options opts) {
  const auto& storage = opts.config->settings.storage;
  auto target = pg_target_of(storage, instance_name());
  pg_connection conn{target};
  if (auto failure = conn.connect(); !failure.empty())
    return caf::make_error(ec::state_error, "database unreachable: " + failure);
  if (auto failure = migrate_schema(conn); !failure.empty())
    return caf::make_error(ec::state_error, "database schema: " + failure);
  std::string error;
  auto loaded = load_state(conn, *opts.config, error);
  if (!loaded)
    return caf::make_error(ec::state_error, "loading the state from the database: " + error);
  conn.close();
  // Local ids are provisional in this mode (the commit hands back the
  // database's): they start above the highest the database gave out.
  loaded->snapshot.last_change_id = std::max(loaded->snapshot.last_change_id, loaded->last_change_id);
  std::size_t domains = 0;
  for (const auto& [name, app] : loaded->snapshot.apps)
    domains += app.domains.size();
  log::info("state loaded from the database",
            {{"apps", loaded->snapshot.apps.size()}, {"domains", domains},
             {"last_change_id", loaded->last_change_id}});
  state_store_helpers helpers;
  helpers.compressor = spawn_body_compressor(sys);
  helpers.database = spawn_pg_writer(sys, {target, storage.pool, milliseconds{5000}});
  start_position start{0, 0, std::nullopt};
  auto state = spawn_state_actor(sys, std::move(opts), std::move(loaded->snapshot), start,
                         helpers, state_bytes{});
  // The listener links itself to the state actor and ends with it.
  spawn_pg_listener(sys,
                    {target, loaded->last_change_id, caf::actor_cast<remote_change_sink>(state)});
  return state;
}

// Hands the archive the logged changes it does not hold yet and waits until
// they are durable there; false when it cannot (the logs are then kept, and
// the next start hands them over again). Raises the snapshot's change id to
// the archive's highest, so that no id is ever given twice (a state restored
// from an older backup).
bool catch_up_archive(caf::actor_system& sys, const change_archive_actor& archive,
                      std::vector<domain_change> logged, status_snapshot& snap) {
  caf::scoped_actor self{sys};
  std::optional<std::uint64_t> stored;
  auto sync = [&] {
    stored.reset();
    self->request(archive, archive_sync_timeout, sync_atom_v)
      .receive([&](std::uint64_t highest) { stored = highest; },
               [&](caf::error& err) {
                 log::error("the history cannot store the logged changes: the change logs are kept",
                            {{"reason", describe_error(err)}});
               });
    return stored.has_value();
  };
  if (!sync())
    return false;
  const auto held = *stored;
  snap.last_change_id = std::max(snap.last_change_id, held);
  std::erase_if(logged, [held](const domain_change& c) { return c.id <= held; });
  if (logged.empty())
    return true;
  std::sort(logged.begin(), logged.end(),
            [](const domain_change& a, const domain_change& b) { return a.id < b.id; });
  auto count = logged.size();
  self->send(archive, changed_atom_v,
             change_set{std::make_shared<const std::vector<domain_change>>(std::move(logged))});
  if (!sync())
    return false;
  log::info("history caught up from the change log", {{"changes", count}});
  return true;
}

} // namespace

caf::expected<state_store_actor> spawn_state_store(caf::actor_system& sys,
                                                   state_store_options opts) {
  if (opts.config->settings.storage.kind == config::storage_kind::postgres)
    return spawn_database_state_store(sys, std::move(opts));
  auto data_dir = opts.data_dir;
  state_store_helpers helpers;
  helpers.log = spawn_log_writer(sys, data_dir);
  helpers.writer = spawn_state_writer(sys, (fs::path(data_dir) / state_file_name).string());
  helpers.compressor = spawn_body_compressor(sys);
  auto state = spawn_state_store(sys, std::move(opts), helpers);
  if (!state)
    for (const auto& helper :
         {caf::actor_cast<caf::actor>(helpers.log), caf::actor_cast<caf::actor>(helpers.writer),
          caf::actor_cast<caf::actor>(helpers.compressor)})
      caf::anon_send_exit(helper, caf::exit_reason::user_shutdown);
  return state;
}

caf::expected<state_store_actor> spawn_state_store(caf::actor_system& sys,
                                                   state_store_options opts,
                                                   state_store_helpers helpers) {
  if (auto failure = prepare_private_dir(opts.data_dir))
    return caf::make_error(ec::state_error, *failure);
  auto loaded = load_or_recover(opts.data_dir, *opts.config);
  if (!loaded)
    return loaded.error();
  std::vector<domain_change> logged;
  auto position = replay_logs(*loaded, opts.data_dir, *opts.config, logged);
  auto& snap = loaded->snapshot;
  const bool archive_holds_logs =
    !opts.archive || catch_up_archive(sys, opts.archive, std::move(logged), snap);
  std::size_t loading = 0;
  for (const auto& [app_name, app] : snap.apps)
    for (const auto& [domain_name, d] : app.domains)
      if (d.status == job_status::loading) {
        ++loading;
        log::info("domain still Loading after restart",
                  {{"app", app_name}, {"domain", domain_name},
                   {"job_id", d.job_id ? json(*d.job_id) : json(nullptr)}});
      }
  // Write the (possibly new, recovered or replayed) state before serving, so
  // the file on disk matches what the first reader sees; the logs it holds
  // are then dropped. When it cannot be written (a full disk), the service
  // still starts: the logs stay, the next start replays them again (onto the
  // backups if a corrupt file was moved aside), and the rewrite is retried
  // like any failed snapshot.
  auto path = (fs::path(opts.data_dir) / state_file_name).string();
  auto bytes = std::make_shared<const std::string>(snapshot_document(snap, position).dump(2));
  start_position start{position, position, std::nullopt};
  if (auto failure = write_file_atomically(path, *bytes)) {
    log::error("state file not rewritten at start-up: the change logs are kept and the rewrite "
               "retried",
               {{"path", path}, {"reason", *failure}});
    start.snapshot_seq = loaded->log_seq;
    start.snapshot_error = std::move(failure);
    bytes = nullptr;
  } else if (archive_holds_logs) {
    for (const char* name : {previous_log_file_name, log_file_name})
      if (auto failure = remove_durably((fs::path(opts.data_dir) / name).string()))
        return caf::make_error(ec::state_error, *failure);
  }
  log::info("state loaded", {{"path", path}, {"apps", snap.apps.size()}, {"loading", loading}});
  return spawn_state_actor(sys, std::move(opts), std::move(snap), start, std::move(helpers),
                   bytes);
}

} // namespace epmpulse
