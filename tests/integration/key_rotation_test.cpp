#include <boost/test/unit_test.hpp>

// API key rotation against the real binary: the configuration file is
// rewritten, then POST /api/v1/admin/reload or SIGHUP makes the server take
// its keys and rate limits without a restart; an invalid file is refused
// and the running keys stay; an expired key gets 401.

#include <atomic>
#include <csignal>
#include <thread>
#include <vector>

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(key_rotation_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* rotated_key = "rotated-writer-key-5b1e0c7a9d";

const json probe = update("Planning", "Actual", "OK", {{"job_id", "ROT_1"}});

// A running server and a way to rewrite its configuration file.
struct rotation {
  std::unique_ptr<service> svc;
  json config = default_test_config();

  explicit rotation(json initial = default_test_config()) : config(std::move(initial)) {
    service_options o;
    o.config = config;
    svc = std::make_unique<service>(o);
  }

  void rewrite(const json& next) {
    config = next;
    write_config(svc->config_path().parent_path(), next, svc->config_path().filename().string());
  }

  // The write key replaced by `rotated_key` under a new name.
  json with_write_key_rotated() const {
    auto next = config;
    next["api_keys"][0] = {{"name", "rotated_write"}, {"key", rotated_key}, {"role", "write"}};
    return next;
  }

  http_result reload() const { return svc->admin().post("/api/v1/admin/reload", json::object()); }

  bool accepts(const std::string& key) const {
    return svc->client(key).post("/api/v1/status", probe).status == 200;
  }

  std::size_t log_count(const std::string& message) const {
    std::size_t n = 0;
    for (const auto& line : svc->server().log_lines())
      if (line.value("message", "") == message)
        ++n;
    return n;
  }
};

json with_rate_limit(json cfg, int status_per_minute) {
  cfg["settings"]["rate_limits"] = {{"enabled", true}, {"status_per_minute", status_per_minute}};
  return cfg;
}

} // namespace

