#include <boost/test/unit_test.hpp>

// Pull mode end to end: the real server, fake EPM pods and a fake OAuth token
// endpoint on loopback. A Loading push with a job_id makes the pod's poller
// watch the job until EPM settles it; no second push is needed.

#include <algorithm>
#include <memory>
#include <vector>

#include "tests/fakes/fake_epm.hpp"
#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(pull_mode_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* refresh_token = "rt-secret-4471";

// Four pods: Planning and FCCS on Planning REST, ARCS on its own API, EDM
// with job runs and their results.
struct pods {
  fake_token_endpoint tokens;
  fake_epm planning;
  fake_epm fccs;
  fake_epm arcs;
  fake_epm edm;

  json config(double max_poll_minutes = 60) const {
    auto cfg = default_test_config();
    cfg["apps"]["Planning"]["server"] = "planning_pod";
    cfg["apps"]["FCCS"]["server"] = "fccs_pod";
    cfg["apps"]["ARCS"]["server"] = "arcs_pod";
    cfg["apps"]["EDM"] = app_entry({"Metadata"});
    cfg["apps"]["EDM"]["server"] = "edm_pod";
    cfg["epm"] = {
      {"auth",
       {{"type", "oauth_refresh_token"},
        {"token_url", tokens.url()},
        {"client_id", "epmpulse-public-client"},
        {"refresh_token", refresh_token}}},
      {"servers",
       {{"planning_pod",
         {{"name", "Planning pod"}, {"base_url", planning.base_url()}, {"kind", "planning"},
          {"application", "Vision"}}},
        {"fccs_pod",
         {{"name", "FCCS pod"}, {"base_url", fccs.base_url()}, {"kind", "planning"},
          {"application", "FCCS01"}}},
        {"arcs_pod", {{"name", "ARCS pod"}, {"base_url", arcs.base_url()}, {"kind", "arcs"}}},
        {"edm_pod", {{"name", "EDM pod"}, {"base_url", edm.base_url()}, {"kind", "edm"}}}}}};
    cfg["settings"]["pull_mode"] = {{"enabled", true},
                                    {"poll_interval_seconds", 1},
                                    {"max_poll_duration_minutes", max_poll_minutes},
                                    {"max_concurrent_polls_per_server", 4}};
    return cfg;
  }
};

struct pull_mode {
  pods epm;
  std::unique_ptr<service> svc;

  pull_mode() { start(); }

  void start(double max_poll_minutes = 60) {
    service_options o;
    o.config = epm.config(max_poll_minutes);
    svc = std::make_unique<service>(o);
  }

  void loading(const std::string& app, const std::string& domain, const std::string& job) {
    auto r = svc->writer().post("/api/v1/status",
                                update(app, domain, "Loading", {{"job_id", job}}));
    BOOST_TEST_REQUIRE(r.status == 200, r.describe());
  }

  json domain(const std::string& app, const std::string& name) const {
    return svc->domain(app, name);
  }

  bool settled_as(const std::string& app, const std::string& name, const std::string& status) {
    auto d = domain(app, name);
    return d.is_object() && d.value("status", "") == status;
  }
};

