#include <boost/test/unit_test.hpp>

// The history in PostgreSQL mode against a real PostgreSQL the test starts
// (tests/support/pg_server.hpp): GET /api/v1/history, /stats and the live
// stream's resume answer from the cluster's audit table, so two instances
// list the same changes with the same ids, including a change one of them
// refused by the event-time rule; the filters and the cursor work across
// instances; /stats equals the SQLite backend's answer for the same changes;
// the queries use the migration's indexes.

#include <regex>
#include <set>

#include "tests/support/pg_server.hpp"
#include "tests/support/raw_socket.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/time_util.hpp"
#include "tests/support/wait.hpp"

BOOST_AUTO_TEST_SUITE(history_pg_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

service_options on_database(const pg_server& pg) {
  service_options o;
  o.config["settings"]["storage"] = {{"kind", "postgres"}, {"url", "${EPMPULSE_DATABASE_URL}"}};
  o.env["EPMPULSE_DATABASE_URL"] = pg.url();
  return o;
}

json history(const service& svc, const std::string& query) {
  auto r = svc.reader().get("/api/v1/history" + query);
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  return r.json();
}

std::vector<std::string> ids_of(const json& page) {
  std::vector<std::string> out;
  for (const auto& e : page["entries"])
    out.push_back(e["id"].get<std::string>());
  return out;
}

std::vector<std::string> jobs_of(const json& page) {
  std::vector<std::string> out;
  for (const auto& e : page["entries"])
    out.push_back(e["job_id"].is_string() ? e["job_id"].get<std::string>() : "");
  return out;
}

std::string push(const service& svc, const std::string& domain, const std::string& status,
                 const std::string& job, std::optional<sys_time> at = {}) {
  json extra = {{"job_id", job}};
  if (at)
    extra["timestamp"] = rfc3339(*at);
  auto r = svc.writer().post("/api/v1/status", update("Planning", domain, status, extra));
  BOOST_REQUIRE_MESSAGE(r.status == 200, r.describe());
  return job;
}

/// The change ids of the `id:` lines of a Server-Sent Events text, in order.
std::vector<std::string> event_ids(const std::string& text) {
  std::vector<std::string> ids;
  static const std::regex id_line{"(^|\n)id: ([0-9]+)\n"};
  for (auto it = std::sregex_iterator(text.begin(), text.end(), id_line);
       it != std::sregex_iterator(); ++it)
    ids.push_back((*it)[2].str());
  return ids;
}

} // namespace

