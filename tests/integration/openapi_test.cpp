#include <boost/test/unit_test.hpp>

// GET /api/v1/openapi.json: the document against the route table the server
// serves, and real responses of a running server against its schemas.

#include <set>
#include <tuple>

#include "actors/common/errors.hpp"
#include "http/routes.hpp"
#include "tests/support/api_checks.hpp"
#include "tests/support/json_schema.hpp"
#include "tests/support/service_fixture.hpp"

BOOST_AUTO_TEST_SUITE(openapi_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

const std::set<std::string> http_methods = {"get", "put", "post", "delete", "options",
                                            "head", "patch", "trace"};

std::string lower(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// (method, path template) of every route the server registers.
std::set<std::pair<std::string, std::string>> served_routes() {
  std::set<std::pair<std::string, std::string>> out;
  for (const auto& r : epmpulse::http::make_routes())
    out.emplace(lower(r.method.c_str()), epmpulse::http::route_template(r));
  return out;
}

const epmpulse::http::route& served_route(const std::string& method, const std::string& path) {
  static const auto routes = epmpulse::http::make_routes();
  for (const auto& r : routes)
    if (lower(r.method.c_str()) == method && epmpulse::http::route_template(r) == path)
      return r;
  throw std::runtime_error("no route " + method + " " + path);
}

const std::string expired_key = "openapi-expired-key-5e1f09c2d4";

// The default test service plus a read key past its expiry (for KEY_EXPIRED).
service_options with_an_expired_key() {
  service_options o;
  o.config["api_keys"].push_back(
    {{"name", "expired"}, {"key", expired_key}, {"role", "read"}, {"expires", "2001-01-01T00:00:00Z"}});
  return o;
}

struct running_service {
  service svc{with_an_expired_key()};
  json document;
  std::unique_ptr<json_schema_validator> openapi;

  running_service() {
    auto r = svc.anonymous().get("/api/v1/openapi.json");
    BOOST_TEST_REQUIRE(r.status == 200, r.describe());
    document = r.json();
    BOOST_TEST_REQUIRE(document.is_object());
    openapi = std::make_unique<json_schema_validator>(document);
  }

  // Checks that `r` is documented for (method, path) and that its body fits
  // the documented schema.
  void conforms(const http_result& r, const std::string& method, const std::string& path) {
    BOOST_TEST_CONTEXT(method << " " << path << " -> " << r.describe()) {
      auto body = r.json();
      BOOST_TEST_REQUIRE(!body.is_discarded());
      auto problems =
        openapi->validate(body, response_schema(*openapi, path, method, static_cast<int>(r.status)));
      BOOST_TEST(problems.empty(), "schema violations: " << json(problems).dump());
    }
  }

  // An error from no route at all: only the shared envelope applies.
  void is_error_envelope(const http_result& r) {
    BOOST_TEST_CONTEXT(r.describe()) {
      auto problems = openapi->validate(r.json(), document["components"]["schemas"]["Error"]);
      BOOST_TEST(problems.empty(), "schema violations: " << json(problems).dump());
    }
  }
};

} // namespace

BOOST_FIXTURE_TEST_SUITE(openapi, running_service)

BOOST_AUTO_TEST_CASE(served_without_a_key_as_json_with_an_etag) {
  auto r = svc.anonymous().get("/api/v1/openapi.json");
  BOOST_TEST(r.status == 200);
  BOOST_TEST(is_json_content_type(r), r.header("content-type"));
  BOOST_TEST(r.header("cache-control") == "no-cache");
  auto etag = r.header("etag");
  BOOST_TEST_REQUIRE(!etag.empty());
  BOOST_TEST(document["openapi"] == "3.1.0");
  BOOST_TEST(document["info"]["version"] == EPMPULSE_VERSION);

  auto again = svc.anonymous().get("/api/v1/openapi.json", {{"If-None-Match", etag}});
  BOOST_TEST(again.status == 304, again.describe());
  BOOST_TEST(again.body.empty());
  BOOST_TEST(again.header("etag") == etag);
}

BOOST_AUTO_TEST_CASE(documents_every_served_route_and_nothing_else) {
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, item] : document["paths"].items())
    for (const auto& [method, operation] : item.items())
      if (http_methods.count(method))
        documented.emplace(method, path);
  auto served = served_routes();
  for (const auto& [method, path] : served)
    BOOST_TEST(documented.count({method, path}) == 1u, "not documented: " << method << " " << path);
  for (const auto& [method, path] : documented)
    BOOST_TEST(served.count({method, path}) == 1u, "not served: " << method << " " << path);
  BOOST_TEST(served.size() >= 10u);
}

