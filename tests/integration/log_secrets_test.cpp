#include <boost/test/unit_test.hpp>

// No secret in any server log of the test run. ctest runs this file last
// (the cleanup of the fixture every integration test requires, see
// CMakeLists.txt). It first takes a server at debug level through the paths
// that handle secrets: auth failures, an expired key, reloads by endpoint
// and SIGHUP, a canvas sync with the fake Slack, and pull-mode polls with
// OAuth client credentials and with Basic credentials against the fake EPM.
// Then it scans every log the run wrote into test-logs/ for every secret any
// test of the run registered (tests/support/log_secrets.hpp), after proving that the scan
// finds logs, knows this run's secrets and would catch a planted one.

#include <csignal>
#include <fstream>
#include <sstream>

#include "actors/pull/token_cache.hpp"
#include "tests/fakes/fake_epm.hpp"
#include "tests/fakes/fake_slack.hpp"
#include "tests/support/api_checks.hpp"
#include "tests/support/log_secrets.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(log_secrets_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// Recognisable, and long enough that either half is searched for too.
constexpr const char* tour_bot_token = "xoxb-tour-bot-token-3f9a1c77e2b4d5";
constexpr const char* tour_client_secret = "tour-oauth-client-secret-81d2c4e6";
constexpr const char* tour_access_token = "tour-access-token-6c0b9e2f4a7d13";
constexpr const char* tour_refresh_token = "tour-refresh-token-a4e8d1f3b6c925";
constexpr const char* tour_password = "tour-basic-password-9e7d5c3b1a";
constexpr const char* tour_expired_key = "tour-expired-key-0d4f6b8a2c1e";
constexpr const char* tour_added_key = "tour-added-key-7a5c3e1f9b2d";

const char* const tour_secrets[] = {tour_bot_token,     tour_client_secret, tour_access_token,
                                    tour_refresh_token, tour_password,      tour_expired_key,
                                    tour_added_key,     write_key,          admin_key};

json tour_config(const fake_epm& pod, const json& auth) {
  auto cfg = default_test_config();
  cfg["settings"]["log_level"] = "debug";
  cfg["api_keys"].push_back({{"name", "tour_expired"},
                             {"key", tour_expired_key},
                             {"expires", "2001-01-01T00:00:00Z"}});
  cfg["apps"]["Planning"]["channels"] = json::array({"C100"});
  cfg["apps"]["Planning"]["server"] = "planning_pod";
  cfg["channels"] = {{"C100", {{"name", "epm-main"}, {"canvas_id", "F100"}}}};
  cfg["settings"]["slack"] = {{"min_update_interval_sec", 0.2}, {"request_timeout_sec", 2}};
  cfg["epm"] = {{"auth", auth},
                {"servers",
                 {{"planning_pod",
                   {{"name", "Planning pod"}, {"base_url", pod.base_url()}, {"kind", "planning"},
                    {"application", "Vision"}}}}}};
  cfg["settings"]["pull_mode"] = {{"enabled", true}, {"poll_interval_seconds", 1}};
  return cfg;
}

bool settled_ok(const service& svc, const std::string& domain) {
  auto d = svc.domain("Planning", domain);
  return d.is_object() && d.value("status", "") == "OK";
}

void poll_one_job(service& svc, fake_epm& pod, const std::string& job) {
  pod.script(job, {epm_reply::in_progress(), epm_reply::success("Loaded 10 rows")});
  auto r =
    svc.writer().post("/api/v1/status", update("Planning", job, "Loading", {{"job_id", job}}));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  BOOST_REQUIRE(eventually([&] { return settled_ok(svc, job); }, 20s));
}

bool has_debug_line(const server_process& server) {
  for (const auto& line : server.log_lines())
    if (line.value("level", "") == "debug")
      return true;
  return false;
}

