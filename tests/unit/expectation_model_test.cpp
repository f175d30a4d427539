#include <boost/test/unit_test.hpp>

// Expectations judged on chosen instants: late, missed, overdue, short,
// held (one root cause along a chain) and maintenance, for cron and
// interval schedules, and the configuration that states them.

#include <string>

#include "actors/expectations/expectation_model.hpp"
#include "tests/support/config_parsing.hpp"
#include "tests/support/printing.hpp"

BOOST_AUTO_TEST_SUITE(expectation_model_tests)

using namespace epmpulse;
using namespace epmpulse::test::config_parsing;

namespace {

time_point at(const char* text) {
  auto t = parse_time(text);
  BOOST_REQUIRE_MESSAGE(t, text);
  return *t;
}

/// A context with no windows but the configured ones, watching since `since`.
evaluation_context context_of(const config::service_config& cfg, time_point since) {
  evaluation_context ctx;
  ctx.config = &cfg;
  ctx.watching_since = since;
  return ctx;
}

// Planning/Actual loads at 02:00 Berlin on weekdays; FCCS consolidates after
// it at 04:00, ARCS reconciles after FCCS at 06:00.
const char* chain_config = R"({
  "apps": {"Planning": {"domains": ["Actual", "Budget"]},
           "FCCS": {"domains": ["Consolidation"]},
           "ARCS": {"domains": ["Reconciliation"]}},
  "expectations": [
    {"app": "Planning", "domain": "Actual",
     "schedule": {"cron": "0 2 * * 1-5", "time_zone": "Europe/Berlin"},
     "grace_minutes": 30, "max_duration_minutes": 60, "min_duration_sec": 120},
    {"app": "FCCS", "domain": "Consolidation", "schedule": {"cron": "0 4 * * 1-5",
     "time_zone": "Europe/Berlin"}, "grace_minutes": 30, "after": ["Planning/Actual"]},
    {"app": "ARCS", "schedule": {"cron": "0 6 * * 1-5", "time_zone": "Europe/Berlin"},
     "grace_minutes": 30, "after": ["FCCS"]},
    {"app": "Planning", "domain": "Budget", "schedule": {"every_minutes": 60},
     "grace_minutes": 10}
  ],
  "maintenance": [{"name": "EPM pod", "apps": ["Planning"], "start": "03:00",
                   "time_zone": "UTC", "duration_minutes": 60}]
})";

struct fixture {
  config::service_config cfg = parse_ok(chain_config);
  status_snapshot snap = seed_snapshot(cfg, at("2026-12-01T00:00:00Z"));
  evaluation_context ctx = context_of(cfg, at("2026-12-01T00:00:00Z"));

  domain_state& domain(const std::string& app, const std::string& name) {
    return snap.apps.at(app).domains.at(name);
  }

  // A finished run: Loading at `start`, OK at `end`.
  void ran(const std::string& app, const std::string& name, const char* start, const char* end) {
    auto& d = domain(app, name);
    d.status = job_status::ok;
    d.job_id = "J";
    d.started.reset();
    d.updated = at(end);
    d.duration_sec =
      std::chrono::duration_cast<std::chrono::seconds>(at(end) - at(start)).count();
    d.source = update_source::push;
  }

  domain_expectation judge(const std::string& app, const std::string& name, const char* now) {
    auto results = evaluate_expectations(ctx, snap, at(now));
    return results.at(app).at(name);
  }
};

} // namespace

// Wednesday 2026-12-02: Berlin 02:00 = 01:00Z, grace until 01:30Z.
BOOST_FIXTURE_TEST_CASE(a_run_that_never_started_is_late_after_grace, fixture) {
  ran("Planning", "Actual", "2026-12-01T01:00:00Z", "2026-12-01T01:20:00Z");
  BOOST_TEST(to_string(judge("Planning", "Actual", "2026-12-02T01:29:00Z").state) == "on_time");
  auto late = judge("Planning", "Actual", "2026-12-02T01:31:00Z");
  BOOST_TEST(to_string(late.state) == "late");
  BOOST_TEST(format_time(late.due).value_or("none") == "2026-12-02T01:00:00Z");
  BOOST_TEST(format_time(late.next_run).value_or("none") == "2026-12-03T01:00:00Z");
}

