#include <boost/test/unit_test.hpp>

// The pure part of pull mode: job-status URLs per server kind and the mapping
// of EPM job documents to a dashboard status and message.

#include <climits>
#include <string>

#include <nlohmann/json.hpp>

#include "actors/pull/epm_status.hpp"
#include "tests/support/printing.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(epm_status_tests)

using namespace epmpulse;
using nlohmann::json;
using kind = config::epm_server_kind;

namespace {

config::epm_server server(kind k, std::string base = "https://pod.example.com",
                          std::string application = "Vision") {
  config::epm_server s;
  s.id = "pod1";
  s.name = "Planning Prod";
  s.base_url = std::move(base);
  s.kind = k;
  s.application = std::move(application);
  return s;
}

epm_job_result map(kind k, const json& doc) {
  std::string error;
  auto r = map_job_response(k, doc, error);
  BOOST_TEST_REQUIRE(r.has_value(), "mapping failed: " << error << " for " << doc.dump());
  return *r;
}

} // namespace

// -- URLs -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(planning_url_uses_v3_application_jobs_path) {
  BOOST_TEST(job_status_url(server(kind::planning), "123")
             == "https://pod.example.com/HyperionPlanning/rest/v3/applications/Vision/jobs/123");
}

BOOST_AUTO_TEST_CASE(arcs_data_integration_and_edm_urls_follow_their_products) {
  BOOST_TEST(job_status_url(server(kind::arcs), "77")
             == "https://pod.example.com/armARCS/rest/v1/jobs/77");
  BOOST_TEST(job_status_url(server(kind::data_integration), "1881")
             == "https://pod.example.com/aif/rest/V1/jobs/1881");
  BOOST_TEST(job_status_url(server(kind::edm), "a1b2")
             == "https://pod.example.com/epm/rest/v1/jobRuns/a1b2");
}

BOOST_AUTO_TEST_CASE(arcs_transaction_matching_url_is_the_arm_path_and_edm_has_a_result_url) {
  BOOST_TEST(job_status_url(server(kind::arcs_tm), "2141")
             == "https://pod.example.com/arm/rest/v1/jobs/2141");
  BOOST_TEST(job_result_url(server(kind::edm), "a1b2")
             == "https://pod.example.com/epm/rest/v1/jobRuns/a1b2/result");
  BOOST_TEST(job_result_url(server(kind::planning), "1").empty());
  BOOST_TEST(std::string(kind_name(kind::arcs_tm)) == "arcs_tm");
}

BOOST_AUTO_TEST_CASE(edm_result_with_success_false_is_a_failure_naming_the_task) {
  // Shaped like Oracle's "Export a dimension by name" example result.
  std::string error;
  auto r = map_edm_result_body(R"({"id": "0105", "origin": "EXPORT_DIMENSION",
    "status": "COMPLETED", "lastModified": "2023-05-04T07:59:38.497Z",
    "result": {"success": false, "tasks": [{"taskName": "Transfer file", "status": "ERROR",
      "messages": ["Transfer file to Financials Cloud failed: unknown host"]}],
      "messages": "Exported 418 records"}})", error);
  BOOST_TEST_REQUIRE(r.has_value(), error);
  BOOST_TEST((r->phase == epm_job_phase::failed));
  BOOST_TEST((r->status == job_status::warning));
  BOOST_TEST(r->message == "Failed: Transfer file to Financials Cloud failed: unknown host");
  BOOST_TEST(r->event_time.has_value());
  auto ok = map_edm_result_body(R"({"status": "COMPLETED", "result": {"success": true}})", error);
  BOOST_TEST_REQUIRE(ok.has_value(), error);
  BOOST_TEST((ok->status == job_status::ok));
  BOOST_TEST(!map_edm_result_body("[]", error).has_value());
}

BOOST_AUTO_TEST_CASE(url_ignores_trailing_slash_and_encodes_segments) {
  BOOST_TEST(job_status_url(server(kind::planning, "https://pod.example.com/", "My App"),
                            "job/1 x")
             == "https://pod.example.com/HyperionPlanning/rest/v3/applications/My%20App/jobs/"
                "job%2F1%20x");
}

