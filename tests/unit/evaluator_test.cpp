#include <boost/test/unit_test.hpp>

// The expectation evaluator on simulated time, against the fake state
// actor: it subscribes, marks the domains for GET /status, turns an overdue
// Loading into Warning through apply (once), tells the alert actor the bad
// domains (one root cause for a chain), and honours ad-hoc maintenance.

#include <memory>
#include <optional>
#include <string>

#include <caf/all.hpp>

#include "actors/expectations/evaluator.hpp"
#include "tests/fakes/fake_state_store.hpp"
#include "tests/support/config_parsing.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/simulated_system.hpp"

BOOST_AUTO_TEST_SUITE(evaluator_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace std::chrono_literals;

namespace {

time_point at(const char* text) {
  auto t = parse_time(text);
  BOOST_REQUIRE_MESSAGE(t, text);
  return *t;
}

/// Records what the evaluator tells the alert actor.
struct alert_log {
  std::vector<std::vector<alert_condition>> told;
};

alert_actor spawn_alert_recorder(caf::actor_system& sys, std::shared_ptr<alert_log> log) {
  return sys.spawn([log]() -> alert_actor::behavior_type {
    return {
      [log](alert_atom, const alert_conditions& c) { log->told.push_back(*c); },
      [](alert_atom) { return std::string{"{}"}; },
      [](ack_atom, const std::string&) { return std::string{"{}"}; },
      [](delivery_due_atom, std::uint64_t) {},
      [](leader_atom, bool) {},
      [](ack_poll_due_atom) {},
      [](metrics_atom) { return alert_metrics{}; },
    };
  });
}

struct fixture {
  simulated_system sim;
  std::shared_ptr<state_recorder> state = std::make_shared<state_recorder>();
  std::shared_ptr<alert_log> alerts = std::make_shared<alert_log>();
  std::shared_ptr<config::service_config> cfg =
    std::make_shared<config::service_config>(config_parsing::parse_ok(R"({
      "apps": {"Planning": {"domains": ["Actual"]}, "FCCS": {"domains": ["Consolidation"]}},
      "expectations": [
        {"app": "Planning", "domain": "Actual", "schedule": {"cron": "0 2 * * *",
         "time_zone": "UTC"}, "grace_minutes": 30, "max_duration_minutes": 60},
        {"app": "FCCS", "schedule": {"cron": "0 4 * * *"}, "grace_minutes": 30,
         "after": ["Planning/Actual"], "alert_after_failures": 2}],
      "settings": {"alerts": {"evaluate_interval_sec": 60}}})"));
  status_snapshot snap = seed_snapshot(*cfg, at("2026-12-01T00:00:00Z"));
  // The test's "now" at the start of simulated time.
  time_point origin = at("2026-12-02T01:50:00Z");
  evaluator_actor evaluator;

  fixture() {
    auto& actual = snap.apps.at("Planning").domains.at("Actual");
    actual.status = job_status::ok;
    actual.updated = at("2026-12-01T02:20:00Z");
    auto& fccs = snap.apps.at("FCCS").domains.at("Consolidation");
    fccs.status = job_status::ok;
    fccs.updated = at("2026-12-01T04:20:00Z");
  }

  void start() {
    state->set_snapshot(snap);
    evaluator_options opts;
    opts.config = cfg;
    opts.state = sim.stop_at_end(spawn_fake_state_store(sim.system(), state));
    opts.alerts = sim.stop_at_end(spawn_alert_recorder(sim.system(), alerts));
    opts.wall_origin = origin;
    evaluator = sim.stop_at_end(spawn_evaluator(sim.system(), opts));
    sim.run();
  }

  std::string mark(const std::string& app, const std::string& domain) {
    auto marks = state->marks();
    BOOST_REQUIRE(marks);
    const auto& m = marks->at(app).at(domain);
    BOOST_TEST_MESSAGE(app + "/" + domain + ": " + m.state + " (" + m.cause + ")");
    return m.state;
  }

  // The state changed: the fake serves `snap` and the evaluator hears of it.
  void changed(const std::string& app, const std::string& domain, domain_state before) {
    state->set_snapshot(snap);
    caf::anon_send(evaluator, changed_atom_v,
                   one_change({app, domain, std::move(before), snap.apps.at(app).domains.at(domain)}));
    sim.run();
  }
};

/// The evaluator with a history that records the entries it is sent and a
/// store writer that keeps the last document (for a restart).
struct history_fixture : fixture {
  std::shared_ptr<std::vector<alert_history_entry>> history =
    std::make_shared<std::vector<alert_history_entry>>();
  std::shared_ptr<std::string> stored = std::make_shared<std::string>();

  void start_with_history(std::optional<time_point> wall_clock = {}) {
    state->set_snapshot(snap);
    auto entries = history;
    alert_history_sink sink = sim.system().spawn(
      [entries]() -> alert_history_sink::behavior_type {
        return {[entries](alert_atom, const alert_history_entry& e) { entries->push_back(e); }};
      });
    auto document = stored;
    text_file_writer_actor writer = sim.system().spawn(
      [document]() -> text_file_writer_actor::behavior_type {
        return {[document](write_atom, const std::string& text) {
          *document = text;
          return true;
        }};
      });
    evaluator_options opts;
    opts.config = cfg;
    opts.state = sim.stop_at_end(spawn_fake_state_store(sim.system(), state));
    opts.history = sim.stop_at_end(sink);
    opts.writer = sim.stop_at_end(writer);
    if (!stored->empty())
      opts.saved = *stored;
    opts.wall_origin = wall_clock.value_or(origin);
    evaluator = sim.stop_at_end(spawn_evaluator(sim.system(), opts));
    sim.run();
  }

  void stop() {
    caf::anon_send_exit(evaluator, caf::exit_reason::kill);
    sim.run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(subscribes_and_marks_every_expected_domain, fixture) {
  start();
  BOOST_TEST(state->subscribers().size() == 1u);
  BOOST_TEST(mark("Planning", "Actual") == "on_time");
  BOOST_TEST(mark("FCCS", "Consolidation") == "on_time");
  auto marks = state->marks();
  BOOST_TEST(format_time(marks->at("Planning").at("Actual").next_run).value_or("none")
             == "2026-12-02T02:00:00Z");
}

BOOST_FIXTURE_TEST_CASE(late_on_the_timer_and_on_time_after_the_push, fixture) {
  start();
  sim.advance(39min); // 02:29
  BOOST_TEST(mark("Planning", "Actual") == "on_time");
  sim.advance(2min);  // 02:31: the timer (every minute) has found it late
  BOOST_TEST(mark("Planning", "Actual") == "late");
  BOOST_REQUIRE(!alerts->told.empty());
  BOOST_REQUIRE(alerts->told.back().size() == 1u);
  BOOST_TEST(alerts->told.back()[0].kind == "late");

  auto before = snap.apps.at("Planning").domains.at("Actual");
  auto& actual = snap.apps.at("Planning").domains.at("Actual");
  actual.status = job_status::loading;
  actual.started = at("2026-12-02T02:31:00Z");
  actual.updated = actual.started;
  changed("Planning", "Actual", before);
  BOOST_TEST(mark("Planning", "Actual") == "on_time");
  BOOST_TEST(alerts->told.back().empty());
}

BOOST_FIXTURE_TEST_CASE(overdue_loading_becomes_warning_once, fixture) {
  auto& actual = snap.apps.at("Planning").domains.at("Actual");
  actual.status = job_status::loading;
  actual.job_id = "LOAD_1";
  actual.started = at("2026-12-02T01:55:00Z");
  actual.updated = actual.started;
  start();
  sim.advance(60min); // 02:50: 55 minutes
  BOOST_TEST(state->updates().empty());
  sim.advance(6min);  // 02:56: past 60 minutes
  BOOST_REQUIRE(state->updates().size() == 1u);
  auto u = state->updates()[0];
  BOOST_TEST(u.status == job_status::warning);
  BOOST_TEST(u.source == update_source::system);
  BOOST_TEST(*u.job_id == "LOAD_1");
  BOOST_TEST(u.message->rfind("Overdue: Loading since 2026-12-02T01:55:00Z", 0) == 0u);
  sim.advance(5min); // the fake never applied it: still not asked twice
  BOOST_TEST(state->updates().size() == 1u);
  BOOST_TEST(mark("Planning", "Actual") == "overdue");
}

BOOST_FIXTURE_TEST_CASE(a_chain_raises_one_alert_naming_the_held_domains, fixture) {
  start();
  sim.advance(3h); // 04:50: Actual late since 02:30, FCCS due 04:30
  BOOST_TEST(mark("FCCS", "Consolidation") == "held");
  const auto& told = alerts->told.back();
  std::vector<std::string> loud;
  for (const auto& c : told)
    if (!c.quiet)
      loud.push_back(c.app + "/" + c.domain);
  BOOST_TEST(loud == std::vector<std::string>{"Planning/Actual"});
  for (const auto& c : told)
    if (c.app == "Planning")
      BOOST_TEST(c.holds == std::vector<std::string>{"FCCS/Consolidation"});
}

BOOST_FIXTURE_TEST_CASE(warnings_alert_after_n_in_a_row, fixture) {
  start();
  auto& fccs = snap.apps.at("FCCS").domains.at("Consolidation");
  auto ok = fccs;
  fccs.status = job_status::warning;
  fccs.message = "Rule failed";
  fccs.updated = at("2026-12-02T01:51:00Z");
  changed("FCCS", "Consolidation", ok);
  auto loud = [&] {
    std::size_t n = 0;
    for (const auto& c : alerts->told.back())
      n += c.quiet ? 0 : 1;
    return n;
  };
  BOOST_TEST(loud() == 0u); // alert_after_failures 2: one is not enough
  auto first = fccs;
  fccs.message = "Rule failed again";
  fccs.updated = at("2026-12-02T01:52:00Z");
  changed("FCCS", "Consolidation", first);
  BOOST_REQUIRE(loud() == 1u);
  BOOST_TEST(alerts->told.back()[0].kind == "warning");
}

BOOST_FIXTURE_TEST_CASE(adhoc_maintenance_turns_late_into_maintenance, fixture) {
  start();
  maintenance_request req;
  req.apps = {"Planning"};
  req.end = at("2026-12-02T03:00:00Z");
  req.reason = "pod upgrade";
  auto w = sim.ask<maintenance_window>(evaluator, maintenance_atom_v, req);
  BOOST_REQUIRE(w && *w);
  BOOST_TEST((*w)->id == "m-1");
  sim.advance(45min); // 02:35: would be late
  BOOST_TEST(mark("Planning", "Actual") == "maintenance");
  sim.advance(60min); // 03:35: window over, deadline 03:30 passed
  BOOST_TEST(mark("Planning", "Actual") == "late");
}

namespace {

/// The evaluator with a canvas that records the marks it is sent.
struct canvas_mark_fixture : fixture {
  std::shared_ptr<std::vector<canvas::canvas_marks>> told =
    std::make_shared<std::vector<canvas::canvas_marks>>();

  void start_with_canvas() {
    state->set_snapshot(snap);
    auto log = told;
    canvas_marks_listener canvas = sim.system().spawn(
      [log]() -> canvas_marks_listener::behavior_type {
        return {[log](expectation_atom, const canvas::canvas_marks& m) { log->push_back(m); }};
      });
    evaluator_options opts;
    opts.config = cfg;
    opts.state = sim.stop_at_end(spawn_fake_state_store(sim.system(), state));
    opts.canvas = sim.stop_at_end(canvas);
    opts.wall_origin = origin;
    evaluator = sim.stop_at_end(spawn_evaluator(sim.system(), opts));
    sim.run();
  }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(the_canvas_is_told_the_marks_when_they_change, canvas_mark_fixture) {
  start_with_canvas();
  BOOST_REQUIRE_EQUAL(told->size(), 1u);
  const auto& first = told->back()->at("Planning").at("Actual");
  BOOST_TEST(first.state == "on_time");
  BOOST_TEST(format_time(first.next_run).value_or("none") == "2026-12-02T02:00:00Z");
  BOOST_TEST(!first.due.has_value());
  sim.advance(5min); // evaluations with nothing new: nothing sent
  BOOST_TEST(told->size() == 1u);
  sim.advance(3h); // 04:50: Actual late for its 02:00 run, FCCS held by it
  auto last = told->back();
  const auto& actual = last->at("Planning").at("Actual");
  BOOST_TEST(actual.state == "late");
  BOOST_TEST(format_time(actual.due).value_or("none") == "2026-12-02T02:00:00Z");
  const auto& fccs = last->at("FCCS").at("Consolidation");
  BOOST_TEST(fccs.state == "held");
  BOOST_TEST(fccs.upstream == "Planning/Actual");
}

BOOST_FIXTURE_TEST_CASE(expectation_states_go_to_the_history_once_each_change, history_fixture) {
  start_with_history();
  BOOST_TEST(history->empty()); // on time: nothing to say
  sim.advance(41min);           // the 02:30 tick finds Actual late; FCCS not due yet
  BOOST_REQUIRE_EQUAL(history->size(), 1u);
  const auto& late = history->back();
  BOOST_TEST(late.event == "expectation");
  BOOST_TEST(late.app == "Planning");
  BOOST_TEST(late.domain == "Actual");
  BOOST_TEST(late.kind == "late");
  BOOST_TEST(late.alert_id.empty());
  BOOST_TEST(format_time(late.at) == "2026-12-02T02:30:00Z");
  BOOST_TEST(late.detail.find("(was on_time)") != std::string::npos, late.detail);
  sim.advance(10min); // still late: nothing new
  BOOST_TEST(history->size() == 1u);

  // A restart keeps what was written: no second "late".
  stop();
  start_with_history(origin + 52min);
  BOOST_TEST(history->size() == 1u);
  // 04:31: FCCS is held by the late Actual.
  sim.advance(2h);
  BOOST_REQUIRE_EQUAL(history->size(), 2u);
  BOOST_TEST(history->back().domain == "Consolidation");
  BOOST_TEST(history->back().kind == "held");

  // The push puts Actual back on time and frees FCCS, which is then late on its own.
  auto before = snap.apps.at("Planning").domains.at("Actual");
  auto& actual = snap.apps.at("Planning").domains.at("Actual");
  actual.status = job_status::loading;
  actual.started = at("2026-12-02T04:45:00Z");
  actual.updated = actual.started;
  changed("Planning", "Actual", before);
  BOOST_REQUIRE_EQUAL(history->size(), 4u);
  bool actual_back = false;
  bool fccs_late = false;
  for (std::size_t i = 2; i < 4; ++i) {
    const auto& e = (*history)[i];
    actual_back = actual_back || (e.domain == "Actual" && e.kind == "on_time" && e.detail == "was late");
    fccs_late = fccs_late || (e.domain == "Consolidation" && e.kind == "late");
  }
  BOOST_TEST(actual_back);
  BOOST_TEST(fccs_late);
}

BOOST_AUTO_TEST_SUITE_END()
