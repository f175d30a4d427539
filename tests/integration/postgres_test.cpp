#include <boost/test/unit_test.hpp>

// PostgreSQL storage against a real PostgreSQL the test starts itself
// (tests/support/pg_server.hpp): commits, the event-time rule in SQL, two
// instances on one database, the database going away and coming back,
// leader election.

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
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

BOOST_AUTO_TEST_CASE(applied_true_always_means_an_audit_row_when_two_instances_race_on_one_domain) {
  pg_server pg;
  service a(on_database(pg));
  service b(on_database(pg));
  // A pushes single updates at even seconds, B batches of two at odd seconds,
  // all on one domain and over the same span: each instance keeps applying
  // changes in memory that the other has just overtaken in the database.
  const auto base = now_seconds() - 2h;
  constexpr int singles = 120;
  std::atomic<int> acknowledged{0};
  std::atomic<int> applied{0};
  std::atomic<int> refused_by_database{0};
  std::mutex mtx;
  std::map<std::int64_t, std::string> acked_jobs; // event second -> job id
  auto count = [&](const json& item, std::int64_t second, const std::string& job) {
    if (item["applied"] == true) {
      ++applied;
    } else {
      ++refused_by_database;
      // Not applied is said with a reason, as on one instance.
      BOOST_TEST((item["reason"] == "stale" || item["reason"] == "unchanged"), item.dump());
    }
    std::lock_guard<std::mutex> guard(mtx);
    acked_jobs[second] = job;
  };
  std::thread single([&] {
    for (int i = 0; i < singles; ++i) {
      const std::int64_t second = 2 * i;
      const auto job = "A_" + std::to_string(second);
      auto r = a.writer().post("/api/v1/status",
                               update("Planning", "Actual", i % 2 ? "OK" : "Loading",
                                      {{"job_id", job}, {"timestamp", rfc3339(base + std::chrono::seconds(second))}}));
      if (r.status != 200)
        continue;
      ++acknowledged;
      count(r.json()["updated"], second, job);
    }
  });
  std::thread batched([&] {
    for (int k = 0; k < singles / 2; ++k) {
      json items = json::array();
      std::vector<std::pair<std::int64_t, std::string>> sent;
      for (std::int64_t second : {4 * k + 1, 4 * k + 3}) {
        const auto job = "B_" + std::to_string(second);
        items.push_back(update("Planning", "Actual", second % 4 == 1 ? "Loading" : "Warning",
                               {{"job_id", job}, {"timestamp", rfc3339(base + std::chrono::seconds(second))}}));
        sent.emplace_back(second, job);
      }
      auto r = b.writer().post("/api/v1/status/batch", {{"updates", items}});
      if (r.status != 200)
        continue;
      acknowledged += 2;
      auto body = r.json();
      int applied_here = 0;
      for (std::size_t i = 0; i < sent.size(); ++i) {
        applied_here += body["updates"][i]["applied"] == true ? 1 : 0;
        count(body["updates"][i], sent[i].first, sent[i].second);
      }
      BOOST_TEST(body["updated_count"] == applied_here, body.dump());
    }
  });
  single.join();
  batched.join();
  BOOST_TEST(acknowledged.load() == 2 * singles);
  const int audited = std::stoi(pg.psql(
    "select count(*) from epm_status_audit where app_name = 'Planning' and domain_name = 'Actual'"));
  BOOST_TEST_MESSAGE("applied " << applied.load() << ", audited " << audited << ", refused by the database "
                                << refused_by_database.load());
  std::printf("postgres race on one domain: %d applied, %d audit rows, %d answered not applied\n",
              applied.load(), audited, refused_by_database.load());
  // The invariant: a 200 with applied:true always has its audit row, and no
  // audit row exists without an applied:true answer.
  BOOST_TEST(applied.load() == audited);
  // The newest event wins, in the database and on both instances.
  const auto newest = acked_jobs.rbegin()->second;
  BOOST_TEST(pg.psql("select job_id from epm_status where app_name = 'Planning' and domain_name = 'Actual'")
               .find(newest) != std::string::npos);
  BOOST_TEST(eventually([&] { return job_on(a, "Actual") == newest && job_on(b, "Actual") == newest; }, 10s));
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
  const auto log = svc.server().log_text();
  BOOST_TEST(log.find(pg.password()) == std::string::npos);
  // The outage is told in database terms, once: one line as commits start
  // failing, one when they succeed again, none about a change log.
  const auto lines = svc.server().log_lines();
  auto lines_with = [&](const std::string& message) {
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const json& l) {
      return l.value("message", std::string{}).rfind(message, 0) == 0;
    }));
  };
  BOOST_TEST(lines_with("database commit failed") + lines_with("database unreachable") == 1u, log);
  BOOST_TEST(lines_with("database commits succeed again") == 1u, log);
  BOOST_TEST(log.find("change log") == std::string::npos, log);
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