// -- Planning codes ---------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(planning_in_progress_leaves_domain_unchanged) {
  auto r = map(kind::planning, {{"jobId", 1}, {"status", -1}, {"descriptiveStatus", "Processing"}});
  BOOST_TEST((r.phase == epm_job_phase::running));
  BOOST_TEST((r.status == job_status::loading));
}

BOOST_AUTO_TEST_CASE(planning_success_is_ok_with_details_as_message) {
  auto r = map(kind::planning, {{"jobId", 1},
                                {"status", 0},
                                {"descriptiveStatus", "Completed"},
                                {"details", "Refresh Database completed"}});
  BOOST_TEST((r.phase == epm_job_phase::succeeded));
  BOOST_TEST((r.status == job_status::ok));
  BOOST_TEST(r.message == "Refresh Database completed");
  BOOST_TEST(r.code.value() == 0);
}

BOOST_AUTO_TEST_CASE(planning_success_without_details_says_completed) {
  auto r = map(kind::planning, {{"status", 0}, {"details", nullptr}});
  BOOST_TEST(r.message == "Completed");
}

BOOST_AUTO_TEST_CASE(planning_error_cancelled_and_invalid_are_warnings_with_details) {
  for (int code : {1, 3, 4}) {
    auto r = map(kind::planning, {{"status", code}, {"details", "Rule failed: member X"}});
    BOOST_TEST((r.phase == epm_job_phase::failed), "code " << code);
    BOOST_TEST((r.status == job_status::warning));
    BOOST_TEST(r.message == "Rule failed: member X");
  }
}

BOOST_AUTO_TEST_CASE(failure_without_details_falls_back_to_descriptive_status) {
  BOOST_TEST(map(kind::planning, {{"status", 3}, {"descriptiveStatus", "Cancelled"}}).message
             == "Cancelled");
  BOOST_TEST(map(kind::planning, {{"status", 1}}).message == "Error");
  BOOST_TEST(map(kind::planning, {{"status", 4}}).message == "Invalid parameter");
}

BOOST_AUTO_TEST_CASE(planning_cancel_pending_and_unknown_keep_watching) {
  BOOST_TEST((map(kind::planning, {{"status", 2}}).phase == epm_job_phase::running));
  BOOST_TEST((map(kind::planning, {{"status", INT_MAX}}).phase == epm_job_phase::running));
}

// -- ARCS, Data Integration, EDM ------------------------------------------------------

BOOST_AUTO_TEST_CASE(arcs_any_positive_code_is_a_failure) {
  BOOST_TEST((map(kind::arcs, {{"status", 0}}).phase == epm_job_phase::succeeded));
  BOOST_TEST((map(kind::arcs, {{"status", -1}}).phase == epm_job_phase::running));
  BOOST_TEST((map(kind::arcs, {{"status", 2}}).phase == epm_job_phase::failed));
  BOOST_TEST((map(kind::arcs, {{"status", 17}}).phase == epm_job_phase::failed));
}

BOOST_AUTO_TEST_CASE(data_integration_codes_as_strings_and_literal_null_details) {
  // Oracle's own example: status as a string, details the string "null".
  auto r = map(kind::data_integration, {{"status", "0"},
                                        {"details", "null"},
                                        {"jobId", "1881"},
                                        {"jobStatus", "SUCCESS"}});
  BOOST_TEST((r.status == job_status::ok));
  BOOST_TEST(r.message == "Completed");
  BOOST_TEST((map(kind::data_integration, {{"status", "-1"}, {"jobStatus", "RUNNING"}}).phase
              == epm_job_phase::running));
}

BOOST_AUTO_TEST_CASE(data_integration_job_status_used_when_status_missing) {
  BOOST_TEST((map(kind::data_integration, {{"jobStatus", "FAILED"}}).status
              == job_status::warning));
  BOOST_TEST((map(kind::data_integration, {{"jobStatus", "RUNNING"}}).phase
              == epm_job_phase::running));
}

