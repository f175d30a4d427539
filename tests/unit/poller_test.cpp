#include <boost/test/unit_test.hpp>

// A poller on simulated time. EPM is the scripted pod answered in process
// (the fake HTTP client, which records every request and gives each answer
// the pod's latency on the actor clock); the token actor and the state actor
// are fakes of their protocols. Every interval, backoff and deadline is
// checked to the millisecond.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/pull/epm_status.hpp"
#include "actors/pull/poller.hpp"
#include "tests/fakes/fake_epm.hpp"
#include "tests/fakes/fake_http_client.hpp"
#include "tests/fakes/fake_pull_actors.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/simulated_system.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(poller_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace std::chrono_literals;

namespace {

struct fixture {
  simulated_system sim; // first: the actors below die before it
  std::shared_ptr<scripted_epm_pod> pod = std::make_shared<scripted_epm_pod>();
  std::shared_ptr<fake_http_log> http_log = std::make_shared<fake_http_log>();
  std::shared_ptr<fake_token_log> tokens = std::make_shared<fake_token_log>();
  std::shared_ptr<fake_state_log> state = std::make_shared<fake_state_log>();
  poller_options opts;

  fixture() {
    opts.server.id = "planning_pod";
    opts.server.name = "Planning pod";
    opts.server.base_url = "https://pod.example.com/";
    opts.server.kind = config::epm_server_kind::planning;
    opts.server.application = "Vision";
    opts.pull.enabled = true;
    opts.pull.poll_interval_seconds = 30;
    opts.pull.max_poll_duration_minutes = 60;
    opts.pull.max_concurrent_polls_per_server = 4;
  }

  poller_actor spawn() {
    opts.http = sim.stop_at_end(spawn_fake_http_client(sim.system(), answering_like(pod), http_log));
    opts.tokens = sim.stop_at_end(spawn_fake_token_actor(sim.system(), tokens));
    opts.state = sim.stop_at_end(spawn_fake_state(sim.system(), state));
    auto p = spawn_poller(sim.system(), opts);
    if (!p)
      BOOST_FAIL("spawn failed: " << describe_error(p.error()));
    sim.run();
    return sim.stop_at_end(*p);
  }

  void watch(const poller_actor& p, const std::string& domain, const std::string& job,
             bool recovered = false, const std::string& app = "Planning") {
    watch_request w;
    w.app = app;
    w.domain = domain;
    w.job_id = job;
    w.recovered = recovered;
    caf::anon_send(p, watch_atom_v, std::move(w));
    sim.run();
  }

  poller_health health(const poller_actor& p) {
    auto answer = sim.ask<poller_health>(p, health_atom_v);
    if (!answer || !*answer)
      BOOST_FAIL("no health answer");
    return **answer;
  }

  /// Requests EPM got for `job` on the Vision application.
  std::size_t polls_of(const std::string& job) const {
    std::size_t n = 0;
    for (const auto& r : http_log->requests)
      n += r.path == scripted_epm_pod::planning_path("Vision", job) ? 1 : 0;
    return n;
  }

  std::size_t polls() const { return http_log->requests.size(); }
};

std::string message_of(const status_update& u) {
  return u.message.value_or("");
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(poller_tests, fixture)

// -- polling ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(job_is_polled_every_interval_until_it_succeeds_then_turns_ok) {
  pod->script("J1", {epm_reply::in_progress(), epm_reply::in_progress(),
                     epm_reply::success("Loaded 1200 rows")});
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s - 1ms);
  BOOST_TEST(polls() == 0u);
  sim.advance(1ms);
  BOOST_TEST_REQUIRE(polls() == 1u);
  const auto& first = http_log->requests[0];
  BOOST_TEST(first.method == "GET");
  BOOST_TEST(first.path == "/HyperionPlanning/rest/v3/applications/Vision/jobs/J1");
  BOOST_TEST(first.headers.at("authorization") == "Bearer token-1");
  sim.advance(30s);
  BOOST_TEST(polls() == 2u);
  BOOST_TEST(state->applies.empty()); // still running: nothing to settle
  sim.advance(30s);
  BOOST_TEST(polls() == 3u);
  BOOST_TEST_REQUIRE(state->applies.size() == 1u);
  BOOST_TEST_REQUIRE(state->applies[0].size() == 1u);
  const auto& u = state->applies[0][0];
  BOOST_TEST(u.app == "Planning");
  BOOST_TEST(u.domain == "Actual");
  BOOST_TEST(u.status == job_status::ok);
  BOOST_TEST(u.job_id.value_or("") == "J1");
  BOOST_TEST(u.source == update_source::poll);
  BOOST_TEST(message_of(u).find("Loaded 1200 rows") != std::string::npos, message_of(u));
  // Settled: never asked again.
  sim.advance(1h);
  BOOST_TEST(polls() == 3u);
  auto h = health(p);
  BOOST_TEST(h.watched_jobs == 0u);
  BOOST_TEST(h.polls == 3u);
  BOOST_TEST(h.settled == 1u);
  BOOST_TEST(h.status == "ok");
}

