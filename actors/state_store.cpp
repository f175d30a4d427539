#include "actors/state_store.hpp"

#include <filesystem>
#include <sys/stat.h>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/durable_file.hpp"
#include "actors/log.hpp"
#include "actors/state_writer.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

namespace epmpulse {

namespace {

enum timer : std::uint8_t { stale_sweep = 0, backup = 1, write_retry = 2 };

constexpr auto write_timeout = std::chrono::seconds(30);
constexpr auto write_retry_delay = std::chrono::seconds(1);

milliseconds from_hours(double h) {
  return milliseconds(static_cast<std::int64_t>(h * 3600.0 * 1000.0));
}
milliseconds from_minutes(double m) {
  return milliseconds(static_cast<std::int64_t>(m * 60.0 * 1000.0));
}

struct pending_reply {
  apply_callback callback;
  apply_reply reply;
};

struct state_store_state {
  static inline constexpr const char* name = "state_store";

  std::shared_ptr<const config::service_config> config;
  std::string state_file;
  state_writer_actor writer;
  status_snapshot snapshot;
  std::uint64_t version = 1;

  // -- group commit --
  bool dirty = false;             ///< memory holds changes no started write contains
  bool write_in_flight = false;
  std::vector<pending_reply> waiting;   ///< answered after the next write
  std::vector<pending_reply> in_flight; ///< answered after the current write
  std::vector<domain_change> waiting_changes;
  std::vector<domain_change> in_flight_changes;
  std::vector<caf::typed_response_promise<bool>> flush_waiters;
  state_bytes last_written;
  bool retry_scheduled = false;

  // -- health and counters --
  bool file_ok = true;
  std::string file_error;
  std::uint64_t commits = 0;
  std::uint64_t committed_updates = 0;