BOOST_FIXTURE_TEST_CASE(a_run_that_is_loading_is_on_time_until_max_duration, fixture) {
  auto& d = domain("Planning", "Actual");
  d.status = job_status::loading;
  d.started = at("2026-12-02T00:58:00Z"); // two minutes early: within grace
  d.updated = d.started;
  BOOST_TEST(to_string(judge("Planning", "Actual", "2026-12-02T01:50:00Z").state) == "on_time");
  auto overdue = judge("Planning", "Actual", "2026-12-02T02:00:00Z");
  BOOST_TEST(to_string(overdue.state) == "overdue");
  auto results = evaluate_expectations(ctx, snap, at("2026-12-02T02:00:00Z"));
  auto updates = overdue_updates(results, snap, ctx);
  BOOST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(updates[0].status == job_status::warning);
  BOOST_TEST(updates[0].source == update_source::system);
  BOOST_TEST(updates[0].message->rfind("Overdue: Loading since", 0) == 0u);
}

BOOST_FIXTURE_TEST_CASE(no_run_for_a_whole_cycle_is_missed, fixture) {
  ran("Planning", "Actual", "2026-11-30T01:00:00Z", "2026-11-30T01:20:00Z");
  // Tuesday's run (01:00Z) never came; Wednesday's start has come.
  auto missed = judge("Planning", "Actual", "2026-12-02T01:05:00Z");
  BOOST_TEST(to_string(missed.state) == "missed");
  BOOST_TEST(format_time(missed.due).value_or("none") == "2026-12-01T01:00:00Z");
}

BOOST_FIXTURE_TEST_CASE(an_ok_sooner_than_min_duration_is_short, fixture) {
  ran("Planning", "Actual", "2026-12-02T01:00:00Z", "2026-12-02T01:00:30Z");
  BOOST_TEST(to_string(judge("Planning", "Actual", "2026-12-02T01:10:00Z").state) == "short");
  ran("Planning", "Actual", "2026-12-02T01:00:00Z", "2026-12-02T01:10:00Z");
  BOOST_TEST(to_string(judge("Planning", "Actual", "2026-12-02T01:10:00Z").state) == "on_time");
}

BOOST_FIXTURE_TEST_CASE(a_chain_names_one_root_cause, fixture) {
  ran("Planning", "Actual", "2026-12-01T01:00:00Z", "2026-12-01T01:20:00Z");
  ran("FCCS", "Consolidation", "2026-12-01T03:00:00Z", "2026-12-01T03:20:00Z");
  ran("ARCS", "Reconciliation", "2026-12-01T05:00:00Z", "2026-12-01T05:20:00Z");
  // Wednesday 06:00Z: Actual late since 01:30Z, FCCS due 03:30Z, ARCS 05:30Z.
  auto results = evaluate_expectations(ctx, snap, at("2026-12-02T06:00:00Z"));
  BOOST_TEST(to_string(results["Planning"]["Actual"].state) == "late");
  auto fccs = results["FCCS"]["Consolidation"];
  auto arcs = results["ARCS"]["Reconciliation"];
  BOOST_TEST(to_string(fccs.state) == "held");
  BOOST_TEST(fccs.root == "Planning/Actual");
  BOOST_TEST(to_string(arcs.state) == "held");
  BOOST_TEST(arcs.root == "Planning/Actual");
  BOOST_TEST(arcs.cause == "waiting for Planning/Actual (late)");
}

BOOST_FIXTURE_TEST_CASE(a_warning_upstream_holds_the_downstream, fixture) {
  ran("Planning", "Actual", "2026-12-02T01:00:00Z", "2026-12-02T01:20:00Z");
  domain("Planning", "Actual").status = job_status::warning;
  ran("FCCS", "Consolidation", "2026-12-01T03:00:00Z", "2026-12-01T03:20:00Z");
  auto fccs = judge("FCCS", "Consolidation", "2026-12-02T04:00:00Z");
  BOOST_TEST(to_string(fccs.state) == "held");
  BOOST_TEST(fccs.cause == "waiting for Planning/Actual (Warning)");
}

BOOST_FIXTURE_TEST_CASE(downstream_late_on_its_own_is_late, fixture) {
  ran("Planning", "Actual", "2026-12-02T01:00:00Z", "2026-12-02T01:20:00Z");
  ran("FCCS", "Consolidation", "2026-12-01T03:00:00Z", "2026-12-01T03:20:00Z");
  BOOST_TEST(to_string(judge("FCCS", "Consolidation", "2026-12-02T04:00:00Z").state) == "late");
}

