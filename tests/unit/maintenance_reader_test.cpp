#include <boost/test/unit_test.hpp>

// The maintenance reader on simulated time: EPM is the scripted pod answered
// in process (the fake HTTP client), the token actor is a fake of its
// protocol, and the listener records every start it is told. Refreshes,
// retries and their backoff are checked to the millisecond.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "actors/pull/maintenance_reader.hpp"
#include "tests/fakes/fake_epm.hpp"
#include "tests/fakes/fake_http_client.hpp"
#include "tests/fakes/fake_pull_actors.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/simulated_system.hpp"

BOOST_AUTO_TEST_SUITE(maintenance_reader_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace std::chrono_literals;

namespace {

struct fixture {
  simulated_system sim; // first: the actors below die before it
  std::shared_ptr<scripted_epm_pod> pod = std::make_shared<scripted_epm_pod>();
  std::shared_ptr<fake_http_log> http_log = std::make_shared<fake_http_log>();
  std::shared_ptr<fake_token_log> tokens = std::make_shared<fake_token_log>();
  std::shared_ptr<std::vector<epm_daily_maintenance>> told =
    std::make_shared<std::vector<epm_daily_maintenance>>();
  maintenance_reader_options opts;

  fixture() {
    opts.server.id = "planning_pod";
    opts.server.name = "Planning pod";
    opts.server.base_url = "https://pod.example.com";
    opts.server.application = "Vision";
    opts.refresh = 6h;
    opts.retry_initial = 1min;
  }

  maintenance_reader_actor spawn() {
    opts.http =
      sim.stop_at_end(spawn_fake_http_client(sim.system(), answering_like(pod), http_log));
    opts.tokens = sim.stop_at_end(spawn_fake_token_actor(sim.system(), tokens));
    auto log = told;
    opts.listener = sim.stop_at_end(sim.system().spawn(
      [log]() -> daily_maintenance_listener::behavior_type {
        return {[log](maintenance_atom, const epm_daily_maintenance& m) { log->push_back(m); }};
      }));
    auto r = spawn_maintenance_reader(sim.system(), opts);
    if (!r)
      BOOST_FAIL("spawn failed: " << describe_error(r.error()));
    sim.run();
    return sim.stop_at_end(*r);
  }

  maintenance_read_health health(const maintenance_reader_actor& r) {
    auto answer = sim.ask<maintenance_read_health>(r, health_atom_v);
    if (!answer || !*answer)
      BOOST_FAIL("no health answer");
    return **answer;
  }

  std::size_t calls() const { return http_log->requests.size(); }
};

} // namespace

BOOST_FIXTURE_TEST_CASE(reads_at_start_then_every_refresh_and_tells_the_listener, fixture) {
  pod->accept_authorizations({"Bearer token-1"});
  pod->script_daily_maintenance({epm_reply::daily_maintenance("19:00"),
                                 epm_reply::daily_maintenance("21:30", "Europe/Berlin")});
  auto r = spawn();
  BOOST_TEST_REQUIRE(calls() == 1u);
  const auto& first = http_log->requests[0];
  BOOST_TEST(first.method == "GET");
  BOOST_TEST(first.path == "/interop/rest/v2/maintenance/getdailymaintenancestarttime");
  BOOST_TEST(first.headers.at("authorization") == "Bearer token-1");
  BOOST_TEST_REQUIRE(told->size() == 1u);
  BOOST_TEST((*told)[0].server_id == "planning_pod");
  BOOST_TEST((*told)[0].start.minute == 19 * 60);
  BOOST_TEST((*told)[0].start.time_zone == "UTC");
  auto h = health(r);
  BOOST_TEST(h.status == "read 19:00 UTC");
  BOOST_TEST(h.reads == 1u);
  BOOST_TEST(h.failures == 0u);
  sim.advance(6h - 1ms);
  BOOST_TEST(calls() == 1u);
  sim.advance(1ms);
  BOOST_TEST_REQUIRE(calls() == 2u);
  BOOST_TEST_REQUIRE(told->size() == 2u);
  BOOST_TEST((*told)[1].start.minute == 21 * 60 + 30);
  BOOST_TEST((*told)[1].start.time_zone == "Europe/Berlin");
  BOOST_TEST(health(r).status == "read 21:30 Europe/Berlin");
  // The same answer again is told again (a listener that restarted learns it).
  sim.advance(6h);
  BOOST_TEST(calls() == 3u);
  BOOST_TEST(told->size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(a_failed_read_backs_off_and_health_names_the_fallback, fixture) {
  opts.configured = time_of_day{3 * 60, "Europe/Berlin"};
  pod->script_daily_maintenance({epm_reply::http(503), epm_reply::http(503),
                                 epm_reply::daily_maintenance("19:00"), epm_reply::http(500)});
  auto r = spawn();
  BOOST_TEST(calls() == 1u);
  BOOST_TEST(told->empty());
  auto h = health(r);
  BOOST_TEST(h.status
             == "error: EPM answered HTTP 503; using the configured start 03:00 Europe/Berlin");
  BOOST_TEST(h.failures == 1u);
  // 1 min, then 2 min later, then the start is read.
  sim.advance(1min - 1ms);
  BOOST_TEST(calls() == 1u);
  sim.advance(1ms);
  BOOST_TEST(calls() == 2u);
  sim.advance(2min - 1ms);
  BOOST_TEST(calls() == 2u);
  BOOST_TEST(told->empty());
  sim.advance(1ms);
  BOOST_TEST(calls() == 3u);
  BOOST_TEST_REQUIRE(told->size() == 1u);
  BOOST_TEST(health(r).status == "read 19:00 UTC");
  // The next refresh fails: the start read before stands, and health says so;
  // the backoff starts again from one minute.
  sim.advance(6h);
  BOOST_TEST(calls() == 4u);
  BOOST_TEST(told->size() == 1u);
  BOOST_TEST(health(r).status
             == "error: EPM answered HTTP 500; using the start read before, 19:00 UTC");
  sim.advance(1min);
  BOOST_TEST(calls() == 5u);
}

BOOST_FIXTURE_TEST_CASE(backoff_is_capped_at_the_refresh_interval, fixture) {
  opts.refresh = 10min;
  pod->script_daily_maintenance({epm_reply::http(503)});
  spawn();
  // 1, 2, 4, 8 → capped at 10 minutes.
  sim.advance(1min + 2min + 4min);
  BOOST_TEST(calls() == 4u);
  sim.advance(8min);
  BOOST_TEST(calls() == 5u);
  sim.advance(10min - 1ms);
  BOOST_TEST(calls() == 5u);
  sim.advance(1ms);
  BOOST_TEST(calls() == 6u);
}

BOOST_FIXTURE_TEST_CASE(a_401_renews_the_token_and_retries_once, fixture) {
  pod->accept_authorizations({"Bearer token-2"});
  pod->script_daily_maintenance({epm_reply::daily_maintenance("04:15")});
  auto r = spawn();
  BOOST_TEST_REQUIRE(calls() == 2u);
  BOOST_TEST(http_log->requests[0].headers.at("authorization") == "Bearer token-1");
  BOOST_TEST(http_log->requests[1].headers.at("authorization") == "Bearer token-2");
  BOOST_TEST(tokens->invalidated == std::vector<std::uint64_t>{1});
  BOOST_TEST_REQUIRE(told->size() == 1u);
  BOOST_TEST(told->front().start.minute == 4 * 60 + 15);
  // A token EPM refuses again is an error, not a loop.
  pod->accept_authorizations({"Bearer token-9"});
  sim.advance(6h);
  BOOST_TEST(calls() == 4u);
  auto h = health(r);
  BOOST_TEST(h.status.find("EPM rejected a fresh token (401 Unauthorized)") == 7u, h.status);
  BOOST_TEST(h.status.find("using the start read before, 04:15 UTC") != std::string::npos,
             h.status);
}

BOOST_FIXTURE_TEST_CASE(forbidden_unreadable_and_unreachable_answers_say_why, fixture) {
  pod->deny_role(true);
  auto r = spawn();
  auto forbidden = health(r).status;
  BOOST_TEST(forbidden.find("HTTP 403") != std::string::npos, forbidden);
  BOOST_TEST(forbidden.find("Service Administrator") != std::string::npos, forbidden);
  BOOST_TEST(forbidden.find("no daily window until it is read") != std::string::npos, forbidden);
  pod->deny_role(false);
  pod->script_daily_maintenance(
    {epm_reply::literal({{"status", 1}, {"details", "EPMLCM-30001: Internal error"}})});
  sim.advance(1min);
  auto unreadable = health(r).status;
  BOOST_TEST(unreadable.find("unreadable answer: EPM answered status 1: EPMLCM-30001") == 7u,
             unreadable);
  tokens->failing = "the token endpoint is down";
  sim.advance(2min);
  auto no_token = health(r).status;
  BOOST_TEST(no_token.find("the token endpoint is down") != std::string::npos, no_token);
  BOOST_TEST(told->empty());
  // Nothing secret in any of them.
  for (const auto& text : {forbidden, unreadable, no_token})
    BOOST_TEST(text.find("token-") == std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()
