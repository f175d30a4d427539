#pragma once

// The canvas actor on the simulated system, for the actor tests
// (tests/unit/canvas_actor_test.cpp, canvas_errors_test.cpp): simulated time,
// so intervals, backoffs, Retry-After and deadlines are the production ones
// and every assertion about when something is sent is exact. Slack is the
// in-process fake client (the same answers as the HTTP fake), the state
// actor a fake feed whose snapshot the test sets before sending the change
// notification the state actor would send.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/canvas/canvas.hpp"
#include "tests/fakes/fake_slack_client.hpp"
#include "tests/fakes/fake_state_feed.hpp"
#include "tests/support/blank_snapshot.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/simulated_system.hpp"
#include "tests/support/temp_dir.hpp"

namespace epmpulse::test::canvas_fixtures {

using namespace std::chrono_literals;

inline constexpr const char* token = "xoxb-test-token-42";

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

/// The context of a canvas error: the message for the API.
inline std::string message_of(const caf::error& err) {
  const auto& ctx = err.context();
  return ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0) : std::string{};
}

inline bool is(const caf::error& err, ec code) {
  return err.category() == caf::atom("epmpulse") && err.code() == static_cast<std::uint8_t>(code);
}

struct canvas_fixture {
  simulated_system sim;
  std::shared_ptr<in_process_slack> slack = std::make_shared<in_process_slack>(token);
  http_client_actor http = spawn_fake_slack_client(sim.system(), slack);
  std::shared_ptr<state_feed_script> feed = std::make_shared<state_feed_script>();
  canvas_state_feed state = spawn_fake_state_feed(sim.system(), feed);
  temp_dir data{"epmpulse-canvas-"};
  config::service_config cfg;
  status_snapshot snap;
  std::optional<canvas_actor> canvas;
  int clock_sec = 0;
  std::chrono::milliseconds interval = 2s; ///< min_update_interval_sec, the default

  canvas_fixture() {
    cfg.apps.push_back({"Planning", "Planning", {"Actual", "Budget"}, {"C1"}, false, ""});
    cfg.apps.push_back({"FCCS", "FCCS", {"Consolidation"}, {"C1"}, false, ""});
    cfg.apps.push_back({"ARCS", "ARCS", {"Reconciliation"}, {"C2"}, false, ""});
    cfg.channels.push_back({"C1", "epm-main", "F1"});
    cfg.channels.push_back({"C2", "arcs-support", "F2"});
    auto& s = cfg.settings.slack;
    s.bot_token = token;
    s.api_url = "https://slack.test/api";
    s.min_update_interval_sec = 2.0; // the defaults, spelt out: the timings below use them
    s.request_timeout_sec = 10.0;
    s.max_retries = 3;
    snap = test::blank_snapshot_for(cfg);
    feed->snapshot = std::make_shared<const status_snapshot>(snap);
  }