BOOST_AUTO_TEST_CASE(both_instances_list_the_cluster_history_with_the_same_ids) {
  pg_server pg;
  service a(on_database(pg));
  service b(on_database(pg));
  const auto t0 = now_seconds() - 2h;
  // Changes spread over both instances, each at its own event time.
  std::vector<std::string> jobs;
  for (int i = 0; i < 7; ++i) {
    const auto& target = i % 2 == 0 ? a : b;
    const auto domain = i % 3 == 0 ? "Actual" : (i % 3 == 1 ? "Budget" : "Forecast");
    jobs.push_back(push(target, domain, i % 2 == 0 ? "Loading" : "OK", "H_" + std::to_string(i),
                        t0 + std::chrono::minutes(i)));
  }
  // Answered from the database, so no wait for the other instance's listener.
  auto from_a = history(a, "?limit=100");
  auto from_b = history(b, "?limit=100");
  BOOST_REQUIRE_EQUAL(from_a["entries"].size(), 7u);
  BOOST_TEST(ids_of(from_a) == ids_of(from_b), boost::test_tools::per_element());
  BOOST_TEST(from_a["entries"] == from_b["entries"]);
  std::vector<std::string> newest_first(jobs.rbegin(), jobs.rend());
  BOOST_TEST(jobs_of(from_a) == newest_first, boost::test_tools::per_element());
  BOOST_TEST(pg.psql("select max(id) from epm_status_audit") == ids_of(from_a).front());
  // The key's name is recorded in the database too, never the key.
  BOOST_TEST(from_a["entries"][0]["key_name"] == "test_write");

  // A change another instance committed that B refuses by the event-time
  // rule (B holds a newer event for Actual): in the audit, so B lists it.
  pg.psql("insert into epm_status_audit (id, app_name, domain_name, old_status, new_status, "
          "job_id, message, event_time, received_time, source, changed_by) values "
          "(nextval('epm_change_id'), 'Planning', 'Actual', 'OK', 'Warning', 'H_LOSER', null, "
          "now() - interval '1 day', now(), 'push', 'another instance'); "
          "select pg_notify('epm_changes', (select max(id) from epm_status_audit)::text)");
  const auto loser_id = pg.psql("select id from epm_status_audit where job_id = 'H_LOSER'");
  auto with_loser = history(b, "?job_id=H_LOSER");
  BOOST_REQUIRE_EQUAL(with_loser["entries"].size(), 1u);
  BOOST_TEST(with_loser["entries"][0]["id"] == loser_id);
  BOOST_TEST(with_loser["entries"][0]["status"] == "Warning");
  BOOST_TEST(history(a, "?job_id=H_LOSER")["entries"] == with_loser["entries"]);
  // It lost: neither instance's state took it.
  BOOST_TEST(b.domain("Planning", "Actual")["job_id"] != "H_LOSER");

  // Paging: newest first, a cursor from A continued on B, nothing twice or lost.
  std::vector<std::string> paged;
  std::string query = "?limit=3";
  for (int page = 0; page < 10; ++page) {
    auto p = history(page % 2 == 0 ? a : b, query);
    for (const auto& id : ids_of(p))
      paged.push_back(id);
    if (p["next_cursor"].is_null())
      break;
    query = "?limit=3&cursor=" + p["next_cursor"].get<std::string>();
  }
  auto all = history(a, "");
  BOOST_REQUIRE_EQUAL(all["entries"].size(), 8u);
  BOOST_TEST(paged == ids_of(all), boost::test_tools::per_element());

  // Filters, the same on both instances.
  for (const auto* svc : {&a, &b}) {
    BOOST_TEST(jobs_of(history(*svc, "?domain=Actual&app=Planning"))
                 == (std::vector<std::string>{"H_LOSER", "H_6", "H_3", "H_0"}),
               boost::test_tools::per_element());
    BOOST_TEST(jobs_of(history(*svc, "?status=OK"))
                 == (std::vector<std::string>{"H_5", "H_3", "H_1"}),
               boost::test_tools::per_element());
    BOOST_TEST(history(*svc, "?app=Nope")["entries"].empty());
    auto since = history(*svc, "?since=" + rfc3339(now_seconds() + 1h));
    BOOST_TEST(since["entries"].empty());
    auto until = history(*svc, "?until=" + rfc3339(now_seconds() + 1h) + "&limit=2");
    BOOST_TEST(until["entries"].size() == 2u);
    BOOST_TEST(until["next_cursor"].is_string());
  }
  // The same error answers as the file backend.
  BOOST_TEST(b.reader().get("/api/v1/history?cursor=h0").status == 400);
  BOOST_TEST(b.reader().get("/api/v1/history?limit=1001").status == 400);
  BOOST_TEST(b.reader().get("/api/v1/history?colour=red").status == 400);

  // A stream resuming on B with Last-Event-ID reads the same record (the
  // loser included), then goes on live.
  raw_socket s{b.server().port()};
  BOOST_REQUIRE(s.send("GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                       + std::string(read_key) + "\r\nAccept: text/event-stream\r\nLast-Event-ID: "
                       + ids_of(all)[3] + "\r\n\r\n"));
  const auto all_ids = ids_of(all);
  std::vector<std::string> newest_three(all_ids.begin(), all_ids.begin() + 3);
  std::reverse(newest_three.begin(), newest_three.end());
  BOOST_REQUIRE(s.read_until(
    [&](const std::string& text) { return event_ids(text).size() >= 3; }, 10s));
  BOOST_TEST(event_ids(s.pending()) == newest_three, boost::test_tools::per_element());
  push(a, "Budget", "Warning", "H_LIVE");
  const auto live_id = pg.psql("select id from epm_status_audit where job_id = 'H_LIVE'");
  BOOST_REQUIRE(s.read_until(
    [&](const std::string& text) { return text.find("id: " + live_id + "\n") != std::string::npos; },
    10s));

  // No local history file in this mode: the audit is the one record.
  BOOST_TEST(!std::filesystem::exists(a.data_dir() / "history.sqlite3"));
  BOOST_TEST(!std::filesystem::exists(b.data_dir() / "history.sqlite3"));
}