BOOST_AUTO_TEST_CASE(job_shared_by_several_domains_is_polled_once_and_settles_them_all) {
  pod->script("J1", {epm_reply::success("Loaded")});
  auto p = spawn();
  watch(p, "Actual", "J1");
  watch(p, "Budget", "J1");
  watch(p, "Forecast", "J1");
  sim.advance(30s);
  BOOST_TEST(polls() == 1u);
  BOOST_TEST_REQUIRE(state->applies.size() == 1u); // one transition for all of them
  std::vector<std::string> domains;
  for (const auto& u : state->applies[0]) {
    domains.push_back(u.domain);
    BOOST_TEST(u.status == job_status::ok);
  }
  BOOST_TEST(domains == (std::vector<std::string>{"Actual", "Budget", "Forecast"}));
  BOOST_TEST(health(p).watched_jobs == 0u);
}

BOOST_AUTO_TEST_CASE(failed_job_turns_warning_with_its_details) {
  pod->script("J1", {epm_reply::error("Rule Aggregate failed: period closed")});
  pod->script("J2", {epm_reply::cancelled("Cancelled by admin")});
  auto p = spawn();
  watch(p, "Actual", "J1");
  watch(p, "Budget", "J2");
  sim.advance(30s);
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 2u);
  for (const auto& u : updates)
    BOOST_TEST(u.status == job_status::warning);
  BOOST_TEST(message_of(updates[0]).find("period closed") != std::string::npos);
  BOOST_TEST(message_of(updates[1]).find("Cancelled by admin") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(job_epm_does_not_know_turns_warning_not_found) {
  auto p = spawn(); // J404 is not scripted: the pod answers 404
  watch(p, "Actual", "J404");
  sim.advance(30s);
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(updates[0].status == job_status::warning);
  BOOST_TEST(message_of(updates[0]) == "Job not found on Planning pod");
  auto h = health(p);
  BOOST_TEST(h.not_found == 1u);
  BOOST_TEST(h.watched_jobs == 0u);
  BOOST_TEST(h.status == "ok");
}

BOOST_AUTO_TEST_CASE(recovered_job_is_polled_at_once) {
  pod->script("J1", {epm_reply::in_progress()});
  auto p = spawn();
  watch(p, "Actual", "J1", true);
  BOOST_TEST(polls() == 1u); // no interval waited
  sim.advance(30s - 1ms);
  BOOST_TEST(polls() == 1u);
  sim.advance(1ms);
  BOOST_TEST(polls() == 2u); // then the interval as usual
}

BOOST_AUTO_TEST_CASE(watching_a_job_again_changes_nothing_and_a_new_job_replaces_the_old) {
  pod->script("J1", {epm_reply::in_progress()});
  pod->script("J2", {epm_reply::in_progress()});
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(20s);
  watch(p, "Actual", "J1"); // the same Loading again: the schedule stays
  sim.advance(10s);
  BOOST_TEST(polls_of("J1") == 1u);
  watch(p, "Actual", "J2"); // the domain moved on to another job
  sim.advance(30s);
  BOOST_TEST(polls_of("J1") == 1u);
  BOOST_TEST(polls_of("J2") == 1u);
  BOOST_TEST(health(p).watched_jobs == 1u);
}

BOOST_AUTO_TEST_CASE(unwatched_job_is_no_longer_polled) {
  pod->script("J1", {epm_reply::in_progress()});
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(polls() == 1u);
  caf::anon_send(p, unwatch_atom_v, std::string{"Planning"}, std::string{"Actual"});
  sim.run();
  sim.advance(10min);
  BOOST_TEST(polls() == 1u);
  BOOST_TEST(state->applies.empty());
  BOOST_TEST(health(p).watched_jobs == 0u);
}

BOOST_AUTO_TEST_CASE(answer_for_a_job_unwatched_while_its_poll_was_in_flight_is_dropped) {
  pod->script("J1", {epm_reply::success("Loaded").after(2s)});
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(http_log->unanswered == 1u);
  caf::anon_send(p, unwatch_atom_v, std::string{"Planning"}, std::string{"Actual"});
  sim.advance(2s);
  BOOST_TEST(http_log->unanswered == 0u);
  BOOST_TEST(state->applies.empty()); // the domain left Loading by other means
  auto h = health(p);
  BOOST_TEST(h.in_flight == 0u);
  BOOST_TEST(h.watched_jobs == 0u);
}

BOOST_AUTO_TEST_CASE(polled_result_is_never_older_than_the_loading_it_settles) {
  pod->script("J1", {epm_reply::success("Loaded")});
  auto p = spawn();
  // A pusher whose clock runs an hour ahead stamped the Loading.
  auto ahead = now_ms() + std::chrono::hours{1};
  watch_request w;
  w.app = "Planning";
  w.domain = "Actual";
  w.job_id = "J1";
  w.loading_updated = ahead;
  caf::anon_send(p, watch_atom_v, std::move(w));
  sim.advance(30s);
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST_REQUIRE(updates[0].event_time.has_value());
  BOOST_TEST((*updates[0].event_time == ahead + std::chrono::milliseconds{1}));
}

// -- limits -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(at_most_max_concurrent_polls_per_server_run_at_once) {
  opts.pull.max_concurrent_polls_per_server = 2;
  for (auto job : {"J1", "J2", "J3", "J4", "J5"})
    pod->script(job, {epm_reply::success("Loaded").after(5s)});
  auto p = spawn();
  for (auto [domain, job] : {std::pair{"D1", "J1"}, std::pair{"D2", "J2"}, std::pair{"D3", "J3"},
                             std::pair{"D4", "J4"}, std::pair{"D5", "J5"}})
    watch(p, domain, job);
  sim.advance(30s);
  BOOST_TEST(polls() == 2u);
  BOOST_TEST(health(p).in_flight == 2u);
  sim.advance(5s); // two answers free two slots: the next two start at once
  BOOST_TEST(polls() == 4u);
  BOOST_TEST(state->applies.size() == 2u);
  sim.advance(5s);
  BOOST_TEST(polls() == 5u);
  sim.advance(5s);
  BOOST_TEST(state->applies.size() == 5u);
  BOOST_TEST(http_log->most_unanswered == 2u);
  BOOST_TEST(health(p).settled == 5u);
}