BOOST_FIXTURE_TEST_CASE(maintenance_window_says_maintenance_instead_of_late, fixture) {
  // Planning's pod is down 03:00-04:00Z; Budget runs hourly (grace 10 min).
  auto& budget = domain("Planning", "Budget");
  budget.status = job_status::ok;
  budget.updated = at("2026-12-02T01:50:00Z");
  // The 02:50 run's deadline (03:00) falls in the window: it is due at the
  // window's end + grace (04:10), and until then it is "maintenance".
  BOOST_TEST(to_string(judge("Planning", "Budget", "2026-12-02T03:10:00Z").state)
             == "maintenance");
  BOOST_TEST(to_string(judge("Planning", "Budget", "2026-12-02T04:05:00Z").state)
             == "maintenance");
  BOOST_TEST(to_string(judge("Planning", "Budget", "2026-12-02T04:11:00Z").state) == "missed");
  // A run due after the window is judged as usual.
  budget.updated = at("2026-12-02T02:55:00Z");
  BOOST_TEST(to_string(judge("Planning", "Budget", "2026-12-02T04:04:00Z").state) == "on_time");
  BOOST_TEST(to_string(judge("Planning", "Budget", "2026-12-02T04:06:00Z").state) == "late");
}

BOOST_FIXTURE_TEST_CASE(adhoc_window_holds_the_apps_it_names, fixture) {
  ran("Planning", "Actual", "2026-12-01T01:00:00Z", "2026-12-01T01:20:00Z");
  ctx.adhoc_windows.push_back({"m-1", "upgrade", {"Planning"}, at("2026-12-02T00:00:00Z"),
                               at("2026-12-02T02:00:00Z")});
  BOOST_TEST(to_string(judge("Planning", "Actual", "2026-12-02T01:45:00Z").state)
             == "maintenance");
  // Its deadline (01:30Z) fell inside the window: late only after 02:00Z + grace.
  BOOST_TEST(to_string(judge("Planning", "Actual", "2026-12-02T02:20:00Z").state)
             == "maintenance");
  BOOST_TEST(to_string(judge("Planning", "Actual", "2026-12-02T02:31:00Z").state) == "late");
}

BOOST_FIXTURE_TEST_CASE(interval_counts_from_the_last_update, fixture) {
  auto& d = domain("Planning", "Budget");
  d.status = job_status::ok;
  d.updated = at("2026-12-02T10:00:00Z");
  BOOST_TEST(to_string(judge("Planning", "Budget", "2026-12-02T11:09:00Z").state) == "on_time");
  BOOST_TEST(to_string(judge("Planning", "Budget", "2026-12-02T11:11:00Z").state) == "late");
  BOOST_TEST(to_string(judge("Planning", "Budget", "2026-12-02T12:00:00Z").state) == "missed");
}

BOOST_FIXTURE_TEST_CASE(marks_carry_state_next_run_and_cause, fixture) {
  auto results = evaluate_expectations(ctx, snap, at("2026-12-02T01:31:00Z"));
  auto marks = to_marks(results);
  const auto& m = marks->at("Planning").at("Actual");
  BOOST_TEST(m.state == "missed"); // never updated: Tuesday's run never came either
  BOOST_TEST(format_time(m.next_run).value_or("none") == "2026-12-03T01:00:00Z");
  BOOST_TEST(!m.cause.empty());
}

// Planning runs hourly on a pod whose daily maintenance time is read from EPM
// (03:00 UTC until then); FCCS's pod is read only, with no start configured.
const char* read_window_config = R"({
  "apps": {"Planning": {"domains": ["Budget"], "server": "planning_pod"},
           "FCCS": {"domains": ["Consolidation"], "server": "fccs_pod"}},
  "settings": {"pull_mode": {"enabled": true}},
  "epm": {"auth": {"type": "basic", "username": "u", "password": "p"},
          "servers": {"planning_pod": {"base_url": "https://p.example.com", "application": "Vision"},
                      "fccs_pod": {"base_url": "https://f.example.com", "application": "FCCS01"}}},
  "expectations": [
    {"app": "Planning", "domain": "Budget", "schedule": {"every_minutes": 60}, "grace_minutes": 10},
    {"app": "FCCS", "domain": "Consolidation", "schedule": {"every_minutes": 60}, "grace_minutes": 10}],
  "maintenance": [{"name": "Planning pod", "server": "planning_pod", "start": "03:00",
                   "duration_minutes": 60},
                  {"name": "FCCS pod", "server": "fccs_pod", "duration_minutes": 60}]
})";

