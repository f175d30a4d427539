#include <boost/test/unit_test.hpp>

// The EPM router on simulated time, with fakes of the state actor, the token
// actor and two pollers: start-up recovery from the snapshot (and its retry),
// routing of committed changes to the app's poller, and health and metrics
// put together from every part within answer_timeout, a silent part showing
// as an error entry.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/pull/epm_router.hpp"
#include "tests/fakes/fake_pull_actors.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/simulated_system.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(epm_router_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace std::chrono_literals;

namespace {

/// A reply that may still be on its way: filled once the router answers.
template <class T>
using pending_reply = std::shared_ptr<std::optional<caf::expected<T>>>;

struct fixture {
  simulated_system sim; // first: the actors below die before it
  std::shared_ptr<fake_state_log> state = std::make_shared<fake_state_log>();
  std::shared_ptr<fake_token_log> tokens = std::make_shared<fake_token_log>();
  std::shared_ptr<fake_poller_log> planning = std::make_shared<fake_poller_log>();
  std::shared_ptr<fake_poller_log> arcs = std::make_shared<fake_poller_log>();
  std::shared_ptr<config::service_config> cfg = std::make_shared<config::service_config>();

  fixture() {
    cfg->apps.push_back({"Planning", "Planning", {"Actual", "Budget"}, {}, false, "planning_pod"});
    cfg->apps.push_back({"ARCS", "ARCS", {"Reconciliation"}, {}, false, "arcs_pod"});
    cfg->apps.push_back({"FCCS", "FCCS", {"Consolidation"}, {}, false, ""}); // pushes only
    planning->health.server_id = "planning_pod";
    arcs->health.server_id = "arcs_pod";
  }

  epm_router_actor spawn() {
    epm_router_options o;
    o.config = cfg;
    o.state = sim.stop_at_end(spawn_fake_state(sim.system(), state));
    o.tokens = sim.stop_at_end(spawn_fake_token_actor(sim.system(), tokens));
    o.pollers.emplace("planning_pod", sim.stop_at_end(spawn_fake_poller(sim.system(), planning)));
    o.pollers.emplace("arcs_pod", sim.stop_at_end(spawn_fake_poller(sim.system(), arcs)));
    auto r = spawn_epm_router(sim.system(), std::move(o));
    if (!r)
      BOOST_FAIL("spawn failed: " << describe_error(r.error()));
    sim.run();
    return sim.stop_at_end(*r);
  }

  /// Sends a request and returns at once; the reply lands in the result.
  template <class T, class Atom>
  pending_reply<T> request(const epm_router_actor& r, Atom what) {
    auto reply = std::make_shared<std::optional<caf::expected<T>>>();
    sim.system().spawn([reply, r, what](caf::event_based_actor* self) {
      self->request(r, std::chrono::seconds{60}, what)
        .then([reply](const T& value) { *reply = value; },
              [reply](const caf::error& err) { *reply = err; });
    });
    sim.run();
    return reply;
  }

  void commit(const epm_router_actor& r, std::vector<domain_change> changes) {
    caf::anon_send(r, changed_atom_v,
                   change_set{std::make_shared<const std::vector<domain_change>>(
                     std::move(changes))});
    sim.run();
  }
};

domain_state loading(std::optional<std::string> job) {
  domain_state d;
  d.status = job_status::loading;
  d.job_id = std::move(job);
  d.updated = now_ms();
  d.started = d.updated;
  return d;
}

domain_state finished(job_status status) {
  domain_state d;
  d.status = status;
  d.updated = now_ms();
  return d;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(epm_router_tests, fixture)

// -- start-up -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(router_subscribes_and_watches_every_loading_job_of_the_snapshot) {
  status_snapshot snap;
  auto& actual = snap.apps["Planning"].domains["Actual"];
  actual = loading("J1");
  actual.started = now_ms() - std::chrono::minutes{10};
  snap.apps["Planning"].domains["Budget"] = loading(std::nullopt); // no job to ask about
  snap.apps["ARCS"].domains["Reconciliation"] = finished(job_status::ok);
  snap.apps["FCCS"].domains["Consolidation"] = loading("J9"); // no server
  state->snapshot = std::make_shared<const status_snapshot>(std::move(snap));
  auto r = spawn();
  BOOST_TEST(state->subscribers.size() == 1u);
  BOOST_TEST_REQUIRE(planning->watched.size() == 1u);
  const auto& w = planning->watched[0];
  BOOST_TEST(w.domain == "Actual");
  BOOST_TEST(w.job_id == "J1");
  BOOST_TEST(w.recovered);
  BOOST_TEST((w.loading_since == state->snapshot->apps.at("Planning").domains.at("Actual").started));
  BOOST_TEST(arcs->watched.empty());
}

BOOST_AUTO_TEST_CASE(snapshot_the_state_cannot_give_yet_is_asked_for_again_after_5_s) {
  status_snapshot snap;
  snap.apps["Planning"].domains["Actual"] = loading("J1");
  state->snapshot = std::make_shared<const status_snapshot>(std::move(snap));
  state->failing_snapshots = 1;
  auto r = spawn();
  BOOST_TEST(state->snapshot_requests == 1u);
  BOOST_TEST(planning->watched.empty());
  sim.advance(5s - 1ms);
  BOOST_TEST(state->snapshot_requests == 1u);
  sim.advance(1ms);
  BOOST_TEST(state->snapshot_requests == 2u);
  BOOST_TEST(planning->watched.size() == 1u);
  sim.advance(1min);
  BOOST_TEST(state->snapshot_requests == 2u); // once recovered, never again
}

// -- routing ------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(committed_changes_go_to_the_poller_of_the_apps_server) {
  auto r = spawn();
  commit(r, {{"Planning", "Actual", finished(job_status::ok), loading("J1")},
             {"ARCS", "Reconciliation", finished(job_status::blank), loading("J2")},
             {"FCCS", "Consolidation", finished(job_status::blank), loading("J3")}});
  BOOST_TEST_REQUIRE(planning->watched.size() == 1u);
  BOOST_TEST(planning->watched[0].job_id == "J1");
  BOOST_TEST(!planning->watched[0].recovered);
  BOOST_TEST_REQUIRE(arcs->watched.size() == 1u);
  BOOST_TEST(arcs->watched[0].job_id == "J2");
  // Leaving Loading: the poller stops watching.
  commit(r, {{"Planning", "Actual", loading("J1"), finished(job_status::warning)}});
  BOOST_TEST_REQUIRE(planning->unwatched.size() == 1u);
  BOOST_TEST(planning->unwatched[0].second == "Actual");
  // A Loading without a job id never was watched: nothing to stop.
  commit(r, {{"Planning", "Budget", loading(std::nullopt), finished(job_status::ok)}});
  BOOST_TEST(planning->unwatched.size() == 1u);
  BOOST_TEST(arcs->unwatched.empty());
}