  // -- readers --
  std::vector<caf::actor> subscribers;
  std::uint64_t cached_all_version = 0;
  std::shared_ptr<const std::string> cached_all;
  std::map<std::string, std::pair<std::uint64_t, std::shared_ptr<const std::string>>> cached_app;
  std::uint64_t cached_snapshot_version = 0;
  snapshot_ptr cached_snapshot;
};

using store_ptr = state_store_actor::stateful_pointer<state_store_state>;

// -- serialisation for readers ---------------------------------------------------

json optional_time_json(const std::optional<time_point>& t) {
  return t ? json(format_time(*t)) : json(nullptr);
}

json public_domain(const domain_state& d) {
  json out = to_json(d);
  out.erase("started");
  return out;
}

json app_domains_json(const app_state& app) {
  json domains = json::object();
  for (const auto& [name, d] : app.domains)
    domains[name] = public_domain(d);
  return domains;
}

std::shared_ptr<const std::string> all_body(state_store_state& st) {
  if (!st.cached_all || st.cached_all_version != st.version) {
    json apps = json::object();
    for (const auto& [name, app] : st.snapshot.apps)
      apps[name] = app_domains_json(app);
    json body = {{"last_updated", optional_time_json(st.snapshot.last_updated)},
                 {"apps", std::move(apps)}};
    st.cached_all = std::make_shared<const std::string>(body.dump());
    st.cached_all_version = st.version;
  }
  return st.cached_all;
}

std::shared_ptr<const std::string> app_body(state_store_state& st, const std::string& app) {
  auto it = st.snapshot.apps.find(app);
  if (it == st.snapshot.apps.end())
    return nullptr;
  auto& slot = st.cached_app[app];
  if (!slot.second || slot.first != st.version) {
    json body = {{"app", app},
                 {"display_name", it->second.display_name},
                 {"domains", app_domains_json(it->second)},
                 {"last_updated", optional_time_json(st.snapshot.last_updated)}};
    slot = {st.version, std::make_shared<const std::string>(body.dump())};
  }
  return slot.second;
}

// -- writing ---------------------------------------------------------------------

void start_write(store_ptr self);

void finish_flush_waiters(store_ptr self, bool ok) {
  auto& st = self->state;
  if (st.dirty || st.write_in_flight)
    return;
  for (auto& p : st.flush_waiters)
    p.deliver(ok);
  st.flush_waiters.clear();
}

void on_write_done(store_ptr self, const caf::error* failure) {
  auto& st = self->state;
  st.write_in_flight = false;
  auto replies = std::move(st.in_flight);
  st.in_flight.clear();
  if (failure == nullptr) {
    if (!st.file_ok)
      log::info("state file writable again", {{"path", st.state_file}});
    st.file_ok = true;
    st.file_error.clear();
    ++st.commits;
    st.committed_updates += replies.size();
    for (auto& p : replies)
      p.callback(std::move(p.reply));
    if (!st.in_flight_changes.empty()) {
      auto changes = std::make_shared<const std::vector<domain_change>>(
        std::move(st.in_flight_changes));
      st.in_flight_changes.clear();
      for (auto& s : st.subscribers)
        caf::anon_send(s, changed_atom_v, changes);
    }
  } else {
    auto reason = self->system().render(*failure);
    if (failure->context().match_elements<std::string>())
      reason = failure->context().get_as<std::string>(0);
    st.file_ok = false;
    st.file_error = reason;
    log::error("state write failed", {{"path", st.state_file}, {"reason", reason}});
    for (auto& p : replies) {
      p.reply.error = ec::state_error;
      p.callback(std::move(p.reply));
    }
    // The changes are still in memory: the next write carries them, and
    // subscribers hear of them once that write is durable.
    st.waiting_changes.insert(st.waiting_changes.begin(), st.in_flight_changes.begin(),
                              st.in_flight_changes.end());
    st.in_flight_changes.clear();
    st.dirty = true;
    if (!st.retry_scheduled) {
      st.retry_scheduled = true;
      self->delayed_send(self, write_retry_delay, tick_atom_v, std::uint8_t{write_retry},
                         std::uint64_t{0});
    }
    return;
  }
  if (st.dirty)
    start_write(self);
  else
    finish_flush_waiters(self, true);
}

void start_write(store_ptr self) {
  auto& st = self->state;
  if (st.write_in_flight || !st.dirty)
    return;
  st.write_in_flight = true;
  st.dirty = false;
  st.in_flight = std::move(st.waiting);
  st.waiting.clear();
  st.in_flight_changes = std::move(st.waiting_changes);
  st.waiting_changes.clear();
  auto bytes = std::make_shared<const std::string>(to_json(st.snapshot).dump(2));
  self->request(st.writer, write_timeout, write_atom_v, bytes)
    .then(
      [self, bytes](bool) {
        self->state.last_written = bytes;
        on_write_done(self, nullptr);
      },
      [self](caf::error& err) { on_write_done(self, &err); });
}

// -- applying ----------------------------------------------------------------------

void apply_updates(store_ptr self, const std::vector<status_update>& updates,
                   apply_callback callback) {
  auto& st = self->state;
  const auto& s = st.config->settings;
  auto now = now_ms();
  apply_reply reply;
  reply.outcomes.reserve(updates.size());
  for (const auto& u : updates) {
    auto outcome = merge_update(st.snapshot, u, now,
                                milliseconds(static_cast<std::int64_t>(s.max_future_skew_sec * 1000)),
                                static_cast<std::size_t>(s.recent_jobs_limit));
    if (outcome.result == merge_outcome::kind::applied) {
      reply.changed = true;
      st.waiting_changes.push_back({u.app, u.domain, outcome.before, outcome.after});
    }
    reply.outcomes.push_back(std::move(outcome));
  }
  if (reply.changed) {
    ++st.version;
    st.dirty = true;
  }
  // An unchanged request is answered once the state it saw is durable: at
  // once when nothing is pending, else with the write that carries it.
  if (!st.dirty && !st.write_in_flight) {
    callback(std::move(reply));
  } else if (!st.dirty) {
    st.in_flight.push_back({std::move(callback), std::move(reply)});
  } else {
    st.waiting.push_back({std::move(callback), std::move(reply)});
    if (!st.retry_scheduled)
      start_write(self);
  }
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
  apply_updates(self, updates, [](apply_reply) {});
}

// -- behaviour ---------------------------------------------------------------------

state_store_actor::behavior_type state_store(store_ptr self, state_store_options opts,
                                             status_snapshot initial, state_writer_actor writer,
                                             state_bytes initial_bytes) {
  auto& st = self->state;
  st.config = opts.config;
  st.state_file = (fs::path(opts.data_dir) / state_file_name).string();
  st.writer = writer;
  st.snapshot = std::move(initial);
  st.last_written = std::move(initial_bytes);
  self->link_to(writer);
  const auto& s = st.config->settings;
  self->delayed_send(self, from_minutes(s.stale_check_interval_minutes), tick_atom_v,
                     std::uint8_t{stale_sweep}, std::uint64_t{0});
  self->delayed_send(self, from_hours(s.backup_interval_hours), tick_atom_v,
                     std::uint8_t{backup}, std::uint64_t{0});
  return {
    [self](apply_atom, std::vector<status_update>& updates, apply_callback& callback) {
      apply_updates(self, updates, std::move(callback));
    },
    [self](get_atom, const status_query& query, const body_callback& callback) {
      status_body body;
      if (query.app.empty()) {
        body.json = all_body(self->state);
      } else {
        body.json = app_body(self->state, query.app);
        if (!body.json)
          body.error = ec::app_not_found;
      }
      callback(std::move(body));
    },
    [self](health_atom, const health_callback& callback) {
      auto& st = self->state;
      callback(state_health{st.file_ok, st.file_error, st.snapshot.last_updated, st.commits,
                            st.committed_updates, st.version});
    },
    [self](snapshot_atom) -> snapshot_ptr {
      auto& st = self->state;
      if (!st.cached_snapshot || st.cached_snapshot_version != st.version) {
        st.cached_snapshot = std::make_shared<const status_snapshot>(st.snapshot);
        st.cached_snapshot_version = st.version;
      }
      return st.cached_snapshot;
    },
    [self](subscribe_atom, caf::actor& subscriber) {
      self->state.subscribers.push_back(std::move(subscriber));
    },
    [self](flush_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (!st.dirty && !st.write_in_flight)
        return st.file_ok;
      auto promise = self->make_response_promise<bool>();
      st.flush_waiters.push_back(promise);
      if (!st.retry_scheduled)
        start_write(self);
      return promise;
    },
    [self](tick_atom, std::uint8_t which, std::uint64_t) {
      auto& st = self->state;
      const auto& s = st.config->settings;
      switch (which) {
        case stale_sweep:
          self->delayed_send(self, from_minutes(s.stale_check_interval_minutes), tick_atom_v,
                             std::uint8_t{stale_sweep}, std::uint64_t{0});
          sweep_stale(self);
          break;
        case backup:
          self->delayed_send(self, from_hours(s.backup_interval_hours), tick_atom_v,
                             std::uint8_t{backup}, std::uint64_t{0});
          if (st.last_written && s.max_backups > 0)
            self->request(st.writer, write_timeout, backup_atom_v, st.last_written,
                          std::int32_t{s.max_backups})
              .then([](const std::string& path) { log::info("state backed up", {{"path", path}}); },
                    [self](caf::error& err) {
                      log::warn("state backup failed", {{"reason", self->system().render(err)}});
                    });
          break;
        case write_retry:
          st.retry_scheduled = false;
          start_write(self);
          break;
      }
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

std::optional<status_snapshot> load_snapshot_file(const std::string& path, std::string& error) {
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
  return snapshot_from_json(doc, error);
}

// Loads the state file, recovering from a corrupt one: it is moved aside and
// the newest valid backup (or a fresh state) takes its place.
caf::expected<status_snapshot> load_or_recover(const std::string& data_dir,
                                               const config::service_config& cfg) {
  auto path = (fs::path(data_dir) / state_file_name).string();
  std::error_code err;
  if (!fs::exists(path, err)) {
    log::info("state file not found: starting fresh from the config", {{"path", path}});
    return seed_snapshot(cfg, now_ms());
  }
  std::string why;
  if (auto snap = load_snapshot_file(path, why)) {
    reconcile_with_config(*snap, cfg);
    return *snap;
  }
  auto aside = path + ".corrupt-" + compact_now();
  fs::rename(path, aside, err);
  if (err)
    return caf::make_error(ec::state_error,
                           "state file " + path + " is invalid (" + why
                             + ") and cannot be moved aside: " + err.message());
  log::warn("state file invalid: moved aside", {{"path", path}, {"moved_to", aside}, {"reason", why}});
  for (const auto& backup : list_backups(data_dir)) {
    std::string backup_why;
    if (auto snap = load_snapshot_file(backup, backup_why)) {
      log::warn("state restored from backup", {{"backup", backup}});
      reconcile_with_config(*snap, cfg);
      return *snap;
    }
    log::warn("backup invalid, skipped", {{"backup", backup}, {"reason", backup_why}});
  }
  log::warn("no valid backup: starting fresh from the config", {{"path", path}});
  return seed_snapshot(cfg, now_ms());
}

} // namespace

caf::expected<state_store_actor> spawn_state_store(caf::actor_system& sys,
                                                   state_store_options opts) {
  std::error_code err;
  fs::create_directories(opts.data_dir, err);
  if (err)
    return caf::make_error(ec::state_error,
                           "cannot create data dir " + opts.data_dir + ": " + err.message());
  auto snap = load_or_recover(opts.data_dir, *opts.config);
  if (!snap)
    return snap.error();
  std::size_t loading = 0;
  for (const auto& [app_name, app] : snap->apps)
    for (const auto& [domain_name, d] : app.domains)
      if (d.status == job_status::loading) {
        ++loading;
        log::info("domain still Loading after restart",
                  {{"app", app_name}, {"domain", domain_name},
                   {"job_id", d.job_id ? json(*d.job_id) : json(nullptr)}});
      }
  // Write the (possibly new or recovered) state before serving, so the file
  // on disk always matches what the first reader sees.
  auto path = (fs::path(opts.data_dir) / state_file_name).string();
  auto bytes = std::make_shared<const std::string>(to_json(*snap).dump(2));
  if (auto failure = write_file_atomically(path, *bytes))
    return caf::make_error(ec::state_error, *failure);
  log::info("state loaded", {{"path", path}, {"apps", snap->apps.size()}, {"loading", loading}});
  auto writer = spawn_state_writer(sys, path);
  return sys.spawn(state_store, std::move(opts), std::move(*snap), writer, bytes);
}

} // namespace epmpulse
