#include <boost/test/unit_test.hpp>

// Authentication and roles against the real server: keys from the config, from
// the environment shortcuts, and auth checked before anything about the body.

#include <memory>

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
namespace auth_shared {

// One server for this file's cases, which do not care about each other's
// state: started before the first case and stopped after the last (a suite
// fixture, not a global one: this executable also runs other files' suites).
struct shared_service {
  shared_service() { instance = std::make_unique<epmpulse::test::service>(); }
  ~shared_service() { instance.reset(); }
  static inline std::unique_ptr<epmpulse::test::service> instance;
};

} // namespace auth_shared

BOOST_AUTO_TEST_SUITE(auth_tests, *boost::unit_test::fixture<auth_shared::shared_service>())

using namespace epmpulse::test;

namespace {

service& svc() {
  return *auth_shared::shared_service::instance;
}

const nlohmann::json good_update = update("Planning", "AuthProbe", "Loading", {{"job_id", "AUTH_1"}});

} // namespace

BOOST_AUTO_TEST_SUITE(keys_from_the_config)

BOOST_AUTO_TEST_CASE(health_needs_no_key) {
  auto r = svc().anonymous().get("/api/v1/health");
  BOOST_TEST(r.status == 200, r.describe());
  BOOST_TEST(is_json_content_type(r));
  BOOST_TEST(r.json()["status"] == "healthy");
}

BOOST_AUTO_TEST_CASE(missing_authorization_is_rejected_with_missing_auth) {
  check_error(svc().anonymous().post("/api/v1/status", good_update), 401, "MISSING_AUTH");
  check_error(svc().anonymous().post("/api/v1/status/batch", {{"updates", {good_update}}}), 401,
              "MISSING_AUTH");
  check_error(svc().anonymous().get("/api/v1/status"), 401, "MISSING_AUTH");
  check_error(svc().anonymous().get("/api/v1/status/Planning"), 401, "MISSING_AUTH");
}

BOOST_AUTO_TEST_CASE(malformed_authorization_is_rejected_with_missing_auth) {
  const std::string valid = write_key;
  for (std::string value : {std::string("Basic dGVzdDp0ZXN0"), std::string("Bearer"),
                            std::string("Bearer "), std::string("Token ") + valid, valid,
                            std::string("Bearer: ") + valid}) {
    BOOST_TEST_CONTEXT("Authorization: '" << value << "'") {
      auto r = svc().anonymous().post("/api/v1/status", good_update, {{"Authorization", value}});
      // "Bearer: <key>" is a malformed scheme, not a key that starts with ':'.
      if (value.rfind("Bearer: ", 0) == 0)
        BOOST_TEST((r.error_code() == "MISSING_AUTH" || r.error_code() == "INVALID_KEY"),
                   r.describe());
      else
        check_error(r, 401, "MISSING_AUTH");
    }
  }
  // An Authorization header present but empty.
  check_error(svc().anonymous().get("/api/v1/status", {{"Authorization", ""}}), 401,
              "MISSING_AUTH");
}

BOOST_AUTO_TEST_CASE(unknown_key_is_rejected_with_invalid_key) {
  const std::string valid = write_key;
  for (const std::string& key : {std::string("wrong-key-0123456789abcdef"),
                                 valid.substr(0, valid.size() - 1), valid + "x",
                                 std::string("TEST-WRITE-KEY-0123456789")}) {
    BOOST_TEST_CONTEXT("key: '" << key << "'") {
      check_error(svc().client(key).post("/api/v1/status", good_update), 403, "INVALID_KEY");
      check_error(svc().client(key).get("/api/v1/status"), 403, "INVALID_KEY");
    }
  }
}

BOOST_AUTO_TEST_CASE(auth_is_checked_before_the_body_is_parsed) {
  const std::string broken = R"({"app": "Planning", "status": )";
  check_error(svc().anonymous().post_raw("/api/v1/status", broken), 401, "MISSING_AUTH");
  check_error(svc().client("wrong-key-0123456789abcdef").post_raw("/api/v1/status", broken), 403,
              "INVALID_KEY");
  check_error(svc().anonymous().post_raw("/api/v1/status/batch", broken), 401, "MISSING_AUTH");
  // A well-formed body that would fail validation still gets the auth answer.
  check_error(svc().anonymous().post("/api/v1/status", update("NoSuchApp", "x", "Nope")), 401,
              "MISSING_AUTH");
}

BOOST_AUTO_TEST_CASE(auth_is_checked_before_the_content_type) {
  check_error(svc().anonymous().post_raw("/api/v1/status", good_update.dump(), "text/plain"), 401,
              "MISSING_AUTH");
}