// -- health and metrics -------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(health_gathers_the_token_actor_and_every_poller) {
  arcs->health.status = "error: EPM answered HTTP 503";
  auto r = spawn();
  auto reply = request<epm_health>(r, health_atom_v);
  BOOST_TEST_REQUIRE(reply->has_value());
  BOOST_TEST_REQUIRE(static_cast<bool>(**reply));
  const auto& h = ***reply;
  BOOST_TEST(h.auth == "ok");
  BOOST_TEST(h.servers.at("planning_pod") == "ok");
  BOOST_TEST(h.servers.at("arcs_pod") == "error: EPM answered HTTP 503");
  BOOST_TEST(h.degraded());
  BOOST_TEST(h.checks().dump()
             == R"({"epm":{"arcs_pod":"error: EPM answered HTTP 503","planning_pod":"ok"},)"
                R"("epm_auth":"ok"})");
}

BOOST_AUTO_TEST_CASE(health_answers_within_answer_timeout_when_a_poller_is_silent) {
  arcs->silent = true;
  auto r = spawn();
  auto reply = request<epm_health>(r, health_atom_v);
  BOOST_TEST(!reply->has_value()); // waits for the silent poller...
  sim.advance(2s - 1ms);
  BOOST_TEST(!reply->has_value());
  sim.advance(1ms); // ...for answer_timeout, not longer
  BOOST_TEST_REQUIRE(reply->has_value());
  BOOST_TEST_REQUIRE(static_cast<bool>(**reply));
  const auto& h = ***reply;
  BOOST_TEST(h.servers.at("planning_pod") == "ok");
  BOOST_TEST(h.servers.at("arcs_pod").rfind("error: no answer from the poller", 0) == 0,
             h.servers.at("arcs_pod"));
  BOOST_TEST(h.auth == "ok");
  BOOST_TEST(h.degraded());
}

BOOST_AUTO_TEST_CASE(metrics_show_a_silent_part_as_an_error_entry) {
  tokens->silent = true;
  planning->health.polls = 7;
  planning->health.settled = 3;
  arcs->silent = true;
  auto r = spawn();
  auto reply = request<epm_metrics>(r, metrics_atom_v);
  sim.advance(2s);
  BOOST_TEST_REQUIRE(reply->has_value());
  BOOST_TEST_REQUIRE(static_cast<bool>(**reply));
  const auto& m = ***reply;
  BOOST_TEST(m.auth.status == "error: no answer");
  BOOST_TEST_REQUIRE(m.servers.size() == 2u);
  auto text = m.prometheus();
  BOOST_TEST(text.find("epmpulse_epm_polls_total{server=\"planning_pod\"} 7\n") != std::string::npos,
             text);
  BOOST_TEST(text.find("epmpulse_epm_jobs_settled_total{server=\"planning_pod\"} 3\n")
             != std::string::npos);
  BOOST_TEST(text.find("epmpulse_epm_server_ok{server=\"arcs_pod\"} 0\n") != std::string::npos);
  BOOST_TEST(text.find("epmpulse_epm_server_ok{server=\"planning_pod\"} 1\n") != std::string::npos);
  BOOST_TEST(text.find("epmpulse_epm_auth_ok 0\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(router_without_pollers_still_answers_health) {
  cfg->apps.clear();
  epm_router_options o;
  o.config = cfg;
  o.state = sim.stop_at_end(spawn_fake_state(sim.system(), state));
  o.tokens = sim.stop_at_end(spawn_fake_token_actor(sim.system(), tokens));
  auto r = spawn_epm_router(sim.system(), std::move(o));
  BOOST_TEST_REQUIRE(static_cast<bool>(r));
  sim.stop_at_end(*r);
  sim.run();
  auto reply = request<epm_health>(*r, health_atom_v);
  BOOST_TEST_REQUIRE(reply->has_value());
  BOOST_TEST_REQUIRE(static_cast<bool>(**reply));
  BOOST_TEST(!(***reply).degraded());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // epm_router_tests