BOOST_AUTO_TEST_CASE(edm_textual_status_and_error_field) {
  BOOST_TEST((map(kind::edm, {{"status", "RUNNING"}}).phase == epm_job_phase::running));
  BOOST_TEST((map(kind::edm, {{"status", "COMPLETED"}}).status == job_status::ok));
  auto failed = map(kind::edm, {{"status", "FAILED"}, {"error", "Viewpoint locked"}});
  BOOST_TEST((failed.status == job_status::warning));
  BOOST_TEST(failed.message == "Viewpoint locked");
  auto completed_with_error = map(kind::edm, {{"status", "COMPLETED"}, {"error", "2 rows rejected"}});
  BOOST_TEST((completed_with_error.status == job_status::warning));
}

BOOST_AUTO_TEST_CASE(edm_last_modified_becomes_event_time_when_finished) {
  auto r = map(kind::edm, {{"status", "COMPLETED"}, {"lastModified", 1771252200000LL}});
  BOOST_TEST_REQUIRE(r.event_time.has_value());
  BOOST_TEST(r.event_time->time_since_epoch().count() == 1771252200000LL);
}

BOOST_AUTO_TEST_CASE(unrecognised_documents_are_errors_not_guesses) {
  std::string error;
  BOOST_TEST(!map_job_response(kind::planning, json::array(), error).has_value());
  BOOST_TEST(!map_job_response(kind::planning, {{"jobId", 1}}, error).has_value());
  BOOST_TEST(error.find("status") != std::string::npos);
  BOOST_TEST(!map_job_response(kind::planning, {{"status", "sideways"}}, error).has_value());
  BOOST_TEST(!map_job_body(kind::planning, "<html>", error).has_value());
  BOOST_TEST(error == "job status is not valid JSON");
}

// -- messages ---------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(messages_are_single_line_and_at_most_200_characters) {
  auto r = map(kind::planning, {{"status", 1}, {"details", "line one\n\tline two\r\n"}});
  BOOST_TEST(r.message == "line one line two");
  std::string long_text(500, 'x');
  auto cut = clean_message(long_text);
  BOOST_TEST(cut.size() == 199 + 3); // 199 'x' and a 3-byte ellipsis: 200 characters
  BOOST_TEST(cut.substr(199) == "\xE2\x80\xA6");
}

BOOST_AUTO_TEST_CASE(clean_message_keeps_utf8_whole_and_replaces_invalid_bytes) {
  std::string umlauts;
  for (int i = 0; i < 300; ++i)
    umlauts += "\xC3\xA4"; // ä
  auto cut = clean_message(umlauts, 10);
  std::string expected;
  for (int i = 0; i < 9; ++i)
    expected += "\xC3\xA4";
  expected += "\xE2\x80\xA6"; // 9 umlauts and the ellipsis: 10 characters
  BOOST_TEST(cut == expected);
  BOOST_TEST(clean_message("a\xFF"
                           "b")
             == "a\xEF\xBF\xBD"
                "b");
}

BOOST_AUTO_TEST_CASE(timeout_and_not_found_messages_match_the_spec) {
  BOOST_TEST(timeout_message(60) == "Timed out: no completion after 60 min");
  BOOST_TEST(timeout_message(0.5) == "Timed out: no completion after 0.5 min");
  BOOST_TEST(not_found_message(server(kind::planning)) == "Job not found on Planning Prod");
  auto unnamed = server(kind::arcs);
  unnamed.name.clear();
  BOOST_TEST(not_found_message(unnamed) == "Job not found on pod1");
}

BOOST_AUTO_TEST_CASE(backoff_doubles_up_to_the_cap) {
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  BOOST_TEST(backoff_delay(seconds{1}, 0, seconds{60}).count() == 1000);
  BOOST_TEST(backoff_delay(seconds{1}, 1, seconds{60}).count() == 2000);
  BOOST_TEST(backoff_delay(seconds{1}, 5, seconds{60}).count() == 32000);
  BOOST_TEST(backoff_delay(seconds{1}, 6, seconds{60}).count() == 60000);
  BOOST_TEST(backoff_delay(seconds{1}, 1000, seconds{60}).count() == 60000);
  BOOST_TEST(seconds_to_ms(0.05).count() == 50);
  BOOST_TEST(seconds_to_ms(0).count() == 1);
}

