#include <boost/test/unit_test.hpp>

// PostgreSQL storage against a real PostgreSQL the test starts itself
// (tests/support/pg_server.hpp): commits, the event-time rule in SQL, two
// instances on one database, the database going away and coming back,
// leader election.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "tests/fakes/fake_slack.hpp"
#include "tests/support/api_checks.hpp"
#include "tests/support/json_schema.hpp"
#include "tests/support/pg_server.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/time_util.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(postgres_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

service_options on_database(const pg_server& pg, bool start = true) {
  service_options o;
  o.config["settings"]["storage"] = {{"kind", "postgres"}, {"url", "${EPMPULSE_DATABASE_URL}"}};
  o.env["EPMPULSE_DATABASE_URL"] = pg.url();
  o.start = start;
  return o;
}

json health_of(const service& svc, long* status = nullptr) {
  auto r = svc.reader().get("/api/v1/health");
  if (status != nullptr)
    *status = r.status;
  return r.json();
}

std::string role_of(const service& svc) {
  auto h = health_of(svc);
  if (!h.is_object())
    return "";
  auto checks = h.value("checks", json::object());
  return checks.value("role", std::string{});
}

std::string job_on(const service& svc, const std::string& domain) {
  auto d = svc.domain("Planning", domain);
  return d.is_object() ? d.value("job_id", std::string{}) : std::string{};
}

} // namespace

BOOST_AUTO_TEST_CASE(a_push_is_committed_to_the_database_and_survives_a_restart) {
  pg_server pg;
  service svc(on_database(pg));
  const auto t = now_seconds() - 1h;
  check_success(svc.writer().post("/api/v1/status",
                                  update("Planning", "Actual", "OK",
                                         {{"job_id", "PG_1"}, {"timestamp", rfc3339(t)}})));
  // A 200 means committed: the row is there before anything else happens.
  BOOST_TEST(pg.psql("select job_id from epm_status where app_name = 'Planning' and domain_name = 'Actual'")
               .find("PG_1") != std::string::npos);
  const auto audit_before = pg.psql("select count(*) from epm_status_audit");

  // The same event again and an older one: acknowledged, nothing written.
  check_success(svc.writer().post("/api/v1/status",
                                  update("Planning", "Actual", "OK",
                                         {{"job_id", "PG_1"}, {"timestamp", rfc3339(t)}})));
  auto older = svc.writer().post("/api/v1/status",
                                 update("Planning", "Actual", "Loading",
                                        {{"job_id", "PG_OLD"}, {"timestamp", rfc3339(t - 10min)}}));
  check_success(older);
  BOOST_TEST(older.json()["updated"]["applied"] == false, older.body);
  BOOST_TEST(pg.psql("select count(*) from epm_status_audit") == audit_before);
  BOOST_TEST(pg.psql("select job_id from epm_status where app_name = 'Planning' and domain_name = 'Actual'")
               .find("PG_1") != std::string::npos);

  // A new instance with an empty data dir loads the state from the database.
  svc.server().stop();
  service fresh(on_database(pg));
  BOOST_TEST(job_on(fresh, "Actual") == "PG_1");
  BOOST_TEST(fresh.domain("Planning", "Actual")["status"] == "OK");
  // And the database's own restart loses nothing.
  pg.stop();
  pg.start();
  fresh.server().restart();
  BOOST_TEST(job_on(fresh, "Actual") == "PG_1");
}

