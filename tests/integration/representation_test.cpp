#include <boost/test/unit_test.hpp>

// How GET /status and GET /status/{app} are sent: entity tags and 304 for a
// dashboard that polls, gzip for a client that accepts it, and bodies that
// are exactly what a JSON library would write.

#include <map>
#include <thread>
#include <vector>

#include <restinio/transforms/zlib.hpp>

#include "tests/support/service_fixture.hpp"

BOOST_AUTO_TEST_SUITE(representation_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

struct fresh_service {
  service svc;
};

std::string gunzip(const std::string& bytes) {
  return restinio::transforms::zlib::gzip_decompress(bytes);
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(representation, fresh_service)

BOOST_AUTO_TEST_CASE(body_is_compact_json_with_members_in_name_order) {
  BOOST_REQUIRE_EQUAL(svc.writer().post("/api/v1/status",
                                        update("Planning", "Actual", "Loading",
                                               {{"job_id", "J-1"}, {"message", "Tab\t\"quoted\""}}))
                        .status,
                      200);
  for (const char* path : {"/api/v1/status", "/api/v1/status/Planning"}) {
    auto r = svc.reader().get(path);
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_REQUIRE(r.is_json());
    // nlohmann's compact dump sorts members by name: the same bytes back.
    BOOST_TEST(r.json().dump() == r.body, path);
  }
  BOOST_TEST(svc.domain("Planning", "Actual").at("message") == "Tab\t\"quoted\"");
}

BOOST_AUTO_TEST_CASE(each_domain_is_shown_as_the_state_file_holds_it) {
  // The GET bodies and the state file are written by two writers: the body
  // shows each domain as the file holds it, less the internal "started".
  auto writer = svc.writer();
  BOOST_REQUIRE_EQUAL(writer.post("/api/v1/status", update("Planning", "Actual", "Loading",
                                                           {{"job_id", "J-1"}, {"message", "m"}}))
                        .status,
                      200);
  BOOST_REQUIRE_EQUAL(writer.post("/api/v1/status", update("FCCS", "Consolidation", "OK",
                                                           {{"job_id", "J-2"}}))
                        .status,
                      200);
  auto body = svc.reader().get("/api/v1/status").json();
  auto file = svc.settled_state_json();
  std::size_t compared = 0;
  for (const auto& [app, entry] : file["apps"].items()) {
    for (auto [domain, stored] : entry["domains"].items()) {
      stored.erase("started");
      BOOST_TEST(body["apps"][app][domain] == stored, app << "/" << domain);
      ++compared;
    }
    BOOST_TEST(body["apps"][app].size() == entry["domains"].size(), app);
  }
  BOOST_TEST(compared >= 4u);
  BOOST_TEST(body["apps"]["Planning"]["Actual"]["job_id"] == "J-1");
  BOOST_TEST(body["last_updated"] == file["last_updated"]);
}

BOOST_AUTO_TEST_CASE(each_body_shows_the_changes_before_it) {
  // Bodies reuse each unchanged domain's text: every read must still show
  // every change made before it, in every app, and nothing else.
  auto writer = svc.writer();
  auto reader = svc.reader();
  std::map<std::string, std::string> expected; // "app/domain" -> status
  const char* statuses[] = {"Loading", "OK", "Warning"};
  const std::pair<const char*, const char*> pairs[] = {
    {"Planning", "Actual"}, {"Planning", "Forecast"}, {"FCCS", "Consolidation"}, {"Planning", "Actual"}};
  for (int round = 0; round < 6; ++round) {
    auto [app, domain] = pairs[round % 4];
    auto status = statuses[round % 3];
    BOOST_REQUIRE_EQUAL(
      writer.post("/api/v1/status", update(app, domain, status, {{"job_id", "J-" + std::to_string(round)}}))
        .status,
      200);
    expected[std::string{app} + "/" + domain] = status;
    auto all = reader.get("/api/v1/status");
    BOOST_REQUIRE_EQUAL(all.status, 200);
    BOOST_TEST(all.json().dump() == all.body);
    for (const auto& [key, want] : expected) {
      auto slash = key.find('/');
      auto shown = all.json()["apps"][key.substr(0, slash)][key.substr(slash + 1)];
      BOOST_TEST(shown["status"] == want, key << " after round " << round);
    }
    auto one = reader.get(std::string{"/api/v1/status/"} + app);
    BOOST_REQUIRE_EQUAL(one.status, 200);
    BOOST_TEST(one.json()["domains"][domain]["status"] == status);
    BOOST_TEST(one.json()["domains"][domain]["job_id"] == "J-" + std::to_string(round));
  }
}

BOOST_AUTO_TEST_CASE(body_carries_an_entity_tag_and_asks_caches_to_revalidate) {
  auto r = svc.reader().get("/api/v1/status");
  BOOST_REQUIRE_EQUAL(r.status, 200);
  auto etag = r.header("ETag");
  BOOST_TEST(etag.size() > 2);
  BOOST_TEST(etag.front() == '"');
  BOOST_TEST(etag.back() == '"');
  BOOST_TEST(r.header("Cache-Control") == "no-cache");
  BOOST_TEST(r.header("Vary") == "Accept-Encoding");
  BOOST_TEST(r.header("Content-Encoding").empty());
}

BOOST_AUTO_TEST_CASE(matching_if_none_match_is_answered_304_until_the_state_changes) {
  auto reader = svc.reader();
  auto first = reader.get("/api/v1/status");
  BOOST_REQUIRE_EQUAL(first.status, 200);
  auto etag = first.header("ETag");

  auto again = reader.get("/api/v1/status", {{"If-None-Match", etag}});
  BOOST_TEST(again.status == 304);
  BOOST_TEST(again.body.empty());
  BOOST_TEST(again.header("ETag") == etag);
  BOOST_TEST(again.header("Vary") == "Accept-Encoding");
  BOOST_TEST(again.header("Cache-Control") == "no-cache");
  BOOST_TEST(!again.header("X-Request-ID").empty());
  // No content of its own; its length is the 200's (RFC 9110 8.6).
  BOOST_TEST(again.header("Content-Type").empty());
  BOOST_TEST(again.header("Content-Length") == std::to_string(first.body.size()));
  BOOST_TEST(svc.metric("epmpulse_http_responses_total{class=\"3xx\"}").value_or(0) >= 1);

  // In a list, and as a weak tag: If-None-Match compares weakly.
  BOOST_TEST(reader.get("/api/v1/status", {{"If-None-Match", "\"other\", " + etag}}).status == 304);
  BOOST_TEST(reader.get("/api/v1/status", {{"If-None-Match", "W/" + etag}}).status == 304);
  BOOST_TEST(reader.get("/api/v1/status", {{"If-None-Match", "*"}}).status == 304);
  BOOST_TEST(reader.get("/api/v1/status", {{"If-None-Match", "\"other\""}}).status == 200);

  BOOST_REQUIRE_EQUAL(
    svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK")).status, 200);
  auto changed = reader.get("/api/v1/status", {{"If-None-Match", etag}});
  BOOST_REQUIRE_EQUAL(changed.status, 200);
  BOOST_TEST(changed.header("ETag") != etag);
  BOOST_TEST(changed.json()["apps"]["Planning"]["Actual"]["status"] == "OK");
}

BOOST_AUTO_TEST_CASE(one_apps_body_has_its_own_tags_and_304) {
  auto reader = svc.reader();
  auto first = reader.get("/api/v1/status/Planning");
  BOOST_REQUIRE_EQUAL(first.status, 200);
  auto etag = first.header("ETag");
  BOOST_TEST(!etag.empty());
  BOOST_TEST(reader.get("/api/v1/status/Planning", {{"If-None-Match", etag}}).status == 304);
  // An unknown app is still a 404, whatever the client holds.
  auto unknown = reader.get("/api/v1/status/Nope", {{"If-None-Match", "*"}});
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(unknown.header("ETag").empty());
}

BOOST_AUTO_TEST_CASE(gzip_is_sent_to_a_client_that_accepts_it) {
  BOOST_REQUIRE_EQUAL(
    svc.writer().post("/api/v1/status", update("Planning", "Actual", "Warning")).status, 200);
  auto reader = svc.reader();
  auto plain = reader.get("/api/v1/status");
  BOOST_REQUIRE_EQUAL(plain.status, 200);

  auto zipped = reader.get("/api/v1/status", {{"Accept-Encoding", "gzip, deflate, br"}});
  BOOST_REQUIRE_EQUAL(zipped.status, 200);
  BOOST_TEST(zipped.header("Content-Encoding") == "gzip");
  BOOST_TEST(zipped.header("Vary") == "Accept-Encoding");
  BOOST_TEST(zipped.body.size() < plain.body.size());
  BOOST_TEST(gunzip(zipped.body) == plain.body);
  // Each representation has its own tag, and each revalidates.
  BOOST_TEST(zipped.header("ETag") != plain.header("ETag"));
  auto not_modified = reader.get("/api/v1/status", {{"Accept-Encoding", "gzip"},
                                                    {"If-None-Match", zipped.header("ETag")}});
  BOOST_TEST(not_modified.status == 304);
  BOOST_TEST(not_modified.header("ETag") == zipped.header("ETag"));
  BOOST_TEST(not_modified.header("Content-Length") == std::to_string(zipped.body.size()));
  BOOST_TEST(not_modified.header("Content-Encoding").empty());
  // The uncompressed form's tag does not stand for the gzip form: a client
  // holding it that now accepts gzip gets the gzip body.
  auto switched = reader.get("/api/v1/status", {{"Accept-Encoding", "gzip"},
                                                {"If-None-Match", plain.header("ETag")}});
  BOOST_TEST(switched.status == 200);
  BOOST_TEST(switched.header("Content-Encoding") == "gzip");

  auto app = reader.get("/api/v1/status/Planning", {{"Accept-Encoding", "gzip"}});
  BOOST_REQUIRE_EQUAL(app.status, 200);
  BOOST_TEST(app.header("Content-Encoding") == "gzip");
  BOOST_TEST(json::parse(gunzip(app.body))["domains"]["Actual"]["status"] == "Warning");
}

BOOST_AUTO_TEST_CASE(gzip_readers_during_pushes_see_at_least_their_own_last_push) {
  // Readers waiting on the compressor together share the newest state's
  // body: never older than what they asked for, so a client that pushed and
  // then reads sees its push.
  constexpr int clients = 8;
  constexpr int rounds = 15;
  std::vector<std::thread> threads;
  std::vector<std::string> failures(clients);
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      auto writer = svc.writer();
      auto reader = svc.reader();
      auto domain = "T" + std::to_string(c);
      for (int round = 0; round < rounds && failures[c].empty(); ++round) {
        auto job = domain + "-" + std::to_string(round);
        auto pushed = writer.post("/api/v1/status", update("Planning", domain, "Loading", {{"job_id", job}}));
        if (pushed.status != 200) {
          failures[c] = "push: " + pushed.describe();
          break;
        }
        auto r = reader.get("/api/v1/status", {{"Accept-Encoding", "gzip"}});
        if (r.status != 200 || r.header("Content-Encoding") != "gzip") {
          failures[c] = "read: " + r.describe();
          break;
        }
        auto shown = json::parse(gunzip(r.body))["apps"]["Planning"][domain]["job_id"];
        if (shown != job)
          failures[c] = "round " + std::to_string(round) + " showed " + shown.dump() + ", pushed " + job;
      }
    });
  }
  for (auto& t : threads)
    t.join();
  for (int c = 0; c < clients; ++c)
    BOOST_TEST(failures[c].empty(), "client " << c << ": " << failures[c]);
}

BOOST_AUTO_TEST_CASE(gzip_is_not_sent_when_refused_or_not_named) {
  auto reader = svc.reader();
  for (const char* value : {"gzip;q=0", "identity", "br", "*;q=0", "gzip;q=0, *", "?? not a list"}) {
    auto r = reader.get("/api/v1/status", {{"Accept-Encoding", value}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Encoding").empty(), value);
    BOOST_TEST(r.is_json(), value);
  }
  for (const char* value : {"*", "x-gzip", "GZIP;q=0.5", "br;q=1.0, gzip;q=0.8"}) {
    auto r = reader.get("/api/v1/status", {{"Accept-Encoding", value}});
    BOOST_REQUIRE_EQUAL(r.status, 200);
    BOOST_TEST(r.header("Content-Encoding") == "gzip", value);
  }
}

BOOST_AUTO_TEST_SUITE_END()
BOOST_AUTO_TEST_SUITE_END()
