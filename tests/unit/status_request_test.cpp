#include <boost/test/unit_test.hpp>

#include "http/status_request.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(status_request_tests)

using namespace epmpulse;
using namespace epmpulse::http;

namespace {

config::service_config test_config() {
  config::service_config cfg;
  config::app_config planning;
  planning.name = "Planning";
  planning.domains = {"Actual", "Budget"};
  cfg.apps.push_back(planning);
  config::app_config arcs;
  arcs.name = "ARCS";
  arcs.domains = {"Reconciliation"};
  arcs.strict_domains = true;
  cfg.apps.push_back(arcs);
  return cfg;
}

const api_error& error_of(const decoded_updates& d) {
  BOOST_REQUIRE(std::holds_alternative<api_error>(d));
  return std::get<api_error>(d);
}

const std::vector<status_update>& updates_of(const decoded_updates& d) {
  if (auto* e = std::get_if<api_error>(&d))
    BOOST_FAIL("unexpected error: " << e->message);
  return std::get<std::vector<status_update>>(d);
}

} // namespace

BOOST_AUTO_TEST_CASE(minimal_update_defaults_domain) {
  auto d = decode_status_body(R"({"app":"Planning","status":"OK"})", test_config());
  BOOST_TEST(updates_of(d)[0].domain == "default");
}

BOOST_AUTO_TEST_CASE(each_problem_has_its_own_code) {
  auto cfg = test_config();
  BOOST_TEST((error_of(decode_status_body("{not json", cfg)).code == ec::invalid_request));
  BOOST_TEST((error_of(decode_status_body(R"({"app":"HR","status":"OK"})", cfg)).code == ec::invalid_app));
  BOOST_TEST((error_of(decode_status_body(R"({"app":"Planning","status":"Done"})", cfg)).code
              == ec::invalid_status));
  BOOST_TEST((error_of(decode_status_body(R"({"app":"ARCS","domain":"X","status":"OK"})", cfg)).code
              == ec::invalid_domain));
  BOOST_TEST((error_of(decode_status_body(R"({"app":"Planning","domain":"a/b","status":"OK"})", cfg)).code
              == ec::invalid_domain));
}

BOOST_AUTO_TEST_CASE(invalid_request_names_the_field) {
  auto cfg = test_config();
  auto field = [&](const std::string& body) {
    return error_of(decode_status_body(body, cfg)).details.value("field", std::string{});
  };
  BOOST_TEST(field(R"({"app":"Planning","status":"OK","extra":1})") == "extra");
  BOOST_TEST(field(R"({"app":"Planning","status":"OK","job_id":5})") == "job_id");
  BOOST_TEST(field(R"({"app":"Planning","status":"OK","message":")" + std::string(201, 'x') + "\"}")
             == "message");
  BOOST_TEST(field(R"({"app":"Planning","status":"OK","job_id":")" + std::string(101, 'x') + "\"}")
             == "job_id");
  BOOST_TEST(field(R"({"app":"Planning","status":"OK","job_id":"a\u0001b"})") == "job_id");
  BOOST_TEST(field(R"({"app":"Planning","status":"OK","timestamp":"noon"})") == "timestamp");
  BOOST_TEST(field(R"({"status":"OK"})") == "app");
}

BOOST_AUTO_TEST_CASE(message_length_counts_characters_not_bytes) {
  std::string two_hundred_euros;
  for (int i = 0; i < 200; ++i)
    two_hundred_euros += "\u20ac";
  auto d = decode_status_body(R"({"app":"Planning","status":"OK","message":")" + two_hundred_euros + "\"}",
                              test_config());
  BOOST_TEST(updates_of(d)[0].message->size() == 600u);
}

BOOST_AUTO_TEST_CASE(batch_items_inherit_job_and_timestamp) {
  auto d = decode_batch_body(
    R"({"job_id":"FULL","timestamp":"2026-02-16T14:35:00Z","updates":[
        {"app":"Planning","domain":"Actual","status":"OK"},
        {"app":"ARCS","domain":"Reconciliation","status":"OK","job_id":"OWN"}]})",
    test_config());
  const auto& u = updates_of(d);
  BOOST_REQUIRE(u.size() == 2u);
  BOOST_TEST(*u[0].job_id == "FULL");
  BOOST_TEST(*u[1].job_id == "OWN");
  BOOST_TEST(format_time(*u[1].event_time) == "2026-02-16T14:35:00Z");
}