BOOST_AUTO_TEST_CASE(a_start_read_from_epm_replaces_the_configured_one) {
  auto cfg = parse_ok(read_window_config);
  auto snap = seed_snapshot(cfg, at("2026-12-01T00:00:00Z"));
  for (auto* d : {&snap.apps.at("Planning").domains.at("Budget"),
                  &snap.apps.at("FCCS").domains.at("Consolidation")}) {
    d->status = job_status::ok;
    d->updated = at("2026-12-02T17:50:00Z"); // the 18:50 run is due by 19:00
  }
  evaluation_context ctx = context_of(cfg, at("2026-12-01T00:00:00Z"));
  auto state_at = [&](const char* app, const char* domain, const char* now) {
    return std::string{
      to_string(evaluate_expectations(ctx, snap, at(now)).at(app).at(domain).state)};
  };
  // Configured 03:00: nothing holds the 18:50 run; FCCS has no window at all.
  BOOST_TEST(state_at("Planning", "Budget", "2026-12-02T19:05:00Z") == "late");
  BOOST_TEST(state_at("FCCS", "Consolidation", "2026-12-02T19:05:00Z") == "late");
  BOOST_TEST(windows_at(ctx, "FCCS", at("2026-12-02T19:05:00Z")).empty());
  // EPM says both pods go down at 18:55 UTC: the runs wait for the window.
  ctx.read_starts["planning_pod"] = {18 * 60 + 55, "UTC"};
  ctx.read_starts["fccs_pod"] = {18 * 60 + 55, "Etc/UTC"};
  BOOST_TEST(state_at("Planning", "Budget", "2026-12-02T19:05:00Z") == "maintenance");
  BOOST_TEST(state_at("FCCS", "Consolidation", "2026-12-02T19:05:00Z") == "maintenance");
  auto held = windows_at(ctx, "Planning", at("2026-12-02T19:05:00Z"));
  BOOST_TEST_REQUIRE(held.size() == 1u);
  BOOST_TEST(held[0].name == "Planning pod");
  BOOST_TEST(format_time(held[0].start) == "2026-12-02T18:55:00Z");
  BOOST_TEST(format_time(held[0].end) == "2026-12-02T19:55:00Z");
  // The configured 03:00 no longer holds anything; the read window's end
  // plus grace (20:05) is the deadline, by which a second cycle has gone.
  BOOST_TEST(windows_at(ctx, "Planning", at("2026-12-03T03:30:00Z")).empty());
  BOOST_TEST(state_at("Planning", "Budget", "2026-12-02T20:04:00Z") == "maintenance");
  BOOST_TEST(state_at("Planning", "Budget", "2026-12-02T20:06:00Z") == "missed");
  // A zone from EPM (showTimeZone) is honoured: 19:55 Berlin = 18:55 UTC.
  ctx.read_starts["planning_pod"] = {19 * 60 + 55, "Europe/Berlin"};
  BOOST_TEST(state_at("Planning", "Budget", "2026-12-02T19:05:00Z") == "maintenance");
}

// -- configuration -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(a_window_read_from_a_server_holds_its_apps_and_may_omit_start) {
  auto cfg = parse_ok(read_window_config);
  BOOST_TEST_REQUIRE(cfg.maintenance.size() == 2u);
  BOOST_TEST(cfg.maintenance[0].server == "planning_pod");
  BOOST_TEST(cfg.maintenance[0].start_minute.value_or(-1) == 180);
  BOOST_TEST(cfg.maintenance[0].apps == std::vector<std::string>{"Planning"});
  BOOST_TEST(cfg.maintenance[1].server == "fccs_pod");
  BOOST_TEST(!cfg.maintenance[1].start_minute.has_value());
  BOOST_TEST(cfg.maintenance[1].apps == std::vector<std::string>{"FCCS"});
}