  ~canvas_fixture() {
    // The canvas and the feed hold each other's handles: only an exit ends them.
    stop_canvas();
    caf::anon_send_exit(state, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(http, caf::exit_reason::user_shutdown);
    sim.run();
  }

  canvas_options options() {
    canvas_options o;
    o.config = std::make_shared<const config::service_config>(cfg);
    o.state = state;
    o.http = http;
    o.data_dir = data.path().string();
    if (cfg.settings.slack.create_missing_canvases)
      o.ids_writer = sim.system().spawn(canvas_ids_writer, data.file(canvas_ids_file_name).string());
    return o;
  }

  /// Spawns the canvas actor with the production knobs and runs its start-up.
  void start() {
    auto c = spawn_canvas(sim.system(), options());
    if (!c) // the message's operands are evaluated even when the check passes
      BOOST_FAIL("spawn_canvas: " << sim.system().render(c.error()));
    canvas = *c;
    sim.run();
    BOOST_REQUIRE(!feed->subscribers.empty());
  }

  void stop_canvas() {
    if (canvas)
      caf::anon_send_exit(*canvas, caf::exit_reason::user_shutdown);
    canvas.reset();
    sim.run();
  }

  /// Starts, checks the start-up sync reached both canvases, then lets a
  /// quiet interval pass, so the next change is sent at once.
  void start_and_settle() {
    start();
    BOOST_REQUIRE_EQUAL(slack->applied_edits_of("F1").size(), 1u);
    BOOST_REQUIRE_EQUAL(slack->applied_edits_of("F2").size(), 1u);
    sim.advance(interval + 1s);
    slack->calls.clear();
  }

  /// Sends the notification the state actor sends after a commit of `changes`.
  void notify(change_set changes) {
    feed->snapshot = std::make_shared<const status_snapshot>(snap);
    caf::anon_send(feed->subscribers.back(), changed_atom_v, std::move(changes));
    sim.run();
  }

  /// Changes one domain in the state and notifies the canvas actor.
  void push(const std::string& app, const std::string& domain, job_status st,
            const std::string& job, std::optional<std::string> message = std::nullopt) {
    auto t = time_point{std::chrono::seconds{1771252200 + ++clock_sec}};
    auto change = set_domain(snap, app, domain, st, job, t, std::move(message));
    notify(std::make_shared<const std::vector<domain_change>>(std::vector<domain_change>{change}));
  }

  /// Like push, for several domains in one commit (a batch), with the job in
  /// the recent-jobs list.
  void push_job(const std::string& job, const std::vector<std::pair<std::string, std::string>>& domains,
                job_status st) {
    auto t = time_point{std::chrono::seconds{1771252200 + ++clock_sec * 60}};
    auto changes = std::make_shared<std::vector<domain_change>>();
    std::vector<std::string> apps;
    for (const auto& [app, domain] : domains) {
      changes->push_back(set_domain(snap, app, domain, st, job, t));
      if (std::find(apps.begin(), apps.end(), app) == apps.end())
        apps.push_back(app);
    }
    record_recent_job(snap, job, apps, st, t);
    notify(changes);
  }

  /// A typical day of pushes (see docs/canvas.md), a quiet interval after
  /// each commit, so commits never coalesce: the count is the cost per day
  /// without any help from the debounce.
  void run_typical_day() {
    auto commit = [&](const std::string& job, const std::vector<std::pair<std::string, std::string>>& d,
                      job_status st) {
      push_job(job, d, st);
      sim.advance(interval + 1s);
      auto h = health();
      BOOST_REQUIRE(!h.canvases[0].dirty && !h.canvases[1].dirty);
    };
    using dl = std::vector<std::pair<std::string, std::string>>;
    // 02:00 nightly full load: one batch starts three domains, each ends alone.
    dl nightly = {{"Planning", "Actual"}, {"Planning", "Budget"}, {"FCCS", "Consolidation"}};
    commit("NIGHTLY", nightly, job_status::loading);
    for (const auto& d : nightly)
      commit("NIGHTLY", {d}, job_status::ok);
    // 07:00-18:00 hourly incremental Actual loads (one fails), ARCS every 2 h.
    for (int hour = 7; hour <= 18; ++hour) {
      auto job = "INC_" + std::to_string(hour);
      commit(job, {{"Planning", "Actual"}}, job_status::loading);
      commit(job, {{"Planning", "Actual"}}, hour == 11 ? job_status::warning : job_status::ok);
      if (hour % 2 == 0) {
        auto rec_job = "REC_" + std::to_string(hour);
        commit(rec_job, {{"ARCS", "Reconciliation"}}, job_status::loading);
        commit(rec_job, {{"ARCS", "Reconciliation"}}, job_status::ok);
      }
    }
  }

  /// Asks the canvas actor; the answer must come at once.
  template <class Reply, class... Ts>
  caf::expected<Reply> answer(Ts&&... xs) {
    auto a = sim.ask<Reply>(*canvas, std::forward<Ts>(xs)...);
    BOOST_REQUIRE_MESSAGE(a.has_value(), "the canvas actor did not answer at once");
    return std::move(*a);
  }

  template <class Reply, class... Ts>
  Reply value(Ts&&... xs) {
    auto a = answer<Reply>(std::forward<Ts>(xs)...);
    if (!a)
      BOOST_FAIL("the canvas actor answered " << sim.system().render(a.error()));
    return std::move(*a);
  }

  /// Sends a request whose answer may take simulated time; the slot fills in
  /// when it comes.
  template <class Reply, class... Ts>
  std::shared_ptr<std::optional<caf::expected<Reply>>> ask_later(Ts... xs) {
    auto slot = std::make_shared<std::optional<caf::expected<Reply>>>();
    sim.system().spawn([slot, dest = *canvas, xs...](caf::event_based_actor* self) {
      self->request(dest, std::chrono::minutes{60}, xs...)
        .then([slot](Reply& r) { *slot = std::move(r); },
              [slot](caf::error& err) { *slot = std::move(err); });
    });
    sim.run();
    return slot;
  }

  canvas_health health() { return value<canvas_health>(health_atom_v); }
  canvas_metrics metrics() { return value<canvas_metrics>(metrics_atom_v); }
  sync_reply sync() { return value<sync_reply>(sync_atom_v); }
  preview_reply preview(const std::string& channel) {
    return value<preview_reply>(preview_atom_v, channel);
  }
};


} // namespace epmpulse::test::canvas_fixtures