BOOST_AUTO_TEST_CASE(job_still_running_after_max_poll_duration_times_out_as_warning) {
  opts.pull.max_poll_duration_minutes = 2;
  pod->script("J1", {epm_reply::in_progress()});
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(120s - 1ms);
  BOOST_TEST(polls() == 3u); // at 30, 60 and 90 s
  BOOST_TEST(state->applies.empty());
  sim.advance(1ms);
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(updates[0].status == job_status::warning);
  BOOST_TEST(message_of(updates[0])
             == "Timed out: no completion after 2 min; EPM still reports the job in progress");
  BOOST_TEST(polls() == 3u); // given up, not polled once more
  sim.advance(10min);
  BOOST_TEST(polls() == 3u);
  BOOST_TEST(health(p).timeouts == 1u);
}

BOOST_AUTO_TEST_CASE(poll_timeout_counts_from_when_the_loading_began) {
  opts.pull.max_poll_duration_minutes = 2;
  pod->script("J1", {epm_reply::in_progress()});
  auto p = spawn();
  watch_request w;
  w.app = "Planning";
  w.domain = "Actual";
  w.job_id = "J1";
  w.loading_since = now_ms() - std::chrono::seconds{100}; // before a restart
  w.recovered = true;
  caf::anon_send(p, watch_atom_v, std::move(w));
  sim.run();
  BOOST_TEST(polls() == 1u);
  sim.advance(19s);
  BOOST_TEST(state->applies.empty());
  sim.advance(2s); // 120 s after the Loading began
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(message_of(updates[0])
             == "Timed out: no completion after 2 min; EPM still reports the job in progress");
  BOOST_TEST(polls() == 1u);
}

