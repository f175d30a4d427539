#include "actors/state/state_store.hpp"

#include <algorithm>
#include <filesystem>
#include <random>
#include <span>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
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

constexpr auto write_timeout = std::chrono::seconds(30);
constexpr auto append_retry_delay = std::chrono::seconds(1);
// The JSON file trails the log by about a second under a stream of changes.
// A large state costs more to serialise and rewrite, so the delay grows with
// the measured cost: snapshots then take at most a tenth of the writer's time.
constexpr auto snapshot_min_delay = milliseconds(1000);
constexpr auto snapshot_max_delay = milliseconds(60'000);
constexpr int snapshot_cost_factor = 10;

milliseconds from_hours(double h) {
  return milliseconds(static_cast<std::int64_t>(h * 3600.0 * 1000.0));
}
milliseconds from_minutes(double m) {
  return milliseconds(static_cast<std::int64_t>(m * 60.0 * 1000.0));
}

merge_settings merge_settings_of(const config::service_config& cfg) {
  return {milliseconds(static_cast<std::int64_t>(cfg.settings.max_future_skew_sec * 1000)),
          static_cast<std::size_t>(cfg.settings.recent_jobs_limit)};
}

// An apply waiting for the append that makes it durable. The stale sweep's
// own updates wait without a promise: nobody asked.
struct pending_reply {
  std::optional<caf::typed_response_promise<apply_result>> promise;
  apply_result reply;

  void deliver() {
    if (promise)
      promise->deliver(std::move(reply));
  }
  void fail(ec code) {
    if (promise)
      promise->deliver(caf::make_error(code));
  }
};

// How one kind of write (change-log appends, JSON file rewrites) is doing: for
// health, and to log the end of an outage once.
struct write_health {
  bool ok = true;
  std::string error; ///< the last failure's reason while !ok

  /// Records a success; true when it ends an outage.
  bool succeeded() {
    bool recovered = !ok;
    ok = true;
    error.clear();
    return recovered;
  }

  void failed(std::string reason) {
    ok = false;
    error = std::move(reason);
  }
};

struct state_store_state {
  static inline constexpr const char* name = "state_store";

  std::shared_ptr<const config::service_config> config;
  merge_settings merging;
  std::string state_file;
  log_writer_actor log;
  state_writer_actor writer;
  pg_writer_actor database; ///< PostgreSQL storage; null with the JSON file
  change_archive_actor archive;
  status_snapshot snapshot;
  std::uint64_t version = 0; ///< log position of the newest apply

  // -- group commit into the change log --
  std::string pending_records;          ///< records no started append contains
  bool append_in_flight = false;
  std::vector<pending_reply> waiting;   ///< answered after the next append
  std::vector<pending_reply> in_flight; ///< answered after the current append
  std::vector<domain_change> waiting_changes;
  std::vector<domain_change> in_flight_changes;
  bool retry_scheduled = false;

  // -- snapshots into the JSON file --
  std::uint64_t snapshot_seq = 0; ///< log position the JSON file holds
  bool file_behind = false;       ///< start-up could not rewrite the JSON file
  bool snapshot_in_flight = false;
  bool snapshot_scheduled = false;
  milliseconds snapshot_cost{0};
  state_bytes last_written;       ///< the JSON file's bytes (for backups)
  std::vector<caf::typed_response_promise<bool>> flush_waiters;

  // -- health and counters --
  write_health log_health;      ///< change-log appends
  write_health snapshot_health; ///< JSON file rewrites
  std::uint64_t commits = 0;
  std::uint64_t committed_updates = 0;
  std::uint64_t snapshots = 0;

  // -- readers --
  std::vector<change_listener_actor> subscribers;
  status_bodies bodies{std::random_device{}()};
  body_compressor_actor compressor; ///< gzips bodies off this actor's thread
  std::uint64_t cached_snapshot_version = 0;
  snapshot_ptr cached_snapshot;
};

using store_ptr = state_store_actor::stateful_pointer<state_store_state>;

/// The JSON file holds the state as it is now.
bool snapshot_current(const state_store_state& st) {
  return st.database || (st.snapshot_seq == st.version && !st.file_behind);
}

snapshot_ptr current_snapshot(state_store_state& st) {
  if (!st.cached_snapshot || st.cached_snapshot_version != st.version) {
    st.cached_snapshot = std::make_shared<const status_snapshot>(st.snapshot);
    st.cached_snapshot_version = st.version;
  }
  return st.cached_snapshot;
}

// -- writing: the change log, then snapshots -----------------------------------------

void start_append(store_ptr self);
void start_snapshot(store_ptr self);

void deliver_flush(store_ptr self, bool ok) {
  for (auto& p : self->state.flush_waiters)
    p.deliver(ok);
  self->state.flush_waiters.clear();
}

// A flush is done once every change is in the log and in the JSON file.
void advance_flush(store_ptr self) {
  auto& st = self->state;
  if (st.flush_waiters.empty())
    return;
  if (!st.pending_records.empty() || st.append_in_flight) {
    if (!st.retry_scheduled)
      start_append(self);
    return;
  }
  if (!snapshot_current(st) || st.snapshot_in_flight) {
    start_snapshot(self);
    return;
  }
  deliver_flush(self, st.snapshot_health.ok);
}

void schedule_snapshot(store_ptr self) {
  auto& st = self->state;
  if (st.snapshot_scheduled || st.snapshot_in_flight || snapshot_current(st))
    return;
  st.snapshot_scheduled = true;
  auto delay = std::clamp(st.snapshot_cost * snapshot_cost_factor, snapshot_min_delay,
                          snapshot_max_delay);
  self->delayed_send(self, delay, snapshot_due_atom_v);
}

void on_snapshot_done(store_ptr self, const caf::error* failure) {
  auto& st = self->state;
  st.snapshot_in_flight = false;
  if (failure == nullptr) {
    if (st.snapshot_health.succeeded())
      log::info("state file writable again", {{"path", st.state_file}});
    ++st.snapshots;
  } else {
    st.snapshot_health.failed(describe_error(*failure));
    log::error("state snapshot failed: changes stay safe in the change log",
               {{"path", st.state_file}, {"reason", st.snapshot_health.error}});
    // Shutdown must not wait for a retry: the log keeps everything.
    deliver_flush(self, false);
  }
  advance_flush(self);
  schedule_snapshot(self);
}

// Every record in the log moved aside is at or below the snapshot's
// position. The snapshot counts as done once that log is gone, so a shutdown
// that waited for it leaves only the JSON file behind.
void drop_previous_log(store_ptr self) {
  self->request(self->state.log, write_timeout, drop_atom_v)
    .then([self](bool) { on_snapshot_done(self, nullptr); },
          [self](caf::error& err) {
            log::warn("old change log not removed (replay skips its records)",
                      {{"reason", describe_error(err)}});
            on_snapshot_done(self, nullptr);
          });
}

void write_snapshot(store_ptr self) {
  auto& st = self->state;
  auto seq = st.version;
  auto started = std::chrono::steady_clock::now();
  self->request(st.writer, write_timeout, write_atom_v, current_snapshot(st), seq)
    .then(
      [self, seq, started](state_bytes& bytes) {
        auto& st = self->state;
        st.snapshot_cost = std::chrono::duration_cast<milliseconds>(
          std::chrono::steady_clock::now() - started);
        st.snapshot_seq = seq;
        st.file_behind = false;
        st.last_written = std::move(bytes);
        // The log moved aside goes only once the history holds its changes:
        // they were sent to it before this snapshot began, so one sync covers
        // them. While the history cannot write, the logs stay.
        if (!st.archive)
          return drop_previous_log(self);
        self->request(st.archive, write_timeout, sync_atom_v)
          .then([self](std::uint64_t) { drop_previous_log(self); },
                [self](caf::error& err) {
                  log::warn("change log kept: the history has not stored its changes",
                            {{"reason", describe_error(err)}});
                  on_snapshot_done(self, nullptr);
                });
      },
      [self](caf::error& err) { on_snapshot_done(self, &err); });
}

// The log is moved aside first; the snapshot is taken when that is done, so
// it holds every record of the moved log and the moved log can be dropped.
void start_snapshot(store_ptr self) {
  auto& st = self->state;
  if (st.snapshot_in_flight || snapshot_current(st))
    return;
  st.snapshot_in_flight = true;
  self->request(st.log, write_timeout, rotate_atom_v)
    .then([self](bool) { write_snapshot(self); },
          [self](caf::error& err) { on_snapshot_done(self, &err); });
}

void on_append_done(store_ptr self, const caf::error* failure, const log_bytes& bytes) {
  auto& st = self->state;
  st.append_in_flight = false;
  auto replies = std::move(st.in_flight);
  st.in_flight.clear();
  if (failure != nullptr) {
    st.log_health.failed(describe_error(*failure));
    log::error("change log append failed", {{"reason", st.log_health.error}});
    auto code = failure->category() == caf::atom("epmpulse")
                  && static_cast<ec>(failure->code()) == ec::database_unavailable
                  ? ec::database_unavailable
                  : ec::state_error;
    for (auto& p : replies)
      p.fail(code);
    // The changes are still in memory: their records go out first in the
    // retry, and subscribers hear of them once that append is durable.
    st.pending_records.insert(0, *bytes);
    st.waiting_changes.insert(st.waiting_changes.begin(), st.in_flight_changes.begin(),
                              st.in_flight_changes.end());
    st.in_flight_changes.clear();
    if (!st.retry_scheduled) {
      st.retry_scheduled = true;
      self->delayed_send(self, append_retry_delay, append_retry_atom_v);
    }
    return;
  }
  if (st.log_health.succeeded())
    log::info("change log writable again", {{"path", st.state_file}});
  ++st.commits;
  st.committed_updates += replies.size();
  auto changes = std::move(st.in_flight_changes);
  st.in_flight_changes.clear();
  // The next group goes to the disk before this one is answered: building
  // and sending the answers then overlaps its fdatasync instead of delaying
  // it (bench/RESULTS.md).
  if (!st.pending_records.empty())
    start_append(self);
  change_set shared;
  if (!changes.empty()) {
    shared = std::make_shared<const std::vector<domain_change>>(std::move(changes));
    // The history hears of the changes before anyone hears of their answer,
    // so a client that pushed and then reads the history finds its change.
    if (st.archive)
      self->send(st.archive, changed_atom_v, shared);
  }
  for (auto& p : replies)
    p.deliver();
  if (shared)
    for (auto& s : st.subscribers)
      self->send(s, changed_atom_v, shared);
  schedule_snapshot(self);
  if (!st.append_in_flight)
    advance_flush(self);
}

// PostgreSQL storage: the group's changes go to the database writer in one
// transaction; the log records stay in memory only, to re-queue on failure.
void commit_to_database(store_ptr self, const log_bytes& bytes) {
  auto& st = self->state;
  auto batch = std::make_shared<commit_batch>();
  batch->changes.reserve(st.in_flight_changes.size());
  for (const auto& c : st.in_flight_changes) {
    batch->changes.push_back({c.app, c.domain, c.before.status, c.after, c.received});
    if (!c.after.job_id)
      continue;
    auto job = std::find_if(st.snapshot.recent_jobs.begin(), st.snapshot.recent_jobs.end(),
                            [&](const recent_job& j) { return j.job_id == *c.after.job_id; });
    bool listed = std::any_of(batch->jobs.begin(), batch->jobs.end(),
                              [&](const recent_job& j) { return j.job_id == *c.after.job_id; });
    if (job != st.snapshot.recent_jobs.end() && !listed)
      batch->jobs.push_back(*job);
  }
  self->request(st.database, write_timeout, commit_atom_v, commit_batch_ptr{std::move(batch)})
    .then(
      [self](commit_receipt& receipt) {
        auto& changes = self->state.in_flight_changes;
        for (std::size_t i = 0; i < changes.size() && i < receipt.ids.size(); ++i)
          changes[i].id = receipt.ids[i];
        on_append_done(self, nullptr, nullptr);
      },
      [self, bytes](caf::error& err) { on_append_done(self, &err, bytes); });
}

void start_append(store_ptr self) {
  auto& st = self->state;
  if (st.append_in_flight || st.pending_records.empty())
    return;
  st.append_in_flight = true;
  auto bytes = std::make_shared<const std::string>(std::move(st.pending_records));
  st.pending_records.clear();
  st.in_flight = std::move(st.waiting);
  st.waiting.clear();
  st.in_flight_changes = std::move(st.waiting_changes);
  st.waiting_changes.clear();
  if (st.database) {
    commit_to_database(self, bytes);
    return;
  }
  self->request(st.log, write_timeout, append_atom_v, bytes)
    .then([self](bool) { on_append_done(self, nullptr, nullptr); },
          [self, bytes](caf::error& err) { on_append_done(self, &err, bytes); });
}

// -- applying ----------------------------------------------------------------------

// Applies `updates` in memory. The answer is due once they are durable: it
// is returned when that is already so, else a response promise for the
// current request (when `requested`) waits for the append that carries them.
std::optional<apply_result> apply_updates(store_ptr self, std::vector<status_update> updates,
                                          bool requested) {
  auto& st = self->state;
  auto at = now_ms();
  apply_result reply;
  reply.outcomes.reserve(updates.size());
  std::vector<const status_update*> applied;
  for (const auto& u : updates) {
    auto outcome = merge_update(st.snapshot, u, at, st.merging.max_future_skew,
                                st.merging.recent_jobs_limit);
    if (outcome.result == merge_outcome::kind::applied) {
      reply.changed = true;
      applied.push_back(&u);
      // The answer needs only the state after: the state before goes to the
      // subscribers without a copy.
      st.waiting_changes.push_back({u.app, u.domain, std::move(outcome.before), outcome.after,
                                    ++st.snapshot.last_change_id, at, u.key_name});
    }
    reply.outcomes.push_back(std::move(outcome));
  }
  if (reply.changed) {
    // Only the updates that changed the state are logged: the others change
    // nothing on replay either.
    std::span<const domain_change> changes{st.waiting_changes};
    st.pending_records +=
      encode_log_record(++st.version, at, applied, changes.last(applied.size()));
  }
  reply.updates = std::move(updates);
  // An unchanged request is answered once the state it saw is durable: at
  // once when nothing is pending, else with the append that carries it.
  if (st.pending_records.empty() && !st.append_in_flight)
    return reply;
  pending_reply waiter{std::nullopt, std::move(reply)};
  if (requested)
    waiter.promise = self->make_response_promise<apply_result>();
  if (st.pending_records.empty()) {
    st.in_flight.push_back(std::move(waiter));
  } else {
    st.waiting.push_back(std::move(waiter));
    if (!st.retry_scheduled)
      start_append(self);
  }
  return std::nullopt;
}

void sweep_stale(store_ptr self) {
  auto& st = self->state;
  auto timeout = from_hours(st.config->settings.stale_loading_timeout_hours);
  auto updates = stale_loading_updates(st.snapshot, now_ms(), timeout);
  if (updates.empty())
    return;
  for (const auto& u : updates)
    log::warn("loading domain went stale",
              {{"app", u.app}, {"domain", u.domain}, {"message", *u.message}});
  apply_updates(self, std::move(updates), false);
}

// Changes from the database (other instances' and this one's own, read back
// by id). Each merges like an update, by its event time, then takes the
// stored values (duration, start) as committed. One this instance holds
// already merges as unchanged and is skipped.
void merge_remote(store_ptr self, const std::vector<stored_change>& changes) {
  auto& st = self->state;
  std::vector<domain_change> applied;
  for (const auto& c : changes) {
    status_update u;
    u.app = c.app;
    u.domain = c.domain;
    u.status = c.after.status;
    u.job_id = c.after.job_id;
    u.message = c.after.message;
    u.event_time = c.after.updated;
    u.source = c.after.source;
    auto when = c.after.updated.value_or(c.received);
    auto outcome =
      merge_update(st.snapshot, u, when, milliseconds{0}, st.merging.recent_jobs_limit);
    if (outcome.result != merge_outcome::kind::applied)
      continue;
    st.snapshot.apps[c.app].domains[c.domain] = c.after;
    ++st.version;
    applied.push_back({c.app, c.domain, std::move(outcome.before), c.after, c.id, c.received,
                       std::nullopt});
  }
  if (applied.empty())
    return;
  auto shared = std::make_shared<const std::vector<domain_change>>(std::move(applied));
  // Each instance keeps the whole cluster's history: ids are the database's,
  // so the same change has the same id everywhere.
  if (st.archive)
    self->send(st.archive, changed_atom_v, shared);
  for (auto& s : st.subscribers)
    self->send(s, changed_atom_v, shared);
}

// -- behaviour ---------------------------------------------------------------------

/// Where start-up left the state: its log position, the position the JSON
/// file holds (lower when start-up could not rewrite it), and why not.
struct start_position {
  std::uint64_t version = 0;
  std::uint64_t snapshot_seq = 0;
  std::optional<std::string> snapshot_error;
};

state_store_actor::behavior_type state_store(store_ptr self, state_store_options opts,
                                             status_snapshot initial, start_position position,
                                             state_store_helpers helpers,
                                             state_bytes initial_bytes) {
  auto& st = self->state;
  st.config = opts.config;
  st.merging = merge_settings_of(*st.config);
  st.state_file = (fs::path(opts.data_dir) / state_file_name).string();
  st.log = helpers.log;
  st.writer = helpers.writer;
  st.database = helpers.database;
  st.archive = opts.archive;
  st.compressor = helpers.compressor;
  st.snapshot = std::move(initial);
  st.version = position.version;
  st.snapshot_seq = position.snapshot_seq;
  st.last_written = std::move(initial_bytes);
  if (position.snapshot_error) {
    st.file_behind = true;
    st.snapshot_health.failed(*position.snapshot_error);
    schedule_snapshot(self);
  }
  for (const auto& helper :
       {caf::actor_cast<caf::actor>(st.log), caf::actor_cast<caf::actor>(st.writer),
        caf::actor_cast<caf::actor>(st.database)})
    if (helper)
      self->link_to(helper);
  self->link_to(st.compressor);
  const auto& s = st.config->settings;
  self->delayed_send(self, from_minutes(s.stale_check_interval_minutes), stale_sweep_atom_v);
  self->delayed_send(self, from_hours(s.backup_interval_hours), backup_due_atom_v);
  return {
    [self](apply_atom,
           std::vector<status_update>& updates) -> caf::result<apply_result> {
      if (auto now = apply_updates(self, std::move(updates), true))
        return std::move(*now);
      return caf::delegated<apply_result>{};
    },
    [self](get_atom, const status_query& query) -> caf::result<status_representation> {
      auto& st = self->state;
      auto body = query.app.empty() ? st.bodies.all(st.snapshot, st.version)
                                    : st.bodies.app(st.snapshot, st.version, query.app);
      if (!body.bytes)
        return caf::make_error(ec::app_not_found, "Unknown app '" + query.app + "'.");
      if (!query.gzip)
        return body;
      return self->delegate(st.compressor, compress_atom_v, query.app, std::move(body));
    },
    [self](health_atom) -> state_health {
      auto& st = self->state;
      state_health h;
      h.file_ok = st.log_health.ok;
      h.file_error = st.log_health.error;
      h.last_update = st.snapshot.last_updated;
      h.commits = st.commits;
      h.committed_updates = st.committed_updates;
      h.version = st.version;
      h.snapshot_ok = st.snapshot_health.ok;
      h.snapshot_error = st.snapshot_health.error;
      h.snapshots = st.snapshots;
      h.snapshot_lag = st.database ? 0 : st.version - st.snapshot_seq;
      h.database = static_cast<bool>(st.database);
      return h;
    },
    [self](snapshot_atom) -> snapshot_ptr { return current_snapshot(self->state); },
    [self](subscribe_atom, change_listener_actor& subscriber) {
      self->state.subscribers.push_back(std::move(subscriber));
    },
    [self](expectation_atom, expectation_marks& marks) {
      self->state.bodies.set_expectations(std::move(marks));
    },
    [self](remote_atom, const remote_change_set& changes) { merge_remote(self, *changes); },
    [self](flush_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (st.pending_records.empty() && !st.append_in_flight && !st.snapshot_in_flight
          && snapshot_current(st))
        return st.snapshot_health.ok;
      auto promise = self->make_response_promise<bool>();
      st.flush_waiters.push_back(promise);
      advance_flush(self);
      return promise;
    },
    [self](stale_sweep_atom) {
      self->delayed_send(self,
                         from_minutes(self->state.config->settings.stale_check_interval_minutes),
                         stale_sweep_atom_v);
      sweep_stale(self);
    },
    [self](backup_due_atom) {
      auto& st = self->state;
      const auto& s = st.config->settings;
      self->delayed_send(self, from_hours(s.backup_interval_hours), backup_due_atom_v);
      if (!st.last_written || s.max_backups <= 0)
        return;
      self->request(st.writer, write_timeout, backup_atom_v, st.last_written,
                    std::int32_t{s.max_backups})
        .then([](const std::string& path) { log::info("state backed up", {{"path", path}}); },
              [self](caf::error& err) {
                log::warn("state backup failed", {{"reason", describe_error(err)}});
              });
    },
    [self](append_retry_atom) {
      self->state.retry_scheduled = false;
      start_append(self);
    },
    [self](snapshot_due_atom) {
      self->state.snapshot_scheduled = false;
      start_snapshot(self);
    },
  };
}

// -- start-up ------------------------------------------------------------------------

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
  auto state = sys.spawn(state_store, std::move(opts), std::move(loaded->snapshot), start,
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
    self->request(archive, write_timeout, sync_atom_v)
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
  return sys.spawn(state_store, std::move(opts), std::move(snap), start, std::move(helpers),
                   bytes);
}

} // namespace epmpulse