BOOST_AUTO_TEST_CASE(one_bad_batch_item_rejects_the_batch_naming_its_index) {
  auto d = decode_batch_body(R"({"updates":[{"app":"Planning","status":"OK"},
                                             {"app":"Planning","status":"OK"},
                                             {"app":"Planning","status":"Nope"}]})",
                             test_config());
  const auto& e = error_of(d);
  BOOST_TEST((e.code == ec::invalid_status));
  BOOST_TEST(e.details.value("index", -1) == 2);
}

BOOST_AUTO_TEST_CASE(batch_limits_are_enforced) {
  std::string items;
  for (int i = 0; i < 101; ++i)
    items += std::string(i ? "," : "") + R"({"app":"Planning","status":"OK"})";
  BOOST_TEST((error_of(decode_batch_body(R"({"updates":[)" + items + "]}", test_config())).code
              == ec::invalid_request));
  BOOST_TEST((error_of(decode_batch_body(R"({"updates":[]})", test_config())).code
              == ec::invalid_request));
  BOOST_TEST((error_of(decode_batch_body(R"({"updates":[],"x":1})", test_config())).details["field"]
              == "x"));
}

// The body is read in one SAX pass, without a JSON document: it must still
// follow a document's rules for repeated keys, nesting and shapes.
BOOST_AUTO_TEST_CASE(a_repeated_key_keeps_its_last_value_as_in_a_json_document) {
  auto cfg = test_config();
  auto u = updates_of(decode_status_body(
    R"({"app":"Planning","status":"Warning","job_id":"FIRST","status":"OK","job_id":"LAST"})", cfg));
  BOOST_TEST((u[0].status == job_status::ok));
  BOOST_TEST(*u[0].job_id == "LAST");
  auto batch = updates_of(decode_batch_body(
    R"({"updates":[{"app":"Planning","status":"OK"}],
        "updates":[{"app":"Planning","domain":"Budget","status":"OK"},{"app":"Planning","status":"OK"}]})",
    cfg));
  BOOST_REQUIRE(batch.size() == 2u);
  BOOST_TEST(batch[0].domain == "Budget");
  BOOST_TEST((error_of(decode_batch_body(R"({"updates":[{"app":"Planning","status":"OK"}],"updates":null})",
                                         cfg)).details["field"] == "updates"));
}

BOOST_AUTO_TEST_CASE(values_of_the_wrong_shape_are_named_however_deep_they_go) {
  auto cfg = test_config();
  auto field = [&](const std::string& body) {
    return error_of(decode_status_body(body, cfg)).details.value("field", std::string{});
  };
  BOOST_TEST(field(R"({"app":{"name":"Planning"},"status":"OK"})") == "app");
  BOOST_TEST(field(R"({"app":"Planning","status":["OK"]})") == "status");
  BOOST_TEST(field(R"({"app":"Planning","status":"OK","message":{"a":[1,{"b":"c"}]}})") == "message");
  BOOST_TEST(field(R"({"app":"Planning","status":"OK","domain":true})") == "domain");
  // Unknown keys are reported by name order, as a JSON object lists them,
  // whatever they hold; the fields after a nested value are still read.
  BOOST_TEST(field(R"({"zeta":{"app":"x"},"app":"Planning","status":"OK","beta":[{"status":1}]})")
             == "beta");
  auto u = updates_of(decode_status_body(
    R"({"app":"Planning","domain":null,"status":"OK","message":"after","job_id":"J"})", cfg));
  BOOST_TEST(u[0].domain == "default");
  BOOST_TEST(*u[0].message == "after");
}

BOOST_AUTO_TEST_CASE(bodies_and_items_that_are_not_objects_are_refused) {
  auto cfg = test_config();
  for (const char* body : {"[]", R"("text")", "42", "null", R"([{"app":"Planning","status":"OK"}])"})
    BOOST_TEST(error_of(decode_status_body(body, cfg)).message == "The body must be a JSON object.",
               body);
  for (const char* body : {"", "{", R"({"app":"Planning","status":"OK"} x)", R"({"app":"Plan\xning"})"})
    BOOST_TEST(error_of(decode_status_body(body, cfg)).message == "The body is not valid JSON.", body);
  auto decoded = decode_batch_body(
    R"({"updates":[{"app":"Planning","status":"OK"},[{"app":"Planning"}],"x"]})", cfg);
  const auto& e = error_of(decoded);
  BOOST_TEST(e.details.value("index", -1) == 1);
  BOOST_TEST(e.message == "updates[1]: An update must be a JSON object.");
  BOOST_TEST(error_of(decode_batch_body(R"({"updates":{"app":"Planning","status":"OK"}})", cfg))
               .details["field"] == "updates");
}

BOOST_AUTO_TEST_SUITE_END() // status_request_tests