// -- failures -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unauthorized_poll_renews_the_token_and_retries_once) {
  pod->script("J1", {epm_reply::success("Loaded")});
  pod->accept_authorizations({"Bearer token-2"}); // token-1 has been revoked
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(tokens->invalidated == (std::vector<std::uint64_t>{1}));
  BOOST_TEST_REQUIRE(polls() == 2u);
  BOOST_TEST(http_log->requests[0].headers.at("authorization") == "Bearer token-1");
  BOOST_TEST(http_log->requests[1].headers.at("authorization") == "Bearer token-2");
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(updates[0].status == job_status::ok);
  auto h = health(p);
  BOOST_TEST(h.unauthorized_retries == 1u);
  BOOST_TEST(h.polls == 1u); // the retry is part of the one poll
  BOOST_TEST(h.poll_failures == 0u);
}

BOOST_AUTO_TEST_CASE(second_401_is_a_failed_poll_that_backs_off_and_keeps_watching) {
  pod->script("J1", {epm_reply::success("Loaded")});
  pod->accept_authorizations({"Bearer nobody-has-this"});
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(polls() == 2u); // the poll and its one retry
  BOOST_TEST(tokens->invalidated.size() == 1u);
  auto h = health(p);
  BOOST_TEST(h.status == "error: EPM rejected a fresh token (401 Unauthorized)");
  BOOST_TEST(h.poll_failures == 1u);
  BOOST_TEST(h.watched_jobs == 1u);
  BOOST_TEST(state->applies.empty());
  sim.advance(60s - 1ms); // interval × 2 after one failure
  BOOST_TEST(polls() == 2u);
  sim.advance(1ms);
  BOOST_TEST(polls() == 4u);
}

BOOST_AUTO_TEST_CASE(server_errors_back_off_doubling_up_to_the_cap_then_recover) {
  pod->script("J1", {epm_reply::http(503)});
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(polls() == 1u);
  BOOST_TEST(health(p).status == "error: EPM answered HTTP 503");
  // 30 s × 2, × 4, × 8, then the 5 min cap.
  for (auto gap : {60s, 120s, 240s, 300s, 300s}) {
    auto before = polls();
    sim.advance(gap - 1ms);
    BOOST_TEST(polls() == before, "polled early in a backoff of " << gap.count() << " s");
    sim.advance(1ms);
    BOOST_TEST(polls() == before + 1, "not polled after a backoff of " << gap.count() << " s");
  }
  auto h = health(p);
  BOOST_TEST(h.poll_failures == 6u);
  BOOST_TEST(h.watched_jobs == 1u);
  BOOST_TEST(state->applies.empty());
  // EPM is back: the next poll settles the job and the server is ok again.
  pod->script("J1", {epm_reply::success("Loaded")});
  sim.advance(300s);
  BOOST_TEST(state->updates().size() == 1u);
  BOOST_TEST(health(p).status == "ok");
}

BOOST_AUTO_TEST_CASE(unreadable_answer_and_network_failure_back_off_like_a_5xx) {
  auto p = spawn();
  epm_reply garbage;
  garbage.body = {{"unexpected", true}};
  pod->script("J1", {garbage});
  pod->script("J2", {epm_reply::in_progress().after(31s)}); // past the 30 s transfer limit
  watch(p, "Actual", "J1");
  watch(p, "Budget", "J2");
  sim.advance(30s);
  BOOST_TEST(health(p).status.rfind("error: unreadable job status", 0) == 0);
  sim.advance(30s); // J2's transfer gives up
  BOOST_TEST(health(p).status == "error: network error: Operation timed out");
  BOOST_TEST(health(p).poll_failures == 2u);
  BOOST_TEST(health(p).watched_jobs == 2u);
  BOOST_TEST(state->applies.empty());
}

BOOST_AUTO_TEST_CASE(token_actor_failure_fails_the_poll_and_backs_off) {
  pod->script("J1", {epm_reply::success("Loaded")});
  tokens->failing = "token endpoint answered 503";
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(polls() == 0u); // EPM is not asked without a token
  auto h = health(p);
  BOOST_TEST(h.status == "error: EPM token unavailable: token endpoint answered 503");
  BOOST_TEST(h.poll_failures == 1u);
  tokens->failing.clear();
  sim.advance(60s);
  BOOST_TEST(polls() == 1u);
  BOOST_TEST(state->updates().size() == 1u);
}