BOOST_AUTO_TEST_CASE(read_key_can_get_but_not_push) {
  BOOST_TEST(svc().reader().get("/api/v1/status").status == 200);
  BOOST_TEST(svc().reader().get("/api/v1/status/Planning").status == 200);
  auto probe = update("Planning", "ReadOnlyProbe", "OK", {{"job_id", "RO_1"}});
  check_error(svc().reader().post("/api/v1/status", probe), 403, "FORBIDDEN");
  check_error(svc().reader().post("/api/v1/status/batch", {{"updates", {probe}}}), 403, "FORBIDDEN");
  BOOST_TEST(svc().domain("Planning", "ReadOnlyProbe").is_null(),
             "a refused push must not change state");
}

BOOST_AUTO_TEST_CASE(write_and_admin_keys_can_get_and_push) {
  for (const auto& client : {svc().writer(), svc().admin()}) {
    BOOST_TEST_CONTEXT("key: " << client.key()) {
      BOOST_TEST(client.get("/api/v1/status").status == 200);
      check_success(client.post("/api/v1/status", good_update));
    }
  }
}

BOOST_AUTO_TEST_CASE(error_bodies_have_the_documented_shape) {
  auto r = svc().anonymous().get("/api/v1/status");
  check_error(r, 401, "MISSING_AUTH");
  auto j = r.json();
  BOOST_TEST(j["error"]["message"].get<std::string>().size() > 5);
}

BOOST_AUTO_TEST_CASE(keys_never_appear_in_the_log) {
  // Every request above used keys; none may be written out.
  svc().writer().post("/api/v1/status", good_update);
  svc().client("wrong-key-0123456789abcdef").get("/api/v1/status");
  auto log = svc().server().log_text();
  BOOST_TEST(!log.empty());
  BOOST_TEST(log.find(write_key) == std::string::npos);
  BOOST_TEST(log.find(read_key) == std::string::npos);
  BOOST_TEST(log.find(admin_key) == std::string::npos);
  BOOST_TEST(log.find("wrong-key-0123456789abcdef") == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// -- keys from the environment (own servers) ----------------------------------

BOOST_AUTO_TEST_SUITE(keys_from_the_environment)

BOOST_AUTO_TEST_CASE(shortcut_variables_add_a_write_and_an_admin_key) {
  service_options o;
  o.config["api_keys"] = nlohmann::json::array(); // only the shortcuts
  o.env["EPMPULSE_API_KEY"] = "env-write-key-0123456789";
  o.env["EPMPULSE_ADMIN_KEY"] = "env-admin-key-0123456789";
  service s(o);
  check_success(s.client("env-write-key-0123456789").post("/api/v1/status", good_update));
  check_success(s.client("env-admin-key-0123456789").post("/api/v1/status", good_update));
  check_error(s.client(write_key).get("/api/v1/status"), 403, "INVALID_KEY");
  BOOST_TEST(!std::filesystem::exists(s.data_dir() / "api_keys.json"),
             "keys were configured: nothing should be generated");
}

BOOST_AUTO_TEST_CASE(config_keys_are_substituted_from_the_environment) {
  service_options o;
  o.config["api_keys"] = nlohmann::json::array({
    {{"name", "epm_groovy"}, {"key", "${TEST_GROOVY_KEY}"}, {"role", "write"}},
    {{"name", "with_default"}, {"key", "${TEST_UNSET_KEY_VAR:-default-key-0123456789}"},
     {"role", "read"}},
  });
  o.env["TEST_GROOVY_KEY"] = "groovy-key-from-env-0123456789";
  service s(o);
  check_success(s.client("groovy-key-from-env-0123456789").post("/api/v1/status", good_update));
  BOOST_TEST(s.client("default-key-0123456789").get("/api/v1/status").status == 200);
  check_error(s.client("default-key-0123456789").post("/api/v1/status", good_update), 403,
              "FORBIDDEN");
  // The literal placeholder is not a key.
  check_error(s.client("${TEST_GROOVY_KEY}").get("/api/v1/status"), 403, "INVALID_KEY");
}

BOOST_AUTO_TEST_CASE(a_key_whose_variable_is_unset_is_skipped_with_a_warning) {
  service_options o;
  o.config["api_keys"].push_back(
    {{"name", "odi_python"}, {"key", "${TEST_ODI_KEY_NOT_SET}"}, {"role", "write"}});
  service s(o);
  BOOST_TEST(s.writer().get("/api/v1/status").status == 200);
  bool warned = false;
  for (const auto& line : s.server().log_lines())
    if (line.value("level", "") == "warn" && line.dump().find("odi_python") != std::string::npos)
      warned = true;
  BOOST_TEST(warned, "expected a warn line naming the skipped key entry; log:\n"
                       << s.server().log_text());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // auth_tests
