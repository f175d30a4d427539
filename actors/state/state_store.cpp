#include "actors/state/state_store.hpp"

#include <algorithm>
#include <filesystem>
#include <random>
#include <span>
#include <unordered_map>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"
#include "actors/state/data_dir.hpp"
#include "actors/state/state_log.hpp"
#include "actors/state/state_startup.hpp"
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

// An apply waiting for the append that makes it durable. The stale sweep's
// own updates wait without a promise: nobody asked.
struct pending_reply {
  std::optional<caf::typed_response_promise<apply_result>> promise;
  apply_result reply;
  /// With PostgreSQL storage: (outcome index, provisional change id) of each
  /// applied update, so the commit receipt can say which the database wrote.
  std::vector<std::pair<std::size_t, std::uint64_t>> changes;

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
    // The database writer logs a failed commit itself, in its own terms.
    if (!st.database)
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
  if (st.log_health.succeeded() && !st.database)
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

// The answers say what the database wrote, not what this instance applied:
// a change it refused (another instance committed a newer event for the
// domain, or the same content, first) is answered as not applied, and it
// reaches neither the history nor the subscribers. This instance's memory
// converges on the database's row through the change listener.
void settle_from_receipt(state_store_state& st, const commit_receipt& receipt) {
  auto& changes = st.in_flight_changes;
  std::unordered_map<std::uint64_t, std::uint64_t> committed; // provisional id -> database id
  committed.reserve(changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto id = i < receipt.ids.size() ? receipt.ids[i] : 0;
    committed.emplace(changes[i].id, id);
    changes[i].id = id;
  }
  std::erase_if(changes, [](const domain_change& c) { return c.id == 0; });
  for (auto& p : st.in_flight) {
    bool changed = false;
    for (auto [index, provisional] : p.changes) {
      auto it = committed.find(provisional);
      auto& outcome = p.reply.outcomes[index];
      if (it == committed.end() || it->second != 0) {
        changed = true;
        continue;
      }
      const auto& u = p.reply.updates[index];
      const auto& held = st.snapshot.apps[u.app].domains[u.domain];
      // What this instance holds now: the winner once the listener brought
      // it, else still the refused change.
      bool same_content = held.status == outcome.after.status
                          && held.job_id == outcome.after.job_id
                          && held.message == outcome.after.message;
      outcome.result = same_content && held.updated != outcome.after.updated
                         ? merge_outcome::kind::unchanged
                         : merge_outcome::kind::stale;
      outcome.after = held;
    }
    if (!p.changes.empty())
      p.reply.changed = changed;
  }
}

// PostgreSQL storage: the group's changes go to the database writer in one
// transaction; the log records stay in memory only, to re-queue on failure.
void commit_to_database(store_ptr self, const log_bytes& bytes) {
  auto& st = self->state;
  auto batch = std::make_shared<commit_batch>();
  batch->changes.reserve(st.in_flight_changes.size());
  for (const auto& c : st.in_flight_changes) {
    batch->changes.push_back({c.app, c.domain, c.before.status, c.after, c.received, c.key_name});
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
        settle_from_receipt(self->state, receipt);
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
  std::vector<std::pair<std::size_t, std::uint64_t>> provisional;
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
      if (st.database)
        provisional.emplace_back(reply.outcomes.size(), st.snapshot.last_change_id);
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
  pending_reply waiter{std::nullopt, std::move(reply), std::move(provisional)};
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

} // namespace

merge_settings merge_settings_of(const config::service_config& cfg) {
  return {milliseconds(static_cast<std::int64_t>(cfg.settings.max_future_skew_sec * 1000)),
          static_cast<std::size_t>(cfg.settings.recent_jobs_limit)};
}

state_store_actor spawn_state_actor(caf::actor_system& sys, state_store_options opts,
                                    status_snapshot initial, start_position position,
                                    state_store_helpers helpers, state_bytes initial_bytes) {
  return sys.spawn(state_store, std::move(opts), std::move(initial), position, std::move(helpers),
                   std::move(initial_bytes));
}

} // namespace epmpulse