// -- settling -----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(settlement_the_state_could_not_write_keeps_the_job_and_polls_again) {
  pod->script("J1", {epm_reply::success("Loaded")});
  state->failing_applies = 1; // ec::state_error: the change log could not be written
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(state->applies.size() == 1u);
  auto h = health(p);
  BOOST_TEST(h.watched_jobs == 1u);
  BOOST_TEST(h.settled == 0u);
  // Polled again after a backoff (interval × 2), and settled this time.
  sim.advance(60s - 1ms);
  BOOST_TEST(polls() == 1u);
  sim.advance(1ms);
  BOOST_TEST(polls() == 2u);
  BOOST_TEST(state->applies.size() == 2u);
  h = health(p);
  BOOST_TEST(h.settled == 1u);
  BOOST_TEST(h.watched_jobs == 0u);
}

BOOST_AUTO_TEST_CASE(settlement_the_state_does_not_confirm_is_polled_again) {
  pod->script("J1", {epm_reply::success("Loaded")});
  state->holding = true; // never answered
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(state->applies.size() == 1u);
  sim.advance(30s - 1ms); // settle_timeout
  BOOST_TEST(polls() == 1u);
  sim.advance(1ms);
  BOOST_TEST(polls() == 2u);
  BOOST_TEST(state->applies.size() == 2u);
  BOOST_TEST(health(p).watched_jobs == 1u);
}

BOOST_AUTO_TEST_CASE(domain_that_joins_a_job_while_it_settles_is_polled_for_at_once) {
  pod->script("J1", {epm_reply::success("Loaded")});
  state->holding = true;
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST_REQUIRE(state->applies.size() == 1u);
  watch(p, "Budget", "J1"); // joins while the result is on its way
  BOOST_TEST(polls() == 1u);
  state->holding = false;
  release_held_applies(opts.state); // Actual is settled; Budget still waits for the job
  sim.run();
  BOOST_TEST(polls() == 2u); // at once, not after an interval
  BOOST_TEST_REQUIRE(state->applies.size() == 2u);
  BOOST_TEST_REQUIRE(state->applies[1].size() == 1u);
  BOOST_TEST(state->applies[1][0].domain == "Budget");
  auto h = health(p);
  BOOST_TEST(h.settled == 2u);
  BOOST_TEST(h.watched_jobs == 0u);
}

// -- configuration ------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(unusable_server_entries_are_refused_at_spawn) {
  opts.http = sim.stop_at_end(spawn_fake_http_client(sim.system(), answering_like(pod), http_log));
  opts.tokens = sim.stop_at_end(spawn_fake_token_actor(sim.system(), tokens));
  opts.state = sim.stop_at_end(spawn_fake_state(sim.system(), state));
  auto bad_url = opts;
  bad_url.server.base_url = "pod.example.com";
  BOOST_TEST(!spawn_poller(sim.system(), bad_url));
  auto no_application = opts;
  no_application.server.application.clear();
  BOOST_TEST(!spawn_poller(sim.system(), no_application));
  auto no_interval = opts;
  no_interval.pull.poll_interval_seconds = 0;
  BOOST_TEST(!spawn_poller(sim.system(), no_interval));
  auto arcs = opts;
  arcs.server.kind = config::epm_server_kind::arcs;
  arcs.server.application.clear();
  auto arcs_poller = spawn_poller(sim.system(), arcs);
  BOOST_TEST_REQUIRE(static_cast<bool>(arcs_poller));
  sim.stop_at_end(*arcs_poller);
}

// -- job families as Oracle documents them -------------------------------------------------

BOOST_AUTO_TEST_CASE(edm_run_that_completed_but_whose_result_failed_turns_warning) {
  // Oracle's EDM example: status COMPLETED, result.success false, a task in ERROR.
  opts.server.kind = config::epm_server_kind::edm;
  opts.server.application.clear();
  pod->script("6f1c-run", {epm_reply::in_progress(),
                           epm_reply::edm_completed_but_failed(
                             "Transfer file to Financials Cloud failed: unknown host")});
  auto p = spawn();
  watch(p, "Metadata", "6f1c-run");
  sim.advance(60s);
  BOOST_TEST_REQUIRE(http_log->requests.size() == 3u);
  BOOST_TEST(http_log->requests[0].path == scripted_epm_pod::edm_path("6f1c-run"));
  BOOST_TEST(http_log->requests[2].path == scripted_epm_pod::edm_result_path("6f1c-run"));
  BOOST_TEST(http_log->requests[2].headers.at("authorization") == "Bearer token-1");
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(updates[0].status == job_status::warning);
  BOOST_TEST(message_of(updates[0]).find("unknown host") != std::string::npos,
             message_of(updates[0]));
  BOOST_TEST(pod->result_calls("6f1c-run") == 1u);
  BOOST_TEST(health(p).watched_jobs == 0u);
}