BOOST_AUTO_TEST_CASE(two_instances_share_the_state_none_lost_and_reads_converge) {
  pg_server pg;
  service a(on_database(pg));
  service b(on_database(pg));
  // Exactly one leader.
  BOOST_REQUIRE(eventually([&] {
    auto ra = role_of(a), rb = role_of(b);
    return (ra == "leader" && rb == "follower") || (ra == "follower" && rb == "leader");
  }, 10s));
  // The health in this mode is what http/openapi.json describes.
  json_schema_validator openapi(json::parse(read_file(std::string{EPMPULSE_SOURCE_DIR} + "/http/openapi.json")));
  for (const auto* svc : {&a, &b}) {
    auto problems = openapi.validate(health_of(*svc), json{{"$ref", "#/components/schemas/Health"}});
    BOOST_TEST(problems.empty(), (problems.empty() ? std::string{} : problems.front()));
  }

  // Pushes spread across both instances from two threads: every one acknowledged
  // is in the database and visible on both instances.
  const std::vector<std::string> domains{"Actual", "Budget", "Forecast"};
  constexpr int rounds = 60;
  std::atomic<int> acknowledged{0};
  std::atomic<int> applied{0};
  std::vector<std::thread> pushers;
  for (int w = 0; w < 2; ++w)
    pushers.emplace_back([&, w] {
      const auto& target = w == 0 ? a : b;
      for (int i = 0; i < rounds; ++i) {
        auto r = target.writer().post(
          "/api/v1/status", update("Planning", domains[i % 3], "Loading",
                                   {{"job_id", "W" + std::to_string(w) + "_" + std::to_string(i)}}));
        if (r.status == 200)
          ++acknowledged;
        // Two instances stamp receipt times on their own: a push whose
        // time is older than the other instance's commit is refused by the
        // event-time rule (acknowledged, not applied), as on one instance.
        if (r.status == 200 && r.json()["updated"]["applied"] == true)
          ++applied;
      }
    });
  for (auto& t : pushers)
    t.join();
  BOOST_TEST(acknowledged.load() == 2 * rounds);
  // Every acknowledged change is in the audit (one row per applied change).
  // Each applied change is one audit row, except one the database refused
  // at commit because the other instance had just committed a newer event
  // for that domain in between (the instance applied it in memory first;
  // docs/database.md, "Two instances racing").
  const int audited = std::stoi(pg.psql("select count(*) from epm_status_audit"));
  BOOST_TEST(audited <= applied.load());
  BOOST_TEST(audited >= applied.load() - 10);
  BOOST_TEST_MESSAGE("applied " << applied.load() << ", audited " << audited);
  BOOST_TEST(applied.load() > rounds);
  // Both instances converge on the database's final rows.
  for (const auto& d : domains) {
    const auto stored = pg.psql("select job_id from epm_status where app_name = 'Planning' and domain_name = '" + d + "'");
    BOOST_REQUIRE(eventually([&] {
      return stored.find(job_on(a, d)) != std::string::npos && !job_on(a, d).empty()
             && job_on(a, d) == job_on(b, d);
    }, 10s));
  }

  // Staleness: a write acknowledged by one instance, seen by the other.
  std::vector<double> seen_ms;
  for (int i = 0; i < 20; ++i) {
    const auto job = "STALE_" + std::to_string(i);
    const auto& writer = i % 2 == 0 ? a : b;
    const auto& other = i % 2 == 0 ? b : a;
    check_success(writer.writer().post("/api/v1/status", update("Planning", "Budget", "OK", {{"job_id", job}})));
    const auto acked = std::chrono::steady_clock::now();
    BOOST_REQUIRE(eventually([&] { return job_on(other, "Budget") == job; }, 5s, 1ms));
    seen_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - acked).count());
  }
  std::sort(seen_ms.begin(), seen_ms.end());
  BOOST_TEST_MESSAGE("staleness ms: median " << seen_ms[seen_ms.size() / 2] << " max " << seen_ms.back());
  std::printf("postgres staleness across instances: median %.1f ms, max %.1f ms (%zu writes)\n",
              seen_ms[seen_ms.size() / 2], seen_ms.back(), seen_ms.size());
  BOOST_TEST(seen_ms.back() < 1000.0);
}