std::string message_of(const json& d) {
  return d.contains("message") && d["message"].is_string() ? d["message"].get<std::string>() : "";
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(pull, pull_mode)

BOOST_AUTO_TEST_CASE(a_loading_job_that_succeeds_turns_ok_without_another_push) {
  epm.planning.script("J_OK", {epm_reply::in_progress(), epm_reply::in_progress(),
                               epm_reply::success("Loaded 1200 rows")});
  loading("Planning", "Actual", "J_OK");
  BOOST_REQUIRE(eventually([&] { return settled_as("Planning", "Actual", "OK"); }, 20s));
  auto d = domain("Planning", "Actual");
  BOOST_TEST(d["job_id"] == "J_OK");
  BOOST_TEST(d["source"] == "poll", d.dump());
  BOOST_TEST(message_of(d).find("Loaded 1200 rows") != std::string::npos, d.dump());
  BOOST_TEST(epm.planning.calls("J_OK") >= 3u);
  // The poller used the Planning REST path of the configured application.
  auto reqs = epm.planning.requests();
  BOOST_TEST(std::any_of(reqs.begin(), reqs.end(), [](const recorded_request& r) {
    return r.path == fake_epm::planning_path("Vision", "J_OK");
  }));
  // Settled: the poller stops asking.
  auto calls = epm.planning.calls("J_OK");
  BOOST_TEST(!epm.planning.wait_calls("J_OK", calls + 1, 2500ms));
}

BOOST_AUTO_TEST_CASE(a_failed_job_turns_warning_with_its_details) {
  epm.arcs.script("J_ERR", {epm_reply::error("Reconciliation R-17 rejected: period closed")});
  loading("ARCS", "Reconciliation", "J_ERR");
  BOOST_REQUIRE(eventually([&] { return settled_as("ARCS", "Reconciliation", "Warning"); }, 20s));
  auto d = domain("ARCS", "Reconciliation");
  BOOST_TEST(message_of(d).find("period closed") != std::string::npos, d.dump());
}

BOOST_AUTO_TEST_CASE(an_unknown_job_turns_warning_job_not_found) {
  loading("FCCS", "Consolidation", "J_MISSING"); // unscripted: the pod answers 404
  BOOST_REQUIRE(eventually([&] { return settled_as("FCCS", "Consolidation", "Warning"); }, 20s));
  auto message = message_of(domain("FCCS", "Consolidation"));
  BOOST_TEST(message.find("Job not found on") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(a_push_that_ends_the_job_stops_the_watch) {
  epm.planning.script("J_PUSHED", {epm_reply::in_progress()});
  loading("Planning", "Budget", "J_PUSHED");
  BOOST_REQUIRE(epm.planning.wait_calls("J_PUSHED", 1));
  auto r = svc->writer().post("/api/v1/status",
                              update("Planning", "Budget", "OK", {{"job_id", "J_PUSHED"}}));
  BOOST_TEST_REQUIRE(r.status == 200);
  // At most the poll already in flight lands after the push; then silence.
  epm.planning.wait_calls("J_PUSHED", epm.planning.calls("J_PUSHED") + 1, 1500ms);
  auto calls = epm.planning.calls("J_PUSHED");
  BOOST_TEST(!epm.planning.wait_calls("J_PUSHED", calls + 1, 2500ms));
  BOOST_TEST(domain("Planning", "Budget")["status"] == "OK");
}

BOOST_AUTO_TEST_CASE(three_pods_are_polled_in_parallel) {
  // Each pod takes 2 s to answer. Polled one after the other, the second pod
  // would hear its request only after the first pod answered.
  epm.planning.script("P1", {epm_reply::success("done").after(2s)});
  epm.fccs.script("P2", {epm_reply::success("done").after(2s)});
  epm.arcs.script("P3", {epm_reply::success("done").after(2s)});
  loading("Planning", "Forecast", "P1");
  loading("FCCS", "Consolidation", "P2");
  loading("ARCS", "Reconciliation", "P3");
  BOOST_REQUIRE(eventually([&] {
    return settled_as("Planning", "Forecast", "OK") && settled_as("FCCS", "Consolidation", "OK")
           && settled_as("ARCS", "Reconciliation", "OK");
  }, 30s));
  auto first_arrival = [](const fake_epm& pod) {
    auto reqs = pod.requests();
    BOOST_TEST_REQUIRE(!reqs.empty());
    return reqs.front().received;
  };
  std::vector<std::chrono::steady_clock::time_point> arrivals{
    first_arrival(epm.planning), first_arrival(epm.fccs), first_arrival(epm.arcs)};
  auto [earliest, latest] = std::minmax_element(arrivals.begin(), arrivals.end());
  BOOST_TEST((*latest - *earliest < 2s),
             "the last pod was first asked "
               << std::chrono::duration_cast<std::chrono::milliseconds>(*latest - *earliest).count()
               << " ms after the first: polls were serialised");
}

BOOST_AUTO_TEST_CASE(a_401_invalidates_the_token_and_retries_once) {
  // The pod takes only the second token: the first poll is refused.
  epm.planning.accept_authorizations({"Bearer access-2"});
  epm.planning.script("J_AUTH", {epm_reply::success("ok after re-auth")});
  loading("Planning", "Actual", "J_AUTH");
  BOOST_REQUIRE(eventually([&] { return settled_as("Planning", "Actual", "OK"); }, 20s));
  BOOST_TEST(epm.planning.unauthorized() == 1u);
  BOOST_TEST(epm.planning.calls("J_AUTH") == 1u);
  BOOST_TEST(epm.tokens.calls() == 2u);
}

BOOST_AUTO_TEST_CASE(health_shows_each_pod_and_the_token) {
  epm.planning.script("J_H", {epm_reply::success("fine")});
  loading("Planning", "Actual", "J_H");
  BOOST_REQUIRE(eventually([&] { return settled_as("Planning", "Actual", "OK"); }, 20s));
  auto h = svc->anonymous().get("/api/v1/health").json();
  BOOST_TEST(h["checks"]["epm"]["planning_pod"] == "ok", h.dump());
  BOOST_TEST(h["checks"].contains("epm_auth"), h.dump());
  BOOST_TEST(h["checks"]["epm_auth"] == "ok", h.dump());
}

BOOST_AUTO_TEST_CASE(secrets_never_reach_the_log) {
  epm.planning.script("J_S", {epm_reply::success("fine")});
  loading("Planning", "Actual", "J_S");
  BOOST_REQUIRE(eventually([&] { return settled_as("Planning", "Actual", "OK"); }, 20s));
  auto log = svc->server().log_text();
  BOOST_TEST(!log.empty());
  BOOST_TEST(log.find(refresh_token) == std::string::npos);
  BOOST_TEST(log.find("access-1") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_job_past_the_poll_limit_turns_warning_timed_out) {
  svc.reset();
  start(0.05); // 3 s
  epm.planning.script("J_SLOW", {epm_reply::in_progress()});
  loading("Planning", "Actual", "J_SLOW");
  BOOST_REQUIRE(eventually([&] { return settled_as("Planning", "Actual", "Warning"); }, 30s));
  auto message = message_of(domain("Planning", "Actual"));
  BOOST_TEST(message.find("Timed out") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(an_edm_run_that_completed_but_failed_turns_warning_over_http) {
  epm.edm.script("81ecd091-f969", {epm_reply::edm_completed_but_failed(
                                    "Transfer file to Financials Cloud failed: unknown host")});
  loading("EDM", "Metadata", "81ecd091-f969");
  BOOST_REQUIRE(eventually([&] { return settled_as("EDM", "Metadata", "Warning"); }, 20s));
  BOOST_TEST(message_of(domain("EDM", "Metadata")).find("unknown host") != std::string::npos,
             message_of(domain("EDM", "Metadata")));
  BOOST_TEST(epm.edm.result_calls("81ecd091-f969") == 1u);
  bool asked_result = false;
  for (const auto& r : epm.edm.requests())
    asked_result = asked_result || r.path == "/epm/rest/v1/jobRuns/81ecd091-f969/result";
  BOOST_TEST(asked_result);
}

BOOST_AUTO_TEST_CASE(loading_jobs_are_watched_again_after_a_restart) {
  epm.planning.script("J_RESTART", {epm_reply::in_progress()});
  loading("Planning", "Actual", "J_RESTART");
  BOOST_REQUIRE(epm.planning.wait_calls("J_RESTART", 1));
  svc->server().stop();
  epm.planning.script("J_RESTART", {epm_reply::success("finished while we were down")});
  svc->server().restart();
  BOOST_REQUIRE(eventually([&] { return settled_as("Planning", "Actual", "OK"); }, 20s));
  BOOST_TEST(message_of(domain("Planning", "Actual")).find("while we were down")
             != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // pull_mode_tests
