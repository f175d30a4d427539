#include <boost/test/unit_test.hpp>

// The success shapes of the status API, health, and request ids, against a
// fresh server per test case.

#include <set>

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/time_util.hpp"
#include "tests/support/wait.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(status_api_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct fresh_service {
  service svc;
};

bool has_log_with_request_id(const server_process& p, const std::string& rid) {
  for (const auto& line : p.log_lines())
    if (line.value("request_id", "") == rid)
      return true;
  return false;
}

bool is_time(const json& j) {
  return j.is_string() && parse_rfc3339(j.get<std::string>()).has_value();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(status_api, fresh_service)

BOOST_AUTO_TEST_CASE(configured_domains_start_blank) {
  auto s = svc.status();
  BOOST_TEST(s.contains("last_updated"));
  const std::map<std::string, std::vector<std::string>> expected{
    {"Planning", {"Actual", "Budget", "Forecast"}},
    {"FCCS", {"Consolidation"}},
    {"ARCS", {"Reconciliation"}}};
  BOOST_REQUIRE(s["apps"].is_object());
  BOOST_TEST(s["apps"].size() == expected.size(), s.dump());
  for (const auto& [app, domains] : expected) {
    BOOST_TEST_CONTEXT(app) {
      BOOST_REQUIRE(s["apps"].contains(app));
      BOOST_TEST(s["apps"][app].size() == domains.size(), s["apps"][app].dump());
      for (const auto& d : domains)
        BOOST_TEST(s["apps"][app][d]["status"] == "Blank", s["apps"][app].dump());
    }
  }
}

BOOST_AUTO_TEST_CASE(post_status_answers_the_documented_success_shape) {
  const std::string ts = "2026-02-16T14:30:00Z";
  auto r = svc.writer().post("/api/v1/status",
                             update("Planning", "Actual", "Loading",
                                    {{"job_id", "LOAD_20260216_001"}, {"timestamp", ts}}));
  check_success(r);
  auto j = r.json();
  // The test config has no Slack token: no canvas edit is on its way.
  BOOST_TEST(j["canvas_updated"] == false, j.dump());
  auto u = j["updated"];
  BOOST_TEST(u["app"] == "Planning");
  BOOST_TEST(u["domain"] == "Actual");
  BOOST_TEST(u["status"] == "Loading");
  BOOST_TEST(u["job_id"] == "LOAD_20260216_001");
  BOOST_TEST(u["applied"] == true);
  BOOST_TEST(is_time(u["updated_at"]), u.dump());
  BOOST_TEST((parse_rfc3339(u.value("updated_at", "")) == parse_rfc3339(ts)), u.dump());
}

BOOST_AUTO_TEST_CASE(get_status_shows_what_was_pushed) {
  check_success(svc.writer().post(
    "/api/v1/status", update("Planning", "Budget", "Warning",
                             {{"job_id", "BUD_002"}, {"message", "Timeout on batch 3"},
                              {"timestamp", "2026-02-16T14:32:00Z"}})));
  auto r = svc.reader().get("/api/v1/status");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(is_json_content_type(r));
  auto s = r.json();
  BOOST_TEST(is_time(s["last_updated"]), s.dump());
  auto d = s["apps"]["Planning"]["Budget"];
  BOOST_TEST(d["status"] == "Warning");
  BOOST_TEST(d["job_id"] == "BUD_002");
  BOOST_TEST(d["message"] == "Timeout on batch 3");
  BOOST_TEST((parse_rfc3339(d.value("updated", "")) == parse_rfc3339("2026-02-16T14:32:00Z")),
             d.dump());
  BOOST_TEST(d.contains("duration_sec"), d.dump());
  // Untouched domains stay Blank.
  BOOST_TEST(s["apps"]["Planning"]["Actual"]["status"] == "Blank");
}

BOOST_AUTO_TEST_CASE(get_status_of_one_app_has_app_domains_and_last_updated) {
  check_success(svc.writer().post("/api/v1/status", update("FCCS", "Consolidation", "OK",
                                                           {{"job_id", "FULL_001"}})));
  auto r = svc.reader().get("/api/v1/status/FCCS");
  BOOST_TEST(r.status == 200, r.describe());
  BOOST_TEST(is_json_content_type(r));
  auto j = r.json();
  BOOST_TEST(j["app"] == "FCCS");
  BOOST_TEST(j["domains"]["Consolidation"]["status"] == "OK", j.dump());
  BOOST_TEST(j["domains"]["Consolidation"]["job_id"] == "FULL_001");
  BOOST_TEST(j.contains("last_updated"), j.dump());
  BOOST_TEST(!j["domains"].contains("Actual"), "only FCCS's domains");
}

BOOST_AUTO_TEST_CASE(health_is_healthy_with_state_file_ok_and_last_update) {
  check_success(svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK")));
  auto r = svc.anonymous().get("/api/v1/health");
  BOOST_TEST(r.status == 200, r.describe());
  BOOST_TEST(is_json_content_type(r));
  auto j = r.json();
  BOOST_TEST(j["status"] == "healthy");
  BOOST_TEST(j["checks"]["state_file"] == "ok", j.dump());
  BOOST_TEST(j["checks"]["change_log"] == "ok", j.dump());
  BOOST_TEST(j["checks"].contains("last_update"), j.dump());
  BOOST_TEST(is_time(j["checks"]["last_update"]), j.dump());
}

BOOST_AUTO_TEST_CASE(given_request_id_is_echoed_on_success_and_error) {
  const std::string rid = "test-rid-7f3a9c";
  auto r = svc.writer().post("/api/v1/status", update("Planning", "Actual", "Loading"),
                             {{"X-Request-ID", rid}});
  check_success(r);
  BOOST_TEST(r.header("x-request-id") == rid);
  auto e = svc.anonymous().get("/api/v1/status", {{"X-Request-ID", rid + "-err"}});
  BOOST_TEST(e.status == 401);
  BOOST_TEST(e.header("x-request-id") == rid + "-err");
}

BOOST_AUTO_TEST_CASE(missing_request_id_is_generated_and_unique) {
  auto a = svc.writer().get("/api/v1/status");
  auto b = svc.writer().get("/api/v1/status");
  auto c = svc.anonymous().get("/api/v1/status");
  BOOST_TEST(!a.header("x-request-id").empty());
  BOOST_TEST(!b.header("x-request-id").empty());
  BOOST_TEST(!c.header("x-request-id").empty());
  BOOST_TEST(a.header("x-request-id") != b.header("x-request-id"));
  BOOST_TEST(b.header("x-request-id") != c.header("x-request-id"));
}

BOOST_AUTO_TEST_CASE(request_id_of_a_rejected_request_appears_in_the_log) {
  // At the default level (info) a rejected request is logged.
  const std::string rid = "test-rid-rejected-41";
  auto r = svc.anonymous().post("/api/v1/status", update("Planning", "Actual", "OK"),
                                {{"X-Request-ID", rid}});
  BOOST_TEST(r.status == 401);
  BOOST_TEST(eventually([&] { return has_log_with_request_id(svc.server(), rid); }, 3s),
             "no log line carries request_id " << rid << "; log:\n" << svc.server().log_text());
  auto generated = svc.anonymous().get("/api/v1/status").header("x-request-id");
  BOOST_REQUIRE(!generated.empty());
  BOOST_TEST(eventually([&] { return has_log_with_request_id(svc.server(), generated); }, 3s),
             "no log line carries the generated request_id " << generated);
}

BOOST_AUTO_TEST_CASE(every_log_line_is_a_json_object_with_time_level_message) {
  svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK"));
  svc.anonymous().get("/api/v1/status");
  BOOST_TEST(svc.server().non_json_log_lines().empty(), svc.server().log_text());
  auto lines = svc.server().log_lines();
  BOOST_TEST(!lines.empty());
  for (auto l : lines) { // a copy: operator[] on a const json with a missing key is UB
    BOOST_TEST_CONTEXT(l.dump()) {
      BOOST_TEST(is_time(l["time"]));
      BOOST_TEST(l["level"].is_string());
      BOOST_TEST(l["message"].is_string());
    }
  }
}

BOOST_AUTO_TEST_CASE(listening_line_names_the_bound_loopback_address) {
  auto line = svc.server().find_log("listening");
  BOOST_REQUIRE(line.has_value());
  auto f = (*line)["fields"];
  BOOST_TEST(f["address"].get<std::string>().find("127.0.0.1") != std::string::npos, f.dump());
  BOOST_TEST(f["port"].get<int>() > 0);
  BOOST_TEST(f["port"].get<int>() == svc.server().port());
  BOOST_TEST(f["url"].is_string());
}

BOOST_AUTO_TEST_CASE(identical_pushes_answer_200_both_times) {
  auto body = update("Planning", "Actual", "OK", {{"job_id", "SAME_1"}});
  check_success(svc.writer().post("/api/v1/status", body));
  auto second = svc.writer().post("/api/v1/status", body);
  check_success(second);
  BOOST_TEST(second.json()["updated"]["applied"] == false, second.body);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(request_id_of_a_successful_push_appears_in_the_debug_log) {
  service_options o;
  o.config["settings"]["log_level"] = "debug";
  service svc(o);
  const std::string rid = "test-rid-success-17";
  check_success(svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK"),
                                  {{"X-Request-ID", rid}}));
  BOOST_TEST(eventually([&] { return has_log_with_request_id(svc.server(), rid); }, 3s),
             "no log line carries request_id " << rid << "; log:\n" << svc.server().log_text());
}

BOOST_AUTO_TEST_SUITE_END() // status_api_tests