// -- the daily maintenance time --------------------------------------------------------

BOOST_AUTO_TEST_CASE(daily_maintenance_url_is_the_documented_v2_call_for_every_kind) {
  for (auto k : {kind::planning, kind::arcs, kind::data_integration, kind::edm, kind::arcs_tm})
    BOOST_TEST(daily_maintenance_url(server(k, "https://pod.example.com//"))
               == "https://pod.example.com/interop/rest/v2/maintenance/getdailymaintenancestarttime");
}

BOOST_AUTO_TEST_CASE(daily_maintenance_answers_are_read_as_oracle_documents_them) {
  std::string error;
  // v2, Oracle's example: the start in UTC.
  auto v2 = parse_daily_maintenance(
    R"({"details": null, "status": 0, "items": [{"buildVersion": "22.09.40",
        "amwTime": "19:00"}], "links": []})",
    error);
  BOOST_TEST_REQUIRE(v2.has_value(), error);
  BOOST_TEST(v2->minute == 19 * 60);
  BOOST_TEST(v2->time_zone == "UTC");
  // v2 with the zone it was set in (showTimeZone=true).
  auto zoned = parse_daily_maintenance(
    R"({"status": 0, "items": [{"amwTime": "02:30", "timeZone": "America/Los_Angeles"}]})",
    error);
  BOOST_TEST_REQUIRE(zoned.has_value(), error);
  BOOST_TEST(zoned->minute == 150);
  BOOST_TEST(zoned->time_zone == "America/Los_Angeles");
  // v1: the status as a string, the hour only.
  auto v1 = parse_daily_maintenance(
    R"({"status": "0", "details": null, "items": [{"amwTime": "3", "buildVersion": "22.01"}]})",
    error);
  BOOST_TEST_REQUIRE(v1.has_value(), error);
  BOOST_TEST(v1->minute == 180);
}

BOOST_AUTO_TEST_CASE(daily_maintenance_answers_that_say_no_start_are_errors_that_say_why) {
  auto error_of = [](const std::string& body) {
    std::string error;
    auto r = parse_daily_maintenance(body, error);
    BOOST_TEST(!r.has_value(), body);
    return error;
  };
  BOOST_TEST(error_of(R"({"status": 1, "details": "EPMCSS-00301: Failed to authenticate"})")
             == "EPM answered status 1: EPMCSS-00301: Failed to authenticate");
  BOOST_TEST(error_of("<html>Service unavailable</html>") == "the answer is not a JSON object");
  BOOST_TEST(error_of(R"({"items": [{"amwTime": "19:00"}]})")
             == "the answer has no numeric \"status\"");
  BOOST_TEST(error_of(R"({"status": 0, "items": []})") == "the answer has no \"amwTime\"");
  BOOST_TEST(error_of(R"({"status": 0, "items": [{"amwTime": "25:00"}]})")
             == "\"amwTime\" is not a time of day: 25:00");
  BOOST_TEST(error_of(R"({"status": 0, "items": [{"amwTime": "19:00", "timeZone": "Mars/Olympus"}]})")
             == "\"timeZone\" is not a zone of the tz database: Mars/Olympus");
}

BOOST_AUTO_TEST_CASE(a_refused_maintenance_call_names_the_roles_oracle_documents) {
  auto text = maintenance_forbidden_message(server(kind::planning));
  BOOST_TEST(text.find("HTTP 403") != std::string::npos, text);
  BOOST_TEST(text.find("Service Administrator") != std::string::npos, text);
  BOOST_TEST(text.find("Migrations - Administer") != std::string::npos, text);
  BOOST_TEST(text.find("Planning Prod") != std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END() // epm_status_tests