BOOST_AUTO_TEST_CASE(stats_equal_the_file_backend_for_the_same_changes) {
  pg_server pg;
  service db_mode(on_database(pg));
  service file_mode;
  const auto t0 = now_seconds() - 3h;
  // The same runs (event times given, so the durations are the same) to both.
  for (const auto* svc : {&db_mode, &file_mode}) {
    for (int i = 0; i < 5; ++i) {
      const auto start = t0 + std::chrono::minutes(20 * i);
      const auto domain = i % 2 == 0 ? "Actual" : "Budget";
      push(*svc, domain, "Loading", "S_" + std::to_string(i), start);
      push(*svc, domain, i == 3 ? "Warning" : "OK", "S_" + std::to_string(i),
           start + std::chrono::seconds(60 * (i + 1)));
    }
  }
  for (const std::string query : {"", "?app=Planning", "?app=Planning&domain=Budget", "?days=1"}) {
    auto from_db = db_mode.reader().get("/api/v1/stats" + query).json();
    auto from_file = file_mode.reader().get("/api/v1/stats" + query).json();
    BOOST_REQUIRE(from_db["domains"].is_array());
    BOOST_REQUIRE_EQUAL(from_db["domains"].size(), from_file["domains"].size());
    BOOST_TEST(!from_db["domains"].empty());
    // Receipt times are each server's own: last_run is compared for presence.
    for (auto* body : {&from_db, &from_file})
      for (auto& d : (*body)["domains"]) {
        BOOST_TEST(d["last_run"].is_string());
        d.erase("last_run");
      }
    BOOST_TEST(from_db == from_file, from_db.dump() + " vs " + from_file.dump());
  }
}

BOOST_AUTO_TEST_CASE(the_history_queries_use_the_indexes) {
  pg_server pg;
  service a(on_database(pg));
  push(a, "Actual", "OK", "IDX_ONE");
  // Enough rows that a sequential scan would cost more than an index.
  pg.psql("insert into epm_status_audit (id, app_name, domain_name, old_status, new_status, "
          "job_id, event_time, received_time, source) select nextval('epm_change_id'), "
          "'App' || (g % 50), 'Dom' || (g % 7), 'Blank', 'OK', 'JOB' || g, now(), "
          "now() - (g || ' seconds')::interval, 'push' from generate_series(1, 50000) g; "
          "analyze epm_status_audit");
  auto plan = [&](const std::string& where) {
    return pg.psql("explain select id from epm_status_audit where " + where
                   + " order by id desc limit 101");
  };
  const auto by_job = plan("job_id = 'JOB77'");
  BOOST_TEST(by_job.find("idx_audit_job") != std::string::npos, by_job);
  const auto by_app = plan("app_name = 'App3'");
  BOOST_TEST(by_app.find("Index") != std::string::npos, by_app);
  BOOST_TEST(by_app.find("Seq Scan") == std::string::npos, by_app);
  const auto by_domain = plan("app_name = 'App3' and domain_name = 'Dom1'");
  BOOST_TEST((by_domain.find("idx_audit_domain") != std::string::npos
              || by_domain.find("idx_audit_app") != std::string::npos),
             by_domain);
  BOOST_TEST(by_domain.find("Seq Scan") == std::string::npos, by_domain);
  BOOST_TEST_MESSAGE("plans:\n" << by_job << "\n" << by_app << "\n" << by_domain);
  // And the answer over HTTP is the indexed one.
  auto page = history(a, "?job_id=IDX_ONE");
  BOOST_REQUIRE_EQUAL(page["entries"].size(), 1u);
  auto app_page = history(a, "?app=App3&limit=5");
  BOOST_TEST(app_page["entries"].size() == 5u);
  BOOST_TEST(app_page["next_cursor"].is_string());
}

BOOST_AUTO_TEST_SUITE_END()