BOOST_AUTO_TEST_CASE(database_down_answers_503_with_retry_after_and_recovers_by_itself) {
  pg_server pg;
  service svc(on_database(pg));
  check_success(svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK", {{"job_id", "BEFORE"}})));
  pg.stop();
  http_result r;
  BOOST_REQUIRE(eventually([&] {
    r = svc.writer().post("/api/v1/status", update("Planning", "Actual", "Loading", {{"job_id", "DOWN"}}));
    return r.status == 503;
  }, 20s, 100ms));
  BOOST_TEST(r.error_code() == "DATABASE_UNAVAILABLE", r.describe());
  BOOST_TEST(!r.header("Retry-After").empty());
  BOOST_TEST(r.body.find(pg.password()) == std::string::npos);
  long status = 0;
  BOOST_REQUIRE(eventually([&] { health_of(svc, &status); return status == 503; }, 10s, 100ms));
  BOOST_TEST(health_of(svc).dump().find(pg.password()) == std::string::npos);
  // Reads still answer from memory. (The refused change stays there and is
  // committed by the retry, as a refused append is in the JSON mode.)
  BOOST_TEST(svc.reader().get("/api/v1/status").status == 200);

  pg.start();
  BOOST_REQUIRE(eventually([&] {
    return svc.writer().post("/api/v1/status", update("Planning", "Actual", "Loading", {{"job_id", "AFTER"}})).status == 200;
  }, 30s, 200ms));
  BOOST_REQUIRE(eventually([&] { health_of(svc, &status); return status == 200; }, 15s, 100ms));
  BOOST_TEST(pg.psql("select job_id from epm_status where app_name = 'Planning' and domain_name = 'Actual'")
               .find("AFTER") != std::string::npos);
  BOOST_TEST(svc.server().log_text().find(pg.password()) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(database_restarted_under_load_loses_no_acknowledged_write) {
  pg_server pg;
  service svc(on_database(pg));
  const std::vector<std::string> domains{"Actual", "Budget", "Forecast"};
  std::atomic<bool> done{false};
  std::mutex mtx;
  std::vector<std::string> acknowledged;
  int refused = 0;
  std::thread pusher([&] {
    for (int i = 0; !done.load(); ++i) {
      const auto job = "LOAD_" + std::to_string(i);
      auto r = svc.writer().post("/api/v1/status", update("Planning", domains[i % 3], "Loading", {{"job_id", job}}));
      std::lock_guard<std::mutex> guard(mtx);
      if (r.status == 200 && r.json()["updated"]["applied"] == true)
        acknowledged.push_back(job);
      else if (r.status == 503)
        ++refused;
    }
  });
  auto acknowledged_count = [&] {
    std::lock_guard<std::mutex> guard(mtx);
    return acknowledged.size();
  };
  BOOST_REQUIRE(eventually([&] { return acknowledged_count() >= 20; }, 10s));
  pg.stop();
  pg.start();
  const auto after_restart = acknowledged_count();
  BOOST_REQUIRE(eventually([&] { return acknowledged_count() >= after_restart + 20; }, 30s, 50ms));
  done = true;
  pusher.join();
  const auto audited = pg.psql("select job_id from epm_status_audit");
  std::set<std::string> in_audit;
  std::istringstream lines(audited);
  for (std::string line; std::getline(lines, line);)
    in_audit.insert(line);
  for (const auto& job : acknowledged)
    BOOST_TEST(in_audit.count(job) == 1u, job << " acknowledged but not in the database");
  BOOST_TEST_MESSAGE("acknowledged " << acknowledged.size() << ", refused with 503 " << refused);
  long status = 0;
  BOOST_TEST(eventually([&] { health_of(svc, &status); return status == 200; }, 15s, 100ms));
}

BOOST_AUTO_TEST_CASE(kill_9_of_the_leader_makes_the_other_leader_within_10_s) {
  pg_server pg;
  service a(on_database(pg));
  BOOST_REQUIRE(eventually([&] { return role_of(a) == "leader"; }, 10s));
  service b(on_database(pg));
  BOOST_REQUIRE(eventually([&] { return role_of(b) == "follower"; }, 10s));
  a.server().kill();
  const auto killed = std::chrono::steady_clock::now();
  BOOST_REQUIRE(eventually([&] { return role_of(b) == "leader"; }, 10s, 50ms));
  std::printf("postgres takeover after kill -9 of the leader: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count());
}

BOOST_AUTO_TEST_CASE(only_the_leader_edits_canvases_and_the_new_one_takes_over_after_kill_9) {
  pg_server pg;
  fake_slack slack{""}; // any token: each instance gets its own, to tell them apart
  const std::string token_a = "xoxb-instance-a-0123456789";
  const std::string token_b = "xoxb-instance-b-0123456789";
  auto with_canvas = [&](const std::string& token) {
    auto o = on_database(pg);
    o.config["apps"]["Planning"]["channels"] = json::array({"C100"});
    o.config["channels"] = {{"C100", {{"name", "epm-main"}, {"canvas_id", "F100"}}}};
    o.config["settings"]["slack"] = {{"min_update_interval_sec", 0.2}, {"request_timeout_sec", 2}};
    o.env["SLACK_BOT_TOKEN"] = token;
    o.env["SLACK_API_URL"] = slack.api_url();
    return o;
  };
  auto edits_by = [&](const std::string& token) {
    std::vector<fake_slack::call> out;
    for (const auto& c : slack.edits_of("F100"))
      if (c.authorization == "Bearer " + token)
        out.push_back(c);
    return out;
  };
  auto edited_with = [&](const std::string& token, const std::string& job) {
    for (const auto& c : edits_by(token))
      if (c.markdown.find(job) != std::string::npos)
        return true;
    return false;
  };
  service a(with_canvas(token_a));
  BOOST_REQUIRE(eventually([&] { return role_of(a) == "leader"; }, 10s));
  service b(with_canvas(token_b));
  BOOST_REQUIRE(eventually([&] { return role_of(b) == "follower"; }, 10s));
  // A push to the follower reaches the canvas through the leader.
  check_success(b.writer().post("/api/v1/status", update("Planning", "Actual", "Loading", {{"job_id", "VIA_B"}})));
  BOOST_REQUIRE(eventually([&] { return edited_with(token_a, "VIA_B"); }, 10s));
  BOOST_TEST(edits_by(token_b).empty());

  const auto killed = std::chrono::steady_clock::now();
  a.server().kill();
  BOOST_REQUIRE(eventually([&] { return role_of(b) == "leader"; }, 10s, 50ms));
  check_success(b.writer().post("/api/v1/status", update("Planning", "Actual", "OK", {{"job_id", "AFTER_KILL"}})));
  BOOST_REQUIRE(eventually([&] { return edited_with(token_b, "AFTER_KILL"); }, 10s));
  // Never two writers at once: every edit of A before the kill, every edit of B after it.
  for (const auto& c : edits_by(token_a))
    BOOST_TEST((c.received <= killed));
  for (const auto& c : edits_by(token_b))
    BOOST_TEST((c.received > killed));
}

BOOST_AUTO_TEST_CASE(migrate_imports_a_json_data_dir_and_exports_it_back) {
  pg_server pg;
  service json_mode;
  check_success(json_mode.writer().post("/api/v1/status",
                                        update("Planning", "Actual", "OK", {{"job_id", "FROM_JSON"}})));
  BOOST_REQUIRE_EQUAL(json_mode.server().stop(), 0);
  const std::map<std::string, std::string> env{{"EPMPULSE_DATABASE_URL", pg.url()}};
  auto imported = run_binary({"migrate", "--from-json", json_mode.data_dir().string()}, env, 30s);
  BOOST_TEST_REQUIRE(imported.exit_code == 0, imported.err);
  BOOST_TEST(imported.out.find("imported") != std::string::npos, imported.out);
  BOOST_TEST(imported.out.find(pg.password()) == std::string::npos);
  BOOST_TEST(imported.err.find(pg.password()) == std::string::npos);

  service on_pg(on_database(pg));
  BOOST_TEST(job_on(on_pg, "Actual") == "FROM_JSON");
  // Importing twice is refused: the database already holds changes.
  auto again = run_binary({"migrate", "--from-json", json_mode.data_dir().string()}, env, 30s);
  BOOST_TEST(again.exit_code != 0, again.out);
  BOOST_TEST(again.err.find(pg.password()) == std::string::npos);

  check_success(on_pg.writer().post("/api/v1/status",
                                    update("Planning", "Budget", "Loading", {{"job_id", "ON_PG"}})));
  temp_dir back("epmpulse-export-");
  auto exported = run_binary({"migrate", "--to-json", back.path().string()}, env, 30s);
  BOOST_TEST_REQUIRE(exported.exit_code == 0, exported.err);
  auto doc = json::parse(read_file(back.file("apps_status.json")));
  BOOST_TEST(doc["apps"]["Planning"]["domains"]["Actual"]["job_id"] == "FROM_JSON", doc.dump());
  BOOST_TEST(doc["apps"]["Planning"]["domains"]["Budget"]["job_id"] == "ON_PG");
  // And the JSON mode starts from the exported dir.
  service_options downgraded;
  downgraded.start = false;
  service json_again(downgraded);
  std::filesystem::copy_file(back.file("apps_status.json"), json_again.state_file());
  json_again.start();
  BOOST_TEST(job_on(json_again, "Budget") == "ON_PG");
}

BOOST_AUTO_TEST_SUITE_END()