BOOST_AUTO_TEST_CASE(security_and_error_answers_match_the_route_table) {
  for (const auto& [path, item] : document["paths"].items()) {
    for (const auto& [method, operation] : item.items()) {
      BOOST_TEST_CONTEXT(method << " " << path) {
        const auto& route = served_route(method, path);
        const auto& responses = operation["responses"];
        BOOST_TEST_REQUIRE(operation.contains("security"));
        if (route.role) {
          json expected = json::array({{{"apiKey", {epmpulse::config::to_string(*route.role)}}}});
          BOOST_TEST(operation["security"] == expected, operation["security"].dump());
          BOOST_TEST(responses.contains("401"));
          BOOST_TEST(responses.contains("403"));
        } else {
          BOOST_TEST(operation["security"] == json::array());
        }
        if (route.limit != epmpulse::http::budget::none)
          BOOST_TEST(responses.contains("429"));
        if (route.json_body) {
          BOOST_TEST(operation.contains("requestBody"));
          for (const char* status : {"400", "413", "415"})
            BOOST_TEST(responses.contains(status), status);
        }
        for (const char* status : {"500", "503"})
          BOOST_TEST(responses.contains(status), status);
      }
    }
  }
  const auto& scheme = document["components"]["securitySchemes"]["apiKey"];
  BOOST_TEST(scheme["type"] == "http");
  BOOST_TEST(scheme["scheme"] == "bearer");
}

BOOST_AUTO_TEST_CASE(error_codes_are_those_of_the_service) {
  std::set<std::string> documented;
  for (const auto& code : document["components"]["schemas"]["Error"]["properties"]["error"]
                                  ["properties"]["code"]["enum"])
    documented.insert(code.get<std::string>());
  std::set<std::string> answered;
  for (auto e = static_cast<int>(epmpulse::ec::missing_auth);
       e <= static_cast<int>(epmpulse::ec::database_unavailable); ++e) {
    auto code = static_cast<epmpulse::ec>(e);
    // Pull mode's EPM failures stay inside the service: no endpoint answers them.
    if (code == epmpulse::ec::epm_error || code == epmpulse::ec::epm_auth_error)
      continue;
    answered.insert(epmpulse::api_code(code));
  }
  BOOST_TEST(documented == answered, json(documented).dump() << " vs " << json(answered).dump());
}

BOOST_AUTO_TEST_CASE(the_validator_rejects_what_the_schemas_forbid) {
  const auto& schema = document["components"]["schemas"]["StatusResponse"];
  json good = {{"success", true},
               {"canvas_updated", false},
               {"updated",
                {{"app", "Planning"}, {"domain", "Actual"}, {"status", "OK"}, {"job_id", nullptr},
                 {"message", nullptr}, {"updated_at", "2026-02-16T14:30:00Z"},
                 {"duration_sec", nullptr}, {"applied", true}}}};
  BOOST_TEST(openapi->validate(good, schema).empty());
  auto extra = good;
  extra["surprise"] = 1;
  auto missing = good;
  missing["updated"].erase("applied");
  auto wrong_type = good;
  wrong_type["updated"]["duration_sec"] = "long";
  auto bad_enum = good;
  bad_enum["updated"]["status"] = "Done";
  for (const auto& bad : {extra, missing, wrong_type, bad_enum})
    BOOST_TEST(!openapi->validate(bad, schema).empty(), bad.dump());
}

