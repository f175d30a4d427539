#include <boost/test/unit_test.hpp>

// Request validation of POST /api/v1/status against the real server: every
// 4xx code of the core issue, each naming what is wrong, and nothing applied.

#include <memory>

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/time_util.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
namespace validation_shared {

// One server for this file's cases, which do not care about each other's
// state: started before the first case and stopped after the last (a suite
// fixture, not a global one: this executable also runs other files' suites).
struct shared_service {
  shared_service() { instance = std::make_unique<epmpulse::test::service>(); }
  ~shared_service() { instance.reset(); }
  static inline std::unique_ptr<epmpulse::test::service> instance;
};

} // namespace validation_shared

BOOST_AUTO_TEST_SUITE(validation_tests, *boost::unit_test::fixture<validation_shared::shared_service>())

using namespace epmpulse::test;
using nlohmann::json;

namespace {

service& svc() {
  return *validation_shared::shared_service::instance;
}

http_result push(const json& body) {
  return svc().writer().post("/api/v1/status", body);
}

void check_invalid_request_naming(const json& body, const std::string& field) {
  BOOST_TEST_CONTEXT("body: " << body.dump()) {
    auto r = push(body);
    check_error(r, 400, "INVALID_REQUEST");
    check_names_field(r, field);
  }
}

} // namespace

// -- apps and statuses ----------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_app_is_rejected_with_invalid_app) {
  auto r = push(update("Essbase", "Actual", "OK"));
  check_error(r, 400, "INVALID_APP");
  BOOST_TEST(svc().status()["apps"].contains("Essbase") == false);
}

BOOST_AUTO_TEST_CASE(app_names_are_case_sensitive) {
  check_error(push(update("planning", "Actual", "OK")), 400, "INVALID_APP");
}

BOOST_AUTO_TEST_CASE(unknown_app_on_get_is_app_not_found) {
  check_error(svc().reader().get("/api/v1/status/Essbase"), 404, "APP_NOT_FOUND");
}

BOOST_AUTO_TEST_CASE(status_outside_the_four_values_is_rejected_with_invalid_status) {
  for (const char* s : {"Done", "ok", "LOADING", "", "Error", "OK "}) {
    BOOST_TEST_CONTEXT("status: '" << s << "'") {
      auto r = push(update("Planning", "Actual", s));
      check_error(r, 400, "INVALID_STATUS");
      auto msg = r.json()["error"]["message"].get<std::string>();
      // The message says what is allowed.
      for (const char* allowed : {"Blank", "Loading", "OK", "Warning"})
        BOOST_TEST(msg.find(allowed) != std::string::npos, msg);
    }
  }
}