BOOST_AUTO_TEST_CASE(edm_run_whose_result_succeeded_turns_ok) {
  opts.server.kind = config::epm_server_kind::edm;
  opts.server.application.clear();
  pod->script("run-ok", {epm_reply::success("Exported 418 records")});
  auto p = spawn();
  watch(p, "Metadata", "run-ok");
  sim.advance(30s);
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(updates[0].status == job_status::ok);
  BOOST_TEST(pod->result_calls("run-ok") == 1u);
}

BOOST_AUTO_TEST_CASE(arcs_transaction_matching_jobs_are_polled_on_the_arm_path) {
  opts.server.kind = config::epm_server_kind::arcs_tm;
  opts.server.application.clear();
  pod->script("2141", {epm_reply::in_progress(), epm_reply::job(1, "Auto match failed")});
  auto p = spawn();
  watch(p, "Matching", "2141", false, "ARCS");
  sim.advance(60s);
  BOOST_TEST_REQUIRE(polls() == 2u);
  BOOST_TEST(http_log->requests[0].path == "/arm/rest/v1/jobs/2141");
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(updates[0].status == job_status::warning);
  BOOST_TEST(message_of(updates[0]) == "Auto match failed");
}

BOOST_AUTO_TEST_CASE(forbidden_job_status_names_the_role_and_settles_nothing) {
  opts.pull.max_poll_duration_minutes = 2;
  pod->script("J1", {epm_reply::success("Loaded")});
  pod->deny_role(true);
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(30s);
  BOOST_TEST(polls() == 1u);
  auto h = health(p);
  BOOST_TEST(h.status.find("403") != std::string::npos, h.status);
  BOOST_TEST(h.status.find("Service Administrator") != std::string::npos, h.status);
  sim.advance(10min); // well past the deadline
  BOOST_TEST(state->applies.empty()); // neither Warning nor "Timed out": EPM never said
  h = health(p);
  BOOST_TEST(h.watched_jobs == 0u);
  BOOST_TEST(h.status.find("Service Administrator") != std::string::npos, h.status);
  auto polled = polls();
  sim.advance(1h);
  BOOST_TEST(polls() == polled); // dropped
}

BOOST_AUTO_TEST_CASE(job_that_stays_in_progress_ends_at_the_limit_saying_so) {
  // An ARCS MONITOR_RECONCILIATIONS job stays -1 while any reconciliation is open.
  opts.server.kind = config::epm_server_kind::arcs;
  opts.server.application.clear();
  opts.pull.max_poll_duration_minutes = 3;
  pod->script("77", {epm_reply::in_progress()});
  auto p = spawn();
  watch(p, "Reconciliation", "77", true, "ARCS"); // polled at once, then every 30 s
  sim.advance(1h);
  BOOST_TEST(http_log->requests.back().path == "/armARCS/rest/v1/jobs/77");
  BOOST_TEST(pod->calls("77") == 6u); // 0, 30 … 150 s; none after the limit
  auto settled = state->updates();
  BOOST_TEST_REQUIRE(settled.size() == 1u);
  BOOST_TEST(message_of(settled.front()).find(std::string{still_in_progress_text})
             != std::string::npos, message_of(settled.front()));
}

BOOST_AUTO_TEST_CASE(timeout_after_failing_polls_says_what_failed) {
  opts.pull.max_poll_duration_minutes = 2;
  pod->script("J1", {epm_reply::http(503)});
  auto p = spawn();
  watch(p, "Actual", "J1");
  sim.advance(10min);
  auto updates = state->updates();
  BOOST_TEST_REQUIRE(updates.size() == 1u);
  BOOST_TEST(message_of(updates[0]).find("last poll failed: EPM answered HTTP 503")
             != std::string::npos, message_of(updates[0]));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // poller_tests