BOOST_AUTO_TEST_CASE(three_instances_lose_nothing_and_one_of_the_others_leads_after_kill_9) {
  pg_server pg;
  fake_slack slack{""}; // any token: each instance has its own, to tell them apart
  const std::vector<std::string> tokens{"xoxb-instance-a-0123456789", "xoxb-instance-b-0123456789",
                                        "xoxb-instance-c-0123456789"};
  auto with_canvas = [&](const std::string& token) {
    auto o = on_database(pg);
    o.config["apps"]["Planning"]["channels"] = json::array({"C100"});
    o.config["channels"] = {{"C100", {{"name", "epm-main"}, {"canvas_id", "F100"}}}};
    o.config["settings"]["slack"] = {{"min_update_interval_sec", 0.2}, {"request_timeout_sec", 2}};
    o.env["SLACK_BOT_TOKEN"] = token;
    o.env["SLACK_API_URL"] = slack.api_url();
    return o;
  };
  std::vector<std::unique_ptr<service>> instances;
  for (const auto& token : tokens)
    instances.push_back(std::make_unique<service>(with_canvas(token)));
  auto leaders = [&] {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < instances.size(); ++i)
      if (instances[i]->server().running() && role_of(*instances[i]) == "leader")
        out.push_back(i);
    return out;
  };
  BOOST_REQUIRE(eventually([&] { return leaders().size() == 1; }, 10s));
  const auto leader = leaders().front();

  // Pushes spread across the three from three threads, one domain each
  // thread leads with but all three shared: none lost.
  const std::vector<std::string> domains{"Actual", "Budget", "Forecast"};
  constexpr int rounds = 40;
  std::mutex mtx;
  std::vector<std::string> applied_jobs;
  std::atomic<int> acknowledged{0};
  std::vector<std::thread> pushers;
  for (std::size_t w = 0; w < instances.size(); ++w)
    pushers.emplace_back([&, w] {
      for (int i = 0; i < rounds; ++i) {
        const auto job = "I" + std::to_string(w) + "_" + std::to_string(i);
        auto r = instances[w]->writer().post(
          "/api/v1/status", update("Planning", domains[(w + i) % 3], i % 2 ? "OK" : "Loading", {{"job_id", job}}));
        if (r.status != 200)
          continue;
        ++acknowledged;
        if (r.json()["updated"]["applied"] == true) {
          std::lock_guard<std::mutex> guard(mtx);
          applied_jobs.push_back(job);
        }
      }
    });
  for (auto& t : pushers)
    t.join();
  BOOST_TEST(acknowledged.load() == 3 * rounds);
  std::set<std::string> in_audit;
  {
    std::istringstream lines(pg.psql("select job_id from epm_status_audit"));
    for (std::string line; std::getline(lines, line);)
      in_audit.insert(line);
  }
  for (const auto& job : applied_jobs)
    BOOST_TEST(in_audit.count(job) == 1u, job << " answered applied but not in the audit");
  BOOST_TEST(in_audit.size() == applied_jobs.size());
  // Every instance holds the database's final rows within the staleness bound.
  for (const auto& d : domains) {
    const auto stored = pg.psql("select job_id from epm_status where app_name = 'Planning' and domain_name = '" + d + "'");
    BOOST_REQUIRE(!stored.empty());
    const auto since = std::chrono::steady_clock::now();
    BOOST_REQUIRE(eventually([&] {
      return std::all_of(instances.begin(), instances.end(), [&](const auto& svc) {
        return !job_on(*svc, d).empty() && stored.find(job_on(*svc, d)) != std::string::npos;
      });
    }, 5s, 1ms));
    BOOST_TEST((std::chrono::steady_clock::now() - since < 1s));
  }
  // Each acknowledged write is seen by the two other instances.
  for (std::size_t w = 0; w < instances.size(); ++w) {
    const auto job = "SEEN_" + std::to_string(w);
    check_success(instances[w]->writer().post("/api/v1/status", update("Planning", "Budget", "OK", {{"job_id", job}})));
    BOOST_REQUIRE(eventually([&] {
      return std::all_of(instances.begin(), instances.end(),
                         [&](const auto& svc) { return job_on(*svc, "Budget") == job; });
    }, 1s, 1ms));
  }

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
  // The leader's canvas shows the last write; its writer is idle before the kill.
  BOOST_REQUIRE(eventually([&] { return edited_with(tokens[leader], "SEEN_2"); }, 10s));
  BOOST_REQUIRE(eventually([&] {
    auto mine = edits_by(tokens[leader]);
    return !mine.empty() && std::chrono::steady_clock::now() - mine.back().received > 1s;
  }, 10s, 50ms));

  instances[leader]->server().kill();
  const auto killed = std::chrono::steady_clock::now();
  BOOST_REQUIRE(eventually([&] { return leaders().size() == 1; }, 10s, 50ms));
  const auto next = leaders().front();
  std::printf("postgres takeover among three after kill -9 of the leader: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count());
  BOOST_TEST(next != leader);
  BOOST_TEST((std::chrono::steady_clock::now() - killed < 10s));
  const auto survivor = 3 - leader - next;
  check_success(instances[survivor]->writer().post("/api/v1/status", update("Planning", "Actual", "Warning", {{"job_id", "AFTER_KILL"}})));
  BOOST_REQUIRE(eventually([&] { return edited_with(tokens[next], "AFTER_KILL"); }, 10s));
  // Never two writers at once: the old leader's edits all came before the
  // kill, the new one's after it, and the third instance never edited; no
  // two edits of different instances fall within one second.
  for (const auto& c : edits_by(tokens[leader]))
    BOOST_TEST((c.received <= killed));
  for (const auto& c : edits_by(tokens[next]))
    BOOST_TEST((c.received > killed));
  BOOST_TEST(edits_by(tokens[survivor]).empty());
  for (const auto& old_edit : edits_by(tokens[leader]))
    for (const auto& new_edit : edits_by(tokens[next]))
      BOOST_TEST((new_edit.received - old_edit.received >= 1s));
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
