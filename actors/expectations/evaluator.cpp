#include "actors/expectations/evaluator.hpp"

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <fmt/format.h>

#include "actors/common/log.hpp"
#include "actors/common/wall_clock.hpp"

namespace epmpulse {

namespace {

constexpr auto snapshot_timeout = std::chrono::seconds(5);
constexpr auto apply_timeout = std::chrono::seconds(30);

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
  /// Overdue Warnings asked for and not yet seen applied, by domain and start.
  std::map<std::string, time_point> overdue_asked;
  std::uint64_t evaluations = 0;
  std::uint64_t overdue_applied = 0;
  std::uint64_t next_window = 1;
};

using evaluator_pointer = evaluator_actor::stateful_pointer<evaluator_state>;

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
  if (!overdue.empty()) {
    st.overdue_applied += overdue.size();
    self->request(st.opts.state, apply_timeout, apply_atom_v, std::move(overdue))
      .then([](const apply_result&) {},
            [](caf::error& err) {
              log::warn("overdue Warning not applied (retried at the next evaluation)",
                        {{"reason", describe_error(err)}});
            });
  }
  if (st.opts.alerts)
    self->send(st.opts.alerts, alert_atom_v, conditions_of(self, *snap, *results));
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
  for (const auto& c : *changes) {
    auto key = c.app + "/" + c.domain;
    if (c.after.status == job_status::warning) {
      // Counted from what is known: a Warning found at start counts once.
      auto [it, fresh] = st.warnings_in_a_row.try_emplace(
        key, c.before.status == job_status::warning ? 1 : 0);
      ++it->second;
    } else if (c.after.status == job_status::ok) {
      st.warnings_in_a_row.erase(key);
    }
    if (c.after.status != job_status::loading)
      st.overdue_asked.erase(key);
  }
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
  self->send(st.opts.state, subscribe_atom_v, change_listener_actor{self});
  self->send(self, evaluate_due_atom_v);
  return {
    [self](changed_atom, const change_set& changes) {
      count_warnings(self, changes);
      evaluate(self);
    },
    [self](evaluate_due_atom) {
      self->delayed_send(self, interval_of(*self->state.opts.config), evaluate_due_atom_v);
      evaluate(self);
    },
    [self](maintenance_atom, maintenance_request& req) -> maintenance_window {
      auto& st = self->state;
      auto now = wall_now(self);
      maintenance_window w;
      w.id = fmt::format("m-{}", st.next_window++);
      w.name = req.reason.empty() ? "maintenance" : req.reason;
      w.apps = std::move(req.apps);
      w.start = req.start.value_or(now);
      w.end = req.end;
      // Windows that have ended hold nothing: drop them as new ones come.
      std::erase_if(st.context.adhoc_windows, [now](const auto& old) { return old.end <= now; });
      st.context.adhoc_windows.push_back(w);
      log::info("maintenance window added", {{"id", w.id},
                                             {"name", w.name},
                                             {"start", format_time(w.start)},
                                             {"end", format_time(w.end)}});
      evaluate(self);
      return w;
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
      return {std::move(out)};
    },
  };
}

} // namespace

evaluator_actor spawn_evaluator(caf::actor_system& sys, evaluator_options opts) {
  return sys.spawn(evaluator, std::move(opts));
}

} // namespace epmpulse