BOOST_AUTO_TEST_CASE(the_reload_endpoint_swaps_the_keys_without_a_restart) {
  rotation r;
  BOOST_REQUIRE(r.accepts(write_key));
  auto pid = r.svc->server().pid();
  r.rewrite(r.with_write_key_rotated());
  auto answer = r.reload();
  BOOST_REQUIRE_MESSAGE(answer.status == 200, answer.describe());
  auto body = answer.json();
  BOOST_TEST(body["reloaded"] == true);
  BOOST_TEST(body["keys_added"] == json::array({"rotated_write"}), body.dump());
  BOOST_TEST(body["keys_removed"] == json::array({"test_write"}), body.dump());
  BOOST_TEST(body["keys_changed"] == json::array());
  BOOST_TEST(body["keys"] == 3);
  BOOST_TEST(answer.body.find(rotated_key) == std::string::npos);
  BOOST_TEST(r.accepts(rotated_key));
  check_error(r.svc->writer().post("/api/v1/status", probe), 403, "INVALID_KEY");
  BOOST_TEST(r.svc->reader().get("/api/v1/status").status == 200);
  BOOST_TEST(r.svc->server().pid() == pid);
  // The reload is logged by key name, never by key.
  auto line = r.svc->server().find_log("configuration reloaded: API keys and rate limits");
  BOOST_REQUIRE(line);
  BOOST_TEST((*line)["fields"]["keys_added"] == 1);
  BOOST_TEST((*line)["fields"]["keys_removed"] == 1);
  BOOST_TEST((*line)["fields"]["added"] == json::array({"rotated_write"}));
  BOOST_TEST(r.svc->server().log_text().find(rotated_key) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(reloading_needs_the_admin_role) {
  rotation r;
  check_error(r.svc->writer().post("/api/v1/admin/reload", json::object()), 403, "FORBIDDEN");
  check_error(r.svc->anonymous().post("/api/v1/admin/reload", json::object()), 401,
              "MISSING_AUTH");
}

BOOST_AUTO_TEST_CASE(sighup_reloads_the_keys_and_the_stop_signals_still_stop) {
  rotation r;
  r.rewrite(r.with_write_key_rotated());
  r.svc->server().signal(SIGHUP);
  BOOST_TEST(eventually([&] { return r.accepts(rotated_key); }, 10s));
  check_error(r.svc->writer().post("/api/v1/status", probe), 403, "INVALID_KEY");
  auto line = r.svc->server().find_log("configuration reloaded: API keys and rate limits");
  BOOST_REQUIRE(line);
  BOOST_TEST((*line)["fields"]["trigger"] == "SIGHUP");
  // A second SIGHUP with nothing changed is harmless.
  r.svc->server().signal(SIGHUP);
  BOOST_TEST(eventually(
    [&] { return r.log_count("configuration reloaded: API keys and rate limits") == 2; }, 10s));
  BOOST_TEST(r.svc->server().running());
  BOOST_TEST(r.svc->server().stop() == 0);
  BOOST_TEST(r.svc->server().find_log("stopped").has_value());
}

BOOST_AUTO_TEST_CASE(an_invalid_file_is_refused_and_the_running_keys_stay) {
  rotation r;
  auto broken = r.with_write_key_rotated();
  broken["api_keys"][1]["key"] = "short-secret"; // below the 16-character minimum
  r.rewrite(broken);
  auto answer = r.reload();
  check_error(answer, 422, "INVALID_CONFIG");
  auto errors = answer.json()["error"]["details"]["errors"];
  BOOST_REQUIRE_MESSAGE(errors.is_array() && errors.size() == 1, answer.describe());
  BOOST_TEST(errors[0]["field"] == "api_keys[1].key");
  BOOST_TEST(errors[0]["file"] == r.svc->config_path().string());
  BOOST_TEST(!errors[0]["fix"].get<std::string>().empty());
  BOOST_TEST(answer.body.find("short-secret") == std::string::npos);
  BOOST_TEST(answer.body.find(rotated_key) == std::string::npos);
  BOOST_TEST(r.accepts(write_key));
  BOOST_TEST(!r.accepts(rotated_key));

  // The same file on SIGHUP: logged, refused, nothing changes.
  r.svc->server().signal(SIGHUP);
  BOOST_REQUIRE(eventually([&] {
    return r.log_count("configuration reload refused; the running API keys and rate limits stay")
           == 2;
  }, 10s));
  BOOST_TEST(r.svc->server().running());
  BOOST_TEST(r.accepts(write_key));
  BOOST_TEST(!r.accepts(rotated_key));
  BOOST_TEST((r.svc->metric("epmpulse_config_reloads_total{result=\"refused\"}") == 2.0));
}

BOOST_AUTO_TEST_CASE(a_new_rate_limit_applies_at_once_and_keeps_the_keys_budget) {
  rotation r{with_rate_limit(default_test_config(), 1000)};
  for (int i = 0; i < 3; ++i)
    BOOST_REQUIRE(r.accepts(write_key));
  r.rewrite(with_rate_limit(r.config, 2));
  auto answer = r.reload();
  BOOST_REQUIRE_MESSAGE(answer.status == 200, answer.describe());
  BOOST_TEST(answer.json()["rate_limits_changed"] == true);
  // The key's bucket holds at most the new minute's worth: two more, then 429.
  BOOST_TEST(r.accepts(write_key));
  BOOST_TEST(r.accepts(write_key));
  auto refused = r.svc->writer().post("/api/v1/status", probe);
  check_error(refused, 429, "RATE_LIMITED");
  BOOST_TEST(refused.json()["error"]["details"]["limit_per_minute"] == 2);
  // Another key's budget is its own.
  BOOST_TEST(r.accepts(admin_key));
}

BOOST_AUTO_TEST_CASE(requests_during_reloads_see_the_old_or_the_new_keys_never_a_failure) {
  auto cfg = default_test_config();
  cfg["settings"]["server"] = {{"io_threads", 2}};
  rotation r{cfg};
  std::atomic<bool> done{false};
  std::atomic<int> pushes{0}, failures{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 2; ++c)
    clients.emplace_back([&, c] {
      auto client = r.svc->admin(); // the admin key stays in every version of the file
      for (int i = 0; !done.load(); ++i) {
        auto res = client.post("/api/v1/status",
                               update("Planning", "Actual", "OK",
                                      {{"job_id", "RL_" + std::to_string(c) + "_" + std::to_string(i)}}));
        ++pushes;
        if (res.status != 200)
          ++failures;
      }
    });
  // Reload at least 20 times, and on until 50 pushes overlapped the reloads
  // (bounded: a server that stopped answering fails below).
  auto rotated = r.with_write_key_rotated();
  int reloads = 0;
  for (; reloads < 20 || (pushes.load() < 50 && reloads < 2000); ++reloads) {
    r.rewrite(reloads % 2 == 0 ? rotated : cfg);
    auto answer = r.reload();
    if (answer.status != 200) { // no REQUIRE here: the clients must be joined first
      BOOST_ERROR("reload " << reloads << ": " << answer.describe());
      break;
    }
  }
  BOOST_TEST(pushes.load() >= 50);
  done = true;
  for (auto& t : clients)
    t.join();
  BOOST_TEST(failures.load() == 0, failures.load() << " of " << pushes.load() << " pushes failed");
  // The last reload published the file written last.
  bool rotated_last = reloads % 2 == 1;
  BOOST_TEST(r.accepts(rotated_key) == rotated_last);
  BOOST_TEST(r.accepts(write_key) == !rotated_last);
}

BOOST_AUTO_TEST_CASE(an_expired_key_gets_401_naming_the_key) {
  auto cfg = default_test_config();
  cfg["api_keys"][0]["expires"] = "2001-01-01T00:00:00Z";
  cfg["api_keys"][1]["expires"] = "2090-01-01T00:00:00+01:00";
  rotation r{cfg};
  auto refused = r.svc->writer().post("/api/v1/status", probe);
  check_error(refused, 401, "KEY_EXPIRED");
  auto message = refused.json()["error"]["message"].get<std::string>();
  BOOST_TEST(message.find("'test_write' expired at 2001-01-01T00:00:00Z") != std::string::npos,
             message);
  BOOST_TEST(refused.body.find(write_key) == std::string::npos);
  // The key with a future expiry works, and /metrics shows when it stops.
  BOOST_TEST(r.svc->reader().get("/api/v1/status").status == 200);
  BOOST_TEST((r.svc->metric("epmpulse_api_key_expiry_timestamp_seconds{key=\"test_read\"}")
              == 3786908400.0));
  // At start-up the expired key was a warning, not a reason to stop.
  bool warned = false;
  for (const auto& line : r.svc->server().log_lines())
    warned = warned
             || (line.value("level", "") == "warn"
                 && line.value("message", "").find("\"test_write\" expired at") != std::string::npos);
  BOOST_TEST(warned);
  // Rotating it in by reload: the same name with a new key and no expiry.
  auto renewed = cfg;
  renewed["api_keys"][0] = {{"name", "test_write"}, {"key", rotated_key}, {"role", "write"}};
  r.rewrite(renewed);
  auto answer = r.reload();
  BOOST_REQUIRE_MESSAGE(answer.status == 200, answer.describe());
  BOOST_TEST(answer.json()["keys_changed"] == json::array({"test_write"}));
  BOOST_TEST(r.accepts(rotated_key));
}

BOOST_AUTO_TEST_SUITE_END()