BOOST_AUTO_TEST_CASE(successful_answers_fit_their_schemas) {
  conforms(svc.writer().post("/api/v1/status",
                             update("Planning", "Actual", "Loading", {{"job_id", "J1"}})),
           "post", "/api/v1/status");
  conforms(svc.writer().post("/api/v1/status",
                             update("Planning", "Actual", "OK", {{"job_id", "J1"}})),
           "post", "/api/v1/status");
  conforms(svc.writer().post("/api/v1/status/batch",
                             {{"job_id", "B1"},
                              {"updates", {update("FCCS", "Consolidation", "Warning"),
                                           update("Planning", "Budget", "OK")}}}),
           "post", "/api/v1/status/batch");
  conforms(svc.reader().get("/api/v1/status"), "get", "/api/v1/status");
  conforms(svc.reader().get("/api/v1/status/Planning"), "get", "/api/v1/status/{app}");
  conforms(svc.anonymous().get("/api/v1/health"), "get", "/api/v1/health");
  conforms(svc.reader().get("/api/v1/history?limit=1"), "get", "/api/v1/history");
  conforms(svc.reader().get("/api/v1/stats"), "get", "/api/v1/stats");
  conforms(svc.reader().get("/api/v1/canvas/preview"), "get", "/api/v1/canvas/preview");
  conforms(svc.admin().post("/api/v1/admin/reload", json::object()), "post",
           "/api/v1/admin/reload");
  auto metrics = svc.reader().get("/metrics");
  BOOST_TEST(metrics.status == 200);
  BOOST_TEST(metrics.header("content-type").rfind("text/plain", 0) == 0u);
  BOOST_TEST(document["paths"]["/metrics"]["get"]["responses"]["200"]["content"].contains(
    "text/plain"));
}

BOOST_AUTO_TEST_CASE(error_answers_fit_their_schemas) {
  auto push = [&](const api_client& c, const json& body) {
    return c.post("/api/v1/status", body);
  };
  conforms(push(svc.anonymous(), update("Planning", "Actual", "OK")), "post", "/api/v1/status");
  conforms(push(svc.client("not-a-key-0123456789"), update("Planning", "Actual", "OK")), "post",
           "/api/v1/status");
  auto expired = svc.client(expired_key).get("/api/v1/status");
  check_error(expired, 401, "KEY_EXPIRED");
  conforms(expired, "get", "/api/v1/status");
  conforms(push(svc.reader(), update("Planning", "Actual", "OK")), "post", "/api/v1/status");
  conforms(push(svc.writer(), update("Nope", "Actual", "OK")), "post", "/api/v1/status");
  conforms(push(svc.writer(), update("Planning", "Actual", "Done")), "post", "/api/v1/status");
  conforms(push(svc.writer(), {{"app", "Planning"}, {"status", "OK"}, {"extra", 1}}), "post",
           "/api/v1/status");
  conforms(svc.writer().post_raw("/api/v1/status", "{}", "text/plain"), "post", "/api/v1/status");
  conforms(svc.writer().post_raw("/api/v1/status", std::string(70 * 1024, ' ')), "post",
           "/api/v1/status");
  conforms(svc.writer().post("/api/v1/status/batch",
                             {{"updates", {update("Planning", "Actual", "OK"),
                                           update("Planning", "Actual", "Nope")}}}),
           "post", "/api/v1/status/batch");
  conforms(svc.reader().get("/api/v1/status/Nope"), "get", "/api/v1/status/{app}");
  conforms(svc.writer().post("/api/v1/canvas/sync", json::object()), "post",
           "/api/v1/canvas/sync");
  conforms(svc.admin().post("/api/v1/canvas/sync", json::object()), "post",
           "/api/v1/canvas/sync");
  auto unknown = svc.reader().get("/api/v1/nothing-here");
  check_error(unknown, 404, "NOT_FOUND");
  is_error_envelope(unknown);
  auto wrong_method = svc.reader().post("/api/v1/health", json::object());
  check_error(wrong_method, 405, "METHOD_NOT_ALLOWED");
  is_error_envelope(wrong_method);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()