std::map<std::string, std::string> logs_of_this_run(const std::filesystem::path& dir) {
  std::map<std::string, std::string> logs;
  for (const auto& path : files_of_this_run(dir)) {
    if (path.extension() != ".log")
      continue;
    std::ifstream in{path, std::ios::binary};
    std::ostringstream text;
    text << in.rdbuf();
    logs[path.filename().string()] = text.str();
  }
  return logs;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_debug_level_tour_of_every_path_that_handles_a_secret) {
  fake_slack slack{tour_bot_token};
  fake_token_endpoint tokens;
  fake_epm pod;
  tokens.script({token_reply{200, tour_access_token, 3600, std::string{tour_refresh_token}}});
  pod.accept_authorizations({std::string{"Bearer "} + tour_access_token});
  service_options o;
  o.config = tour_config(pod, {{"type", "oauth_client_credentials"},
                               {"token_url", tokens.url()},
                               {"client_id", "epmpulse-tour-client"},
                               {"client_secret", tour_client_secret}});
  o.env = {{"SLACK_BOT_TOKEN", tour_bot_token}, {"SLACK_API_URL", slack.api_url()}};
  service svc{o};

  // Auth failures of every kind.
  check_error(svc.anonymous().get("/api/v1/status"), 401, "MISSING_AUTH");
  check_error(svc.client("not-a-key-of-this-service-42").get("/api/v1/status"), 403,
              "INVALID_KEY");
  check_error(svc.client(tour_expired_key).get("/api/v1/status"), 401, "KEY_EXPIRED");

  // A pull-mode poll with the token the fake endpoint handed out.
  poll_one_job(svc, pod, "TOUR_OAUTH");
  BOOST_TEST(tokens.issued() >= 1u);

  // A canvas sync through the fake Slack.
  BOOST_REQUIRE(eventually([&] { return !slack.applied_edits_of("F100").empty(); }, 10s));
  auto sync = svc.admin().post("/api/v1/canvas/sync", json::object());
  BOOST_TEST(sync.status == 200, sync.describe());

  // Reloads: by endpoint (a key added), refused (a key too short), by SIGHUP.
  auto next = o.config;
  next["api_keys"].push_back({{"name", "tour_added"}, {"key", tour_added_key}});
  write_config(svc.config_path().parent_path(), next, svc.config_path().filename().string());
  BOOST_TEST(svc.admin().post("/api/v1/admin/reload", json::object()).status == 200);
  BOOST_TEST(svc.client(tour_added_key).get("/api/v1/status").status == 200);
  auto broken = next;
  broken["api_keys"].push_back({{"name", "tour_short"}, {"key", "tour-short"}});
  write_config(svc.config_path().parent_path(), broken, svc.config_path().filename().string());
  check_error(svc.admin().post("/api/v1/admin/reload", json::object()), 422, "INVALID_CONFIG");
  write_config(svc.config_path().parent_path(), next, svc.config_path().filename().string());
  svc.server().signal(SIGHUP);
  BOOST_TEST(eventually([&] {
    std::size_t reloaded = 0;
    for (const auto& line : svc.server().log_lines())
      reloaded += line.value("message", "") == "configuration reloaded: API keys and rate limits";
    return reloaded == 2;
  }, 10s));
  BOOST_TEST(has_debug_line(svc.server()), "the server ran at debug level");

  // Basic credentials: a second server, one poll.
  fake_epm basic_pod;
  basic_pod.accept_authorizations(
    {"Basic " + epmpulse::base64_encode(std::string{"tour-user:"} + tour_password)});
  service_options b;
  b.config = tour_config(basic_pod,
                         {{"type", "basic"}, {"username", "tour-user"}, {"password", tour_password}});
  b.config["apps"]["Planning"]["channels"] = json::array();
  b.config["channels"] = json::object();
  service basic{b};
  poll_one_job(basic, basic_pod, "TOUR_BASIC");
  BOOST_TEST(has_debug_line(basic.server()));
}

BOOST_AUTO_TEST_CASE(no_server_log_of_the_run_holds_a_secret) {
  auto dir = test_log_dir();
  BOOST_REQUIRE_MESSAGE(!dir.empty(), "built without EPMPULSE_TEST_LOG_DIR: nothing to scan");
  remove_earlier_runs(dir);
  auto logs = logs_of_this_run(dir);
  auto secrets = registered_secrets(dir);
  BOOST_TEST_MESSAGE("scanning " << logs.size() << " logs for " << secrets.size() << " secrets in "
                                 << dir.string());

  // Not vacuous: the logs are there, the tour's among them, and so are the
  // secrets this run handed out.
  BOOST_REQUIRE(!logs.empty());
  bool tour_logged = false;
  for (const auto& [name, text] : logs)
    tour_logged = tour_logged
                  || (name.starts_with("a_debug_level_tour")
                      && text.find("\"level\":\"debug\"") != std::string::npos);
  BOOST_TEST(tour_logged, "the debug-level tour's server logs are among the scanned");
  for (const char* s : tour_secrets)
    BOOST_TEST((std::find(secrets.begin(), secrets.end(), s) != secrets.end()),
               "registered: " << std::string{s}.substr(0, 10) << "…");
  auto basic_credentials = epmpulse::base64_encode(std::string{"tour-user:"} + tour_password);
  BOOST_TEST((std::find(secrets.begin(), secrets.end(), basic_credentials) != secrets.end()));

  // The scan catches a planted secret, whole, cut short or escaped.
  auto planted = logs;
  auto& victim = planted.begin()->second;
  victim += std::string{"{\"message\":\"oops\",\"fields\":{\"token\":\""} + tour_access_token + "\"}}\n";
  victim += std::string{"token prefix "} + std::string{tour_refresh_token}.substr(0, 17) + "\n";
  auto caught = find_leaks(planted, secrets);
  BOOST_TEST(caught.size() >= 2u);
  for (const auto& l : caught)
    BOOST_TEST(l.log == planted.begin()->first);

  // The real logs: nothing.
  auto leaks = find_leaks(logs, secrets);
  for (const auto& l : leaks)
    BOOST_ERROR(l.log << ":" << l.line << " holds a secret (" << l.form << "): " << l.secret);
  BOOST_TEST(leaks.empty());
}

BOOST_AUTO_TEST_SUITE_END()