BOOST_AUTO_TEST_CASE(a_window_read_from_a_server_needs_that_server_and_pull_mode) {
  auto unknown = parse_error(R"({"apps": {"P": {"server": "s"}},
    "settings": {"pull_mode": {"enabled": true}},
    "epm": {"auth": {"type": "basic", "username": "u", "password": "p"},
            "servers": {"s": {"base_url": "https://e.example.com", "kind": "arcs"}}},
    "maintenance": [{"name": "pod", "server": "t"}]})");
  BOOST_TEST(unknown.field == "maintenance[0].server");
  BOOST_TEST(contains(unknown.fix, "epm.servers\": s"));
  auto no_pull = parse_error(R"({"apps": {"P": {"server": "s"}},
    "epm": {"servers": {"s": {"base_url": "https://e.example.com", "kind": "arcs"}}},
    "maintenance": [{"name": "pod", "server": "s"}]})");
  BOOST_TEST(no_pull.field == "maintenance[0].server");
  BOOST_TEST(contains(no_pull.fix, "settings.pull_mode.enabled"));
  auto no_apps = parse_error(R"({"apps": {"P": {}},
    "settings": {"pull_mode": {"enabled": true}},
    "epm": {"auth": {"type": "basic", "username": "u", "password": "p"},
            "servers": {"s": {"base_url": "https://e.example.com", "kind": "arcs"}}},
    "maintenance": [{"name": "pod", "server": "s"}]})");
  BOOST_TEST(no_apps.field == "maintenance[0].apps");
  auto no_start = parse_error(R"({"apps": {"P": {}},
    "maintenance": [{"name": "pod", "duration_minutes": 60}]})");
  BOOST_TEST(no_start.field == "maintenance[0].start");
  BOOST_TEST(contains(no_start.fix, "03:00"));
}

BOOST_AUTO_TEST_CASE(bad_cron_names_the_field_and_shows_the_fix) {
  auto err = parse_error(R"({"apps": {"Planning": {"domains": ["Actual"]}},
    "expectations": [{"app": "Planning", "domain": "Actual", "schedule": {"cron": "0 2 * *"}}]})");
  BOOST_TEST(err.field == "expectations[0].schedule.cron");
  BOOST_TEST(contains(err.problem, "five"));
  BOOST_TEST(contains(err.fix, "0 2 * * 1-5"));
}

BOOST_AUTO_TEST_CASE(unknown_time_zone_and_domain_are_refused) {
  auto zone = parse_error(R"({"apps": {"Planning": {"domains": ["Actual"]}},
    "expectations": [{"app": "Planning", "domain": "Actual",
                      "schedule": {"cron": "0 2 * * *", "time_zone": "Europe/Berlinn"}}]})");
  BOOST_TEST(zone.field == "expectations[0].schedule.time_zone");
  auto domain = parse_error(R"({"apps": {"Planning": {"domains": ["Actual"]}},
    "expectations": [{"app": "Planning", "domain": "Plan", "max_duration_minutes": 10}]})");
  BOOST_TEST(domain.field == "expectations[0].domain");
  BOOST_TEST(contains(domain.fix, "apps.Planning.domains"));
}

BOOST_AUTO_TEST_CASE(a_cycle_of_after_is_refused) {
  auto err = parse_error(R"({"apps": {"A": {"domains": ["x"]}, "B": {"domains": ["y"]}},
    "expectations": [{"app": "A", "max_duration_minutes": 10, "after": ["B/y"]},
                     {"app": "B", "max_duration_minutes": 10, "after": ["A"]}]})");
  BOOST_TEST(contains(err.problem, "cycle"));
}

BOOST_AUTO_TEST_CASE(two_expectations_for_one_domain_are_refused) {
  auto err = parse_error(R"({"apps": {"A": {"domains": ["x"]}},
    "expectations": [{"app": "A", "max_duration_minutes": 10},
                     {"app": "A", "domain": "x", "max_duration_minutes": 20}]})");
  BOOST_TEST(err.field == "expectations[1]");
}

BOOST_AUTO_TEST_CASE(alert_settings_and_webhook_secret_are_checked) {
  auto cfg = parse_ok(R"({"apps": {"A": {"domains": ["x"], "alert_channel": "CALERT"}},
    "settings": {"alerts": {"enabled": true, "reminder_hours": 4, "alert_after_failures": 2,
                 "webhook": {"url": "https://hooks.example.com/x", "secret": "${HOOK}"}}}})",
                      {{"HOOK", secret}});
  BOOST_TEST(cfg.settings.alerts.enabled);
  BOOST_TEST(cfg.settings.alerts.alert_after_failures == 2);
  BOOST_TEST(cfg.settings.alerts.webhook.secret == secret);
  BOOST_TEST(cfg.apps[0].alert_channel == "CALERT");
  auto err = parse_error(R"({"apps": {"A": {}},
    "settings": {"alerts": {"webhook": {"url": "https://hooks.example.com/x", "secret": "short"}}}})");
  BOOST_TEST(err.field == "settings.alerts.webhook.secret");
  BOOST_TEST(!contains(err.to_string(), "short\""));
}

BOOST_AUTO_TEST_SUITE_END()