BOOST_AUTO_TEST_CASE(each_of_the_four_statuses_is_accepted) {
  for (const char* s : {"Blank", "Loading", "OK", "Warning"}) {
    BOOST_TEST_CONTEXT("status: " << s) {
      check_success(push(update("Planning", "StatusProbe", s)));
      BOOST_TEST(svc().domain("Planning", "StatusProbe")["status"] == s);
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_required_fields_are_rejected_naming_them) {
  auto no_app = push({{"domain", "Actual"}, {"status", "OK"}});
  BOOST_TEST(no_app.status == 400, no_app.describe());
  BOOST_TEST((no_app.error_code() == "INVALID_REQUEST" || no_app.error_code() == "INVALID_APP"),
             no_app.describe());
  check_names_field(no_app, "app");

  auto no_status = push({{"app", "Planning"}, {"domain", "Actual"}});
  BOOST_TEST(no_status.status == 400, no_status.describe());
  BOOST_TEST((no_status.error_code() == "INVALID_REQUEST"
              || no_status.error_code() == "INVALID_STATUS"),
             no_status.describe());
  check_names_field(no_status, "status");
}

// -- malformed bodies -----------------------------------------------------------

BOOST_AUTO_TEST_CASE(malformed_json_is_rejected_with_invalid_request) {
  for (const char* body : {"{", "not json", "", "{\"app\": \"Planning\", \"status\": \"OK\",}",
                           "[]", "null", "\"Planning\"", "42",
                           "{\"app\": \"Planning\", \"status\": \"OK\"} trailing"}) {
    BOOST_TEST_CONTEXT("body: '" << body << "'") {
      check_error(svc().writer().post_raw("/api/v1/status", body), 400, "INVALID_REQUEST");
    }
  }
}

BOOST_AUTO_TEST_CASE(wrong_types_are_rejected_with_invalid_request_naming_the_field) {
  check_invalid_request_naming({{"app", 5}, {"status", "OK"}}, "app");
  check_invalid_request_naming({{"app", "Planning"}, {"status", true}}, "status");
  check_invalid_request_naming({{"app", "Planning"}, {"domain", 7}, {"status", "OK"}}, "domain");
  check_invalid_request_naming({{"app", "Planning"}, {"status", "OK"}, {"job_id", 12}}, "job_id");
  check_invalid_request_naming(
    {{"app", "Planning"}, {"status", "OK"}, {"message", json::object()}}, "message");
  check_invalid_request_naming({{"app", "Planning"}, {"status", "OK"}, {"timestamp", 1700000000}},
                               "timestamp");
  check_invalid_request_naming({{"app", json::array({"Planning"})}, {"status", "OK"}}, "app");
}

BOOST_AUTO_TEST_CASE(unknown_fields_are_rejected_naming_the_field) {
  check_invalid_request_naming({{"app", "Planning"}, {"status", "OK"}, {"colour", "red"}},
                               "colour");
  // A misspelling must not be silently dropped.
  check_invalid_request_naming({{"app", "Planning"}, {"status", "OK"}, {"jobid", "J1"}}, "jobid");
}

// -- message and job_id limits --------------------------------------------------

BOOST_AUTO_TEST_CASE(message_of_200_characters_is_accepted_and_201_rejected) {
  check_success(push(update("Planning", "MsgProbe", "Warning", {{"message", std::string(200, 'm')}})));
  BOOST_TEST(svc().domain("Planning", "MsgProbe")["message"] == std::string(200, 'm'));
  check_invalid_request_naming(update("Planning", "MsgProbe", "OK",
                                      {{"message", std::string(201, 'm')}}),
                               "message");
  BOOST_TEST(svc().domain("Planning", "MsgProbe")["status"] == "Warning",
             "a rejected update must not be applied");
}

BOOST_AUTO_TEST_CASE(message_limit_counts_characters_not_bytes) {
  // 200 two-byte characters are 400 bytes but 200 characters.
  std::string msg;
  for (int i = 0; i < 200; ++i)
    msg += "\xC3\xA9"; // é
  auto r = push(update("Planning", "Utf8Probe", "Warning", {{"message", msg}}));
  check_success(r);
  BOOST_TEST(svc().domain("Planning", "Utf8Probe")["message"] == msg);
}

BOOST_AUTO_TEST_CASE(job_id_of_100_characters_is_accepted_and_101_rejected) {
  check_success(push(update("Planning", "JobProbe", "Loading", {{"job_id", std::string(100, 'j')}})));
  check_invalid_request_naming(update("Planning", "JobProbe", "OK",
                                      {{"job_id", std::string(101, 'j')}}),
                               "job_id");
}

BOOST_AUTO_TEST_CASE(job_id_with_control_characters_is_rejected) {
  for (const std::string& id : {std::string("LOAD\n001"), std::string("LOAD\t001"),
                                std::string("LOAD\x01" "001"), std::string("LOAD\x7f" "001"),
                                std::string("LOAD\r\nX-Injected: 1")}) {
    BOOST_TEST_CONTEXT("job_id: " << json(id).dump()) {
      check_invalid_request_naming(update("Planning", "JobProbe", "OK", {{"job_id", id}}), "job_id");
    }
  }
}

// -- timestamps -----------------------------------------------------------------

BOOST_AUTO_TEST_CASE(bad_timestamps_are_rejected_with_invalid_request) {
  for (const char* ts : {"yesterday", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                         "2026-02-16T14:30:00", "2026-02-16", "", "2026-02-16T25:00:00Z",
                         "16/02/2026 14:30"}) {
    BOOST_TEST_CONTEXT("timestamp: '" << ts << "'") {
      check_invalid_request_naming(update("Planning", "TsProbe", "OK", {{"timestamp", ts}}),
                                   "timestamp");
    }
  }
}

BOOST_AUTO_TEST_CASE(rfc3339_timestamps_with_fraction_and_offset_are_accepted) {
  int n = 0;
  for (const char* ts : {"2026-02-16T14:30:00Z", "2026-02-16T14:30:00.123Z",
                         "2026-02-16T16:30:00+02:00", "2026-02-16T09:30:00-05:00"}) {
    BOOST_TEST_CONTEXT("timestamp: " << ts) {
      check_success(push(update("Planning", "TsOk" + std::to_string(n++), "OK", {{"timestamp", ts}})));
    }
  }
  // An offset is converted: 16:30+02:00 is 14:30Z.
  auto stored = svc().domain("Planning", "TsOk2")["updated"];
  BOOST_REQUIRE(stored.is_string());
  BOOST_TEST((parse_rfc3339(stored.get<std::string>()) == parse_rfc3339("2026-02-16T14:30:00Z")),
             stored.dump());
}

// -- domains --------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(domain_defaults_to_default) {
  check_success(push({{"app", "FCCS"}, {"status", "Loading"}, {"job_id", "DEF_1"}}));
  auto d = svc().domain("FCCS", "default");
  BOOST_TEST(d["status"] == "Loading");
  BOOST_TEST(d["job_id"] == "DEF_1");
}

BOOST_AUTO_TEST_CASE(new_domain_matching_the_pattern_is_accepted_in_a_lenient_app) {
  const std::string name = "New Domain_1.x-y";
  check_success(push(update("Planning", name, "OK")));
  BOOST_TEST(svc().domain("Planning", name)["status"] == "OK");
  check_success(push(update("Planning", std::string(64, 'd'), "OK")));
}

BOOST_AUTO_TEST_CASE(domain_names_outside_the_pattern_are_rejected) {
  for (const std::string& name : {std::string(""), std::string(65, 'd'), std::string("a/b"),
                                  std::string("a\nb"), std::string("<script>"),
                                  std::string("caf\xC3\xA9")}) {
    BOOST_TEST_CONTEXT("domain: " << json(name).dump()) {
      auto r = push(update("Planning", name, "OK"));
      BOOST_TEST(r.status == 400, r.describe());
      BOOST_TEST((r.error_code() == "INVALID_DOMAIN" || r.error_code() == "INVALID_REQUEST"),
                 r.describe());
      check_names_field(r, "domain");
    }
  }
}

BOOST_AUTO_TEST_CASE(strict_app_rejects_unknown_domain_with_invalid_domain) {
  check_error(push(update("ARCS", "Other", "OK")), 400, "INVALID_DOMAIN");
  // An omitted domain means "default", which ARCS does not list either.
  check_error(push({{"app", "ARCS"}, {"status", "OK"}}), 400, "INVALID_DOMAIN");
  check_success(push(update("ARCS", "Reconciliation", "OK")));
  auto arcs = svc().reader().get("/api/v1/status/ARCS").json();
  BOOST_TEST(arcs["domains"].size() == 1u, arcs.dump());
}

// -- body size and content type -------------------------------------------------

BOOST_AUTO_TEST_CASE(body_over_64_kib_is_rejected_with_413) {
  json big = update("Planning", "Actual", "OK", {{"message", std::string(70 * 1024, 'x')}});
  auto r = svc().writer().post("/api/v1/status", big);
  check_error(r, 413, "PAYLOAD_TOO_LARGE");
  auto rb = svc().writer().post("/api/v1/status/batch",
                                {{"updates", json::array({big})}});
  check_error(rb, 413, "PAYLOAD_TOO_LARGE");
}

BOOST_AUTO_TEST_CASE(non_json_content_type_is_rejected_with_415) {
  auto body = update("Planning", "CtProbe", "OK").dump();
  check_error(svc().writer().post_raw("/api/v1/status", body, "text/plain"), 415,
              "UNSUPPORTED_MEDIA_TYPE");
  check_error(svc().writer().post_raw("/api/v1/status", body, "application/x-www-form-urlencoded"),
              415, "UNSUPPORTED_MEDIA_TYPE");
  check_error(svc().writer().post_raw("/api/v1/status/batch",
                                      json{{"updates", {update("Planning", "CtProbe", "OK")}}}.dump(),
                                      "text/plain"),
              415, "UNSUPPORTED_MEDIA_TYPE");
  BOOST_TEST(svc().domain("Planning", "CtProbe").is_null());
}

BOOST_AUTO_TEST_CASE(json_content_type_with_charset_is_accepted) {
  auto body = update("Planning", "CharsetProbe", "OK").dump();
  check_success(svc().writer().post_raw("/api/v1/status", body, "application/json; charset=utf-8"));
}

// -- every answer is JSON -------------------------------------------------------

BOOST_AUTO_TEST_CASE(unknown_endpoints_answer_json_errors) {
  auto r = svc().writer().get("/api/v1/nope");
  BOOST_TEST(r.status == 404, r.describe());
  BOOST_TEST(is_json_content_type(r));
  BOOST_TEST(r.is_json(), r.body);
  BOOST_TEST(!leaks_internals(r.body));

  auto m = svc().writer().post("/api/v1/health", json::object());
  BOOST_TEST((m.status == 404 || m.status == 405), m.describe());
  BOOST_TEST(is_json_content_type(m));
  BOOST_TEST(m.is_json(), m.body);
}

BOOST_AUTO_TEST_CASE(rejected_updates_leave_no_trace_in_state) {
  push(update("Planning", "Ghost", "Nope"));
  push(update("Planning", "Ghost", "OK", {{"timestamp", "never"}}));
  push(update("Planning", "Ghost", "OK", {{"extra", 1}}));
  BOOST_TEST(svc().domain("Planning", "Ghost").is_null());
  auto file = svc().settled_state_json();
  BOOST_REQUIRE(file.is_object());
  BOOST_TEST(!file["apps"]["Planning"]["domains"].contains("Ghost"));
}

BOOST_AUTO_TEST_SUITE_END() // validation_tests
