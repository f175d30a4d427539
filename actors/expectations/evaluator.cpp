#include "actors/expectations/evaluator.hpp"

#include <algorithm>
#include <filesystem>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"
#include "actors/common/wall_clock.hpp"

namespace epmpulse {

namespace {

constexpr auto snapshot_timeout = std::chrono::seconds(5);
constexpr auto apply_timeout = std::chrono::seconds(30);
constexpr auto store_timeout = std::chrono::seconds(10);
constexpr auto takeover_retry = std::chrono::seconds(1);
constexpr const char* store_name = "expectations"; ///< its document in the leader store

using nlohmann::json;

struct evaluator_state {
  static inline constexpr const char* name = "expectation_evaluator";

  evaluator_options opts;
  evaluation_context context;
  time_point wall_origin{};
  caf::actor_clock::time_point clock_origin{};
  bool in_flight = false; ///< a snapshot request is out
  bool again = false;     ///< a change came meanwhile: evaluate once more
  expectation_results_ptr last;
  std::vector<caf::typed_response_promise<expectation_results_ptr>> waiting;
  std::optional<expectation_marks> sent_marks;
  /// Consecutive Warnings per "App/Domain" (reset by OK).
  std::map<std::string, int> warnings_in_a_row;
  /// The expectation state last written to the history per "App/Domain";
  /// absent = on_time.
  std::map<std::string, std::string> recorded_states;
  /// Overdue Warnings asked for and not yet seen applied, by domain and start.
  std::map<std::string, time_point> overdue_asked;
  std::uint64_t evaluations = 0;
  std::uint64_t overdue_applied = 0;
  std::uint64_t next_window = 1;
  std::uint64_t store_failures = 0;
  /// PostgreSQL storage: the election's word, and whether this instance has
  /// taken the store over (only then does it act on the judgement).
  bool clustered = false;
  bool want_lead = false;
  bool taking_over = false;
  bool leading = true;
};

using evaluator_pointer = evaluator_actor::stateful_pointer<evaluator_state>;

// -- durable windows and counts ------------------------------------------------------

json window_json(const maintenance_window& w) {
  return {{"id", w.id}, {"name", w.name}, {"apps", w.apps}, {"start", format_time(w.start)},
          {"end", format_time(w.end)}};
}

std::optional<maintenance_window> window_of(const json& j) {
  if (!j.is_object() || !j.contains("id") || !j["id"].is_string())
    return std::nullopt;
  auto start = parse_time(j.value("start", ""));
  auto end = parse_time(j.value("end", ""));
  if (!start || !end)
    return std::nullopt;
  maintenance_window w;
  w.id = j["id"].get<std::string>();
  w.name = j.value("name", "maintenance");
  if (j.contains("apps") && j["apps"].is_array())
    for (const auto& a : j["apps"])
      if (a.is_string())
        w.apps.push_back(a.get<std::string>());
  w.start = *start;
  w.end = *end;
  return w;
}

/// The document: the counts, and with the JSON file the windows too (with
/// PostgreSQL they are rows of their own).
std::string document_of(evaluator_pointer self) {
  auto& st = self->state;
  json doc = {{"version", 1},
              {"warnings_in_a_row", st.warnings_in_a_row},
              {"states", st.recorded_states}};
  if (!st.clustered) {
    auto now = wall_now(self);
    std::erase_if(st.context.adhoc_windows, [now](const auto& w) { return w.end <= now; });
    doc["next_window"] = st.next_window;
    doc["windows"] = json::array();
    for (const auto& w : st.context.adhoc_windows)
      doc["windows"].push_back(window_json(w));
  }
  return doc.dump(2);
}

/// Reads a document into the state (windows ended by `now` dropped); with
/// `merge` a count already higher here (this instance saw more of the change
/// stream) is kept. False when the text is not a document.
bool read_document(evaluator_state& st, const std::string& text, time_point now, bool merge) {
  if (text.empty())
    return true;
  auto doc = json::parse(text, nullptr, false);
  if (!doc.is_object())
    return false;
  if (auto c = doc.find("warnings_in_a_row"); c != doc.end() && c->is_object())
    for (const auto& [key, n] : c->items())
      if (n.is_number_integer()) {
        auto& mine = st.warnings_in_a_row[key];
        mine = merge ? std::max(mine, n.get<int>()) : n.get<int>();
      }
  // The stored states are what the history holds: they win over this
  // instance's (a follower records nothing).
  if (auto states = doc.find("states"); states != doc.end() && states->is_object())
    for (const auto& [key, state] : states->items())
      if (state.is_string())
        st.recorded_states[key] = state.get<std::string>();
  if (auto w = doc.find("windows"); w != doc.end() && w->is_array())
    for (const auto& j : *w)
      if (auto window = window_of(j); window && window->end > now)
        st.context.adhoc_windows.push_back(std::move(*window));
  if (auto n = doc.find("next_window"); n != doc.end() && n->is_number_unsigned())
    st.next_window = std::max(st.next_window, n->get<std::uint64_t>());
  return true;
}

void save(evaluator_pointer self) {
  auto& st = self->state;
  auto on_result = [self](bool ok) {
    if (!ok)
      ++self->state.store_failures;
  };
  auto on_error = [self](caf::error&) { ++self->state.store_failures; };
  if (st.clustered) {
    if (st.leading)
      self->request(st.opts.store, store_timeout, write_atom_v, std::string{store_name},
                    document_of(self))
        .then(on_result, on_error);
  } else if (st.opts.writer) {
    self->request(st.opts.writer, store_timeout, write_atom_v, document_of(self))
      .then(on_result, on_error);
  }
}

bool same_marks(const expectation_marks& a, const expectation_marks& b) {
  return a && b && *a == *b;
}

int failures_needed(const config::service_config& cfg, const std::string& app,
                    const std::string& domain) {
  if (const auto* e = expectation_for(cfg, app, domain); e && e->alert_after_failures)
    return *e->alert_after_failures;
  return cfg.settings.alerts.alert_after_failures;
}

double reminder_hours(const config::service_config& cfg, const std::string& app,
                      const std::string& domain) {
  if (const auto* e = expectation_for(cfg, app, domain); e && e->reminder_hours)
    return *e->reminder_hours;
  return cfg.settings.alerts.reminder_hours;
}

/// The bad domains: the alerting expectation states first, then Warnings.
alert_conditions conditions_of(evaluator_pointer self, const status_snapshot& snap,
                               const expectation_results& results) {
  auto& st = self->state;
  const auto& cfg = *st.opts.config;
  auto out = std::make_shared<std::vector<alert_condition>>();
  std::map<std::string, std::vector<std::string>> holds; // root -> held domains
  for (const auto& [app, domains] : results)
    for (const auto& [domain, x] : domains)
      if (x.state == expectation_state::held)
        holds[x.root].push_back(app + "/" + domain);
  for (const auto& [app_name, app] : snap.apps)
    for (const auto& [domain_name, d] : app.domains) {
      auto key = app_name + "/" + domain_name;
      alert_condition c{app_name, domain_name, "", "", holds[key],
                        reminder_hours(cfg, app_name, domain_name)};
      const domain_expectation* x = nullptr;
      if (auto a = results.find(app_name); a != results.end())
        if (auto di = a->second.find(domain_name); di != a->second.end())
          x = &di->second;
      if (x != nullptr && is_alerting(x->state)) {
        c.kind = to_string(x->state);
        c.cause = x->cause;
      } else if (x != nullptr
                 && (x->state == expectation_state::held
                     || x->state == expectation_state::maintenance)) {
        c.kind = to_string(x->state);
        c.cause = x->cause;
        c.quiet = true;
      } else if (d.status == job_status::warning) {
        auto it = st.warnings_in_a_row.find(key);
        // A Warning found at start counts once: its history is not kept here.
        int seen = it == st.warnings_in_a_row.end() ? 1 : it->second;
        if (seen < failures_needed(cfg, app_name, domain_name))
          continue;
        c.kind = "warning";
        c.cause = d.message.value_or("Warning");
        if (seen > 1)
          c.cause += fmt::format(" ({} Warnings in a row)", seen);
      } else {
        continue;
      }
      out->push_back(std::move(c));
    }
  return out;
}

void evaluate(evaluator_pointer self);

/// Elected: the counts the last leader wrote (merged with this instance's),
/// then this instance acts. Retried each second while the store fails.
void take_over(evaluator_pointer self) {
  auto& st = self->state;
  if (!st.want_lead || st.leading || st.taking_over)
    return;
  st.taking_over = true;
  self->request(st.opts.store, store_timeout, load_atom_v, std::string{store_name})
    .then(
      [self](const std::string& text) {
        auto& st = self->state;
        st.taking_over = false;
        if (!st.want_lead)
          return; // stepped down meanwhile
        if (!read_document(st, text, wall_now(self), true))
          log::warn("expectation counts in the database are not a document: counting afresh");
        st.leading = true;
        st.overdue_asked.clear();
        log::info("expectations acted on here (leader)",
                  {{"warning_counts", st.warnings_in_a_row.size()}});
        save(self);
        evaluate(self);
      },
      [self](caf::error& err) {
        self->state.taking_over = false;
        log::warn("expectation counts not loaded: retried in a second",
                  {{"reason", describe_error(err)}});
        self->delayed_send(self, takeover_retry, takeover_due_atom_v);
      });
}

/// PostgreSQL storage: the windows every instance added, then an evaluation
/// (with the last windows known when the database does not answer).
void refresh_windows_and_evaluate(evaluator_pointer self) {
  auto& st = self->state;
  if (!st.clustered) {
    evaluate(self);
    return;
  }
  self->request(st.opts.store, store_timeout, maintenance_atom_v)
    .then(
      [self](maintenance_windows& windows) {
        self->state.context.adhoc_windows = std::move(windows);
        evaluate(self);
      },
      [self](caf::error& err) {
        log::debug("maintenance windows not read", {{"reason", describe_error(err)}});
        evaluate(self);
      });
}

/// Writes each domain whose expectation state changed since the last one
/// written to the history, and keeps the new states durably.
void record_state_changes(evaluator_pointer self, const expectation_results& results,
                          time_point now) {
  auto& st = self->state;
  bool changed = false;
  for (const auto& [app, domains] : results)
    for (const auto& [domain, judged] : domains) {
      auto key = app + "/" + domain;
      std::string state = to_string(judged.state);
      auto it = st.recorded_states.find(key);
      std::string before = it == st.recorded_states.end() ? "on_time" : it->second;
      if (state == before)
        continue;
      alert_history_entry e;
      e.at = now;
      e.app = app;
      e.domain = domain;
      e.kind = state;
      e.event = "expectation";
      e.detail = judged.cause.empty() ? "was " + before : judged.cause + " (was " + before + ")";
      self->send(st.opts.history, alert_atom_v, std::move(e));
      if (judged.state == expectation_state::on_time)
        st.recorded_states.erase(key);
      else
        st.recorded_states[key] = state;
      changed = true;
    }
  // Domains no longer expected (the configuration changed) are forgotten.
  changed |= std::erase_if(st.recorded_states, [&results](const auto& entry) {
               auto slash = entry.first.find('/');
               auto app = results.find(entry.first.substr(0, slash));
               return slash == std::string::npos || app == results.end()
                      || !app->second.contains(entry.first.substr(slash + 1));
             }) > 0;
  if (changed)
    save(self);
}

void on_snapshot(evaluator_pointer self, const snapshot_ptr& snap) {
  auto& st = self->state;
  auto now = wall_now(self);
  auto results = std::make_shared<expectation_results>(
    evaluate_expectations(st.context, *snap, now));
  ++st.evaluations;
  auto marks = to_marks(*results);
  // Without expectations the bodies stay as they were (and so do their tags).
  if (!st.opts.config->expectations.empty()
      && (!st.sent_marks || !same_marks(*st.sent_marks, marks))) {
    self->send(st.opts.state, expectation_atom_v, marks);
    if (st.opts.canvas)
      self->send(st.opts.canvas, expectation_atom_v, to_canvas_marks(*results));
    st.sent_marks = marks;
  }
  std::vector<status_update> overdue;
  for (auto& u : overdue_updates(*results, *snap, st.context)) {
    auto key = u.app + "/" + u.domain;
    const auto& started = snap->apps.at(u.app).domains.at(u.domain).started;
    if (auto it = st.overdue_asked.find(key);
        it != st.overdue_asked.end() && started && it->second == *started)
      continue; // asked already; the change set will show it
    if (started)
      st.overdue_asked[key] = *started;
    log::warn("loading domain overdue",
              {{"app", u.app}, {"domain", u.domain}, {"message", *u.message}});
    overdue.push_back(std::move(u));
  }
  if (!st.leading)
    overdue.clear(); // the leader's Warning reaches this instance as a change
  if (!overdue.empty()) {
    st.overdue_applied += overdue.size();
    self->request(st.opts.state, apply_timeout, apply_atom_v, std::move(overdue))
      .then([](const apply_result&) {},
            [](caf::error& err) {
              log::warn("overdue Warning not applied (retried at the next evaluation)",
                        {{"reason", describe_error(err)}});
            });
  }
  if (st.opts.alerts && st.leading)
    self->send(st.opts.alerts, alert_atom_v, conditions_of(self, *snap, *results));
  if (st.opts.history && st.leading)
    record_state_changes(self, *results, now);
  st.last = results;
  for (auto& p : st.waiting)
    p.deliver(st.last);
  st.waiting.clear();
}

void evaluate(evaluator_pointer self) {
  auto& st = self->state;
  if (st.in_flight) {
    st.again = true;
    return;
  }
  st.in_flight = true;
  st.again = false;
  self->request(st.opts.state, snapshot_timeout, snapshot_atom_v)
    .then(
      [self](snapshot_ptr& snap) {
        self->state.in_flight = false;
        on_snapshot(self, snap);
        if (self->state.again)
          evaluate(self);
      },
      [self](caf::error& err) {
        self->state.in_flight = false;
        log::warn("expectations not evaluated: the state did not answer",
                  {{"reason", describe_error(err)}});
      });
}

void count_warnings(evaluator_pointer self, const change_set& changes) {
  auto& st = self->state;
  bool counted = false;
  for (const auto& c : *changes) {
    auto key = c.app + "/" + c.domain;
    if (c.after.status == job_status::warning) {
      // Counted from what is known: a Warning older than the store counts once.
      auto [it, fresh] = st.warnings_in_a_row.try_emplace(
        key, c.before.status == job_status::warning ? 1 : 0);
      ++it->second;
      counted = true;
    } else if (c.after.status == job_status::ok) {
      counted = st.warnings_in_a_row.erase(key) > 0 || counted;
    }
    if (c.after.status != job_status::loading)
      st.overdue_asked.erase(key);
  }
  if (counted)
    save(self);
}

caf::timespan interval_of(const config::service_config& cfg) {
  return std::chrono::milliseconds{
    static_cast<std::int64_t>(cfg.settings.alerts.evaluate_interval_sec * 1000)};
}

evaluator_actor::behavior_type evaluator(evaluator_pointer self, evaluator_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.wall_origin = st.opts.wall_origin.value_or(now_ms());
  st.clock_origin = self->clock().now();
  st.context.config = st.opts.config.get();
  st.context.watching_since = st.wall_origin;
  st.clustered = static_cast<bool>(st.opts.store);
  st.leading = !st.clustered;
  if (st.opts.saved) {
    if (!read_document(st, *st.opts.saved, st.wall_origin, false))
      log::warn("expectation store unreadable: its windows and Warning counts are forgotten");
    else if (!st.context.adhoc_windows.empty() || !st.warnings_in_a_row.empty())
      log::info("expectation store loaded", {{"windows", st.context.adhoc_windows.size()},
                                             {"warning_counts", st.warnings_in_a_row.size()}});
    st.opts.saved.reset();
  }
  self->send(st.opts.state, subscribe_atom_v, change_listener_actor{self});
  self->send(self, evaluate_due_atom_v);
  return {
    [self](changed_atom, const change_set& changes) {
      count_warnings(self, changes);
      evaluate(self);
    },
    [self](evaluate_due_atom) {
      self->delayed_send(self, interval_of(*self->state.opts.config), evaluate_due_atom_v);
      refresh_windows_and_evaluate(self);
    },
    [self](maintenance_atom, maintenance_request& req) -> caf::result<maintenance_window> {
      auto& st = self->state;
      auto now = wall_now(self);
      maintenance_window w;
      w.name = req.reason.empty() ? "maintenance" : req.reason;
      w.apps = std::move(req.apps);
      w.start = req.start.value_or(now);
      w.end = req.end;
      if (st.clustered) {
        // Shared by the cluster: the database draws the id; every instance
        // reads the window at its next timer tick.
        auto promise = self->make_response_promise<maintenance_window>();
        self->request(st.opts.store, store_timeout, maintenance_atom_v, std::move(w))
          .then(
            [self, promise](maintenance_window& stored) mutable {
              self->state.context.adhoc_windows.push_back(stored);
              log::info("maintenance window added", {{"id", stored.id},
                                                     {"name", stored.name},
                                                     {"start", format_time(stored.start)},
                                                     {"end", format_time(stored.end)}});
              evaluate(self);
              promise.deliver(std::move(stored));
            },
            [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
        return promise;
      }
      w.id = fmt::format("m-{}", st.next_window++);
      // Windows that have ended hold nothing: drop them as new ones come.
      std::erase_if(st.context.adhoc_windows, [now](const auto& old) { return old.end <= now; });
      st.context.adhoc_windows.push_back(w);
      save(self);
      log::info("maintenance window added", {{"id", w.id},
                                             {"name", w.name},
                                             {"start", format_time(w.start)},
                                             {"end", format_time(w.end)}});
      evaluate(self);
      return w;
    },
    [self](maintenance_atom, const epm_daily_maintenance& read) {
      auto& starts = self->state.context.read_starts;
      auto it = starts.find(read.server_id);
      if (it != starts.end() && it->second.minute == read.start.minute
          && it->second.time_zone == read.start.time_zone)
        return;
      starts[read.server_id] = read.start;
      evaluate(self);
    },
    [self](get_atom) -> caf::result<expectation_results_ptr> {
      auto& st = self->state;
      if (st.last && !st.in_flight)
        return st.last;
      auto promise = self->make_response_promise<expectation_results_ptr>();
      st.waiting.push_back(promise);
      evaluate(self);
      return promise;
    },
    [self](leader_atom, bool leader) {
      auto& st = self->state;
      if (!st.clustered)
        return;
      st.want_lead = leader;
      if (leader) {
        take_over(self);
      } else if (st.leading) {
        st.leading = false;
        log::info("expectations no longer acted on here (follower)");
      }
    },
    [self](takeover_due_atom) { take_over(self); },
    [self](metrics_atom) -> alert_metrics {
      auto& st = self->state;
      std::string out;
      out += "# HELP epmpulse_expectation_evaluations_total Expectation evaluations.\n"
             "# TYPE epmpulse_expectation_evaluations_total counter\n";
      out += fmt::format("epmpulse_expectation_evaluations_total {}\n", st.evaluations);
      out += "# HELP epmpulse_expectation_overdue_total Overdue Loading turned into Warning.\n"
             "# TYPE epmpulse_expectation_overdue_total counter\n";
      out += fmt::format("epmpulse_expectation_overdue_total {}\n", st.overdue_applied);
      out += "# HELP epmpulse_expectation_domains Domains by expectation state.\n"
             "# TYPE epmpulse_expectation_domains gauge\n";
      std::map<std::string, int> counts;
      for (auto s : {expectation_state::on_time, expectation_state::late,
                     expectation_state::missed, expectation_state::overdue,
                     expectation_state::short_run, expectation_state::held,
                     expectation_state::maintenance})
        counts[to_string(s)] = 0;
      if (st.last)
        for (const auto& [app, domains] : *st.last)
          for (const auto& [domain, x] : domains)
            ++counts[to_string(x.state)];
      for (const auto& [state, n] : counts)
        out += fmt::format("epmpulse_expectation_domains{{state=\"{}\"}} {}\n", state, n);
      out += "# HELP epmpulse_expectation_store_failures_total Failed writes of the "
             "maintenance windows and Warning counts.\n"
             "# TYPE epmpulse_expectation_store_failures_total counter\n";
      out += fmt::format("epmpulse_expectation_store_failures_total {}\n", st.store_failures);
      return {std::move(out)};
    },
  };
}

} // namespace

evaluator_actor spawn_evaluator(caf::actor_system& sys, evaluator_options opts) {
  namespace fs = std::filesystem;
  if (!opts.store && !opts.data_dir.empty() && !opts.saved) {
    auto path = (fs::path(opts.data_dir) / expectations_file_name).string();
    std::error_code err;
    if (fs::exists(path, err)) {
      opts.saved = read_file(path);
      // A file that does not parse is kept aside for a person to read.
      if (!opts.saved || !json::accept(*opts.saved)) {
        auto aside = path + ".corrupt";
        fs::rename(path, aside, err);
        log::warn("expectation store invalid: moved aside, its maintenance windows and "
                  "Warning counts are forgotten",
                  {{"path", path}, {"moved_to", aside}});
        opts.saved.reset();
      }
    }
    if (!opts.writer)
      opts.writer = spawn_text_file_writer(sys, path, "the expectation store");
  }
  return sys.spawn(evaluator, std::move(opts));
}

} // namespace epmpulse
