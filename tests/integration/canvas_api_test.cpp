#include <boost/test/unit_test.hpp>

// The canvas side through the real binary: SLACK_API_URL points it at the
// fake Slack, SLACK_BOT_TOKEN carries the token; endpoints, auth roles,
// health, and that the token never reaches the log.

#include "tests/fakes/fake_slack.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/wait.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(canvas_api_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr const char* bot_token = "xoxb-integration-secret-7781";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

json canvas_config() {
  auto cfg = default_test_config();
  cfg["apps"]["Planning"]["channels"] = json::array({"C100"});
  cfg["apps"]["FCCS"]["channels"] = json::array({"C100"});
  cfg["apps"]["ARCS"]["channels"] = json::array({"C200"});
  cfg["channels"] = {{"C100", {{"name", "epm-main"}, {"canvas_id", "F100"}}},
                     {"C200", {{"name", "arcs-support"}, {"canvas_id", "F200"}}}};
  cfg["settings"]["slack"] = {{"min_update_interval_sec", 0.2}, {"request_timeout_sec", 2}};
  return cfg;
}

service_options with_slack(const fake_slack& slack) {
  service_options o;
  o.config = canvas_config();
  o.env = {{"SLACK_BOT_TOKEN", bot_token}, {"SLACK_API_URL", slack.api_url()}};
  return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(start_up_sync_then_pushes_reach_the_channels_canvas) {
  fake_slack slack{bot_token};
  service svc{with_slack(slack)};
  BOOST_REQUIRE(eventually([&] { return !slack.applied_edits_of("F100").empty() &&
                                        !slack.applied_edits_of("F200").empty(); }, 10s));
  auto r = svc.writer().post("/api/v1/status",
                             update("Planning", "Actual", "Loading", {{"job_id", "INT_001"}}));
  BOOST_REQUIRE_EQUAL(r.status, 200);
  BOOST_TEST(r.json()["canvas_updated"] == true, r.describe());
  BOOST_REQUIRE(eventually([&] { return contains(slack.document("F100"), "INT_001"); }, 10s));
  BOOST_TEST(!contains(slack.document("F200"), "INT_001"));
  for (const auto& c : slack.calls())
    BOOST_TEST(c.authorization == std::string{"Bearer "} + bot_token);
}

BOOST_AUTO_TEST_CASE(a_late_domain_is_marked_on_the_canvas_until_its_push_arrives) {
  fake_slack slack{bot_token};
  auto o = with_slack(slack);
  // A run every 12 s with no grace: late 12 s after start-up without an
  // update, and on time again for 12 s after one.
  o.config["expectations"] = json::array({{{"app", "Planning"},
                                           {"domain", "Actual"},
                                           {"schedule", {{"every_minutes", 0.2}}},
                                           {"grace_minutes", 0}}});
  o.config["settings"]["alerts"] = {{"evaluate_interval_sec", 1}};
  service svc{o};
  // On time at first: no mark, the next run shown.
  BOOST_REQUIRE(eventually([&] {
    return contains(slack.document("F100"), "**Actual**: Blank · next run ");
  }, 10s));
  BOOST_TEST(!contains(slack.document("F100"), "late"));
  BOOST_REQUIRE(eventually([&] {
    return contains(slack.document("F100"), "**Actual**: Blank · ⏰ **late** (run of ");
  }, 20s));
  BOOST_TEST(!contains(slack.document("F200"), "late")); // ARCS's canvas knows nothing of it
  auto r = svc.writer().post("/api/v1/status",
                             update("Planning", "Actual", "OK", {{"job_id", "MARK_OK"}}));
  BOOST_REQUIRE_EQUAL(r.status, 200);
  BOOST_REQUIRE(eventually([&] {
    auto doc = slack.document("F100");
    return contains(doc, "MARK_OK") && !contains(doc, "late");
  }, 10s));
  BOOST_TEST(contains(slack.document("F100"), "**Actual**: OK · job MARK_OK"));
  auto preview = svc.reader().get("/api/v1/canvas/preview?channel=C100");
  BOOST_REQUIRE_EQUAL(preview.status, 200);
  BOOST_TEST(contains(preview.json()["canvases"][0]["markdown"].get<std::string>(), "next run "));
}

BOOST_AUTO_TEST_CASE(preview_needs_a_read_key_and_equals_what_was_sent) {
  fake_slack slack{bot_token};
  service svc{with_slack(slack)};
  BOOST_TEST(svc.anonymous().get("/api/v1/canvas/preview").status == 401);
  svc.writer().post("/api/v1/status", update("FCCS", "Consolidation", "OK", {{"job_id", "PV_1"}}));
  BOOST_REQUIRE(eventually([&] { return contains(slack.document("F100"), "PV_1"); }, 10s));
  json p;
  BOOST_REQUIRE(eventually([&] {
    auto r = svc.reader().get("/api/v1/canvas/preview?channel=C100");
    if (r.status != 200)
      return false;
    p = r.json();
    return p["canvases"].size() == 1 && p["canvases"][0]["markdown"] == slack.document("F100");
  }, 10s));
  BOOST_TEST(p["canvases"][0]["channel"] == "C100");
  BOOST_TEST(p["canvases"][0]["canvas_id"] == "F100");
  auto all = svc.reader().get("/api/v1/canvas/preview");
  BOOST_TEST(all.status == 200);
  BOOST_TEST(all.json()["canvases"].size() == 2u);
  BOOST_TEST(svc.reader().get("/api/v1/canvas/preview?channel=C999").status == 400);
}

BOOST_AUTO_TEST_CASE(sync_is_refused_for_write_and_read_keys_and_performed_for_admin) {
  fake_slack slack{bot_token};
  service svc{with_slack(slack)};
  auto w = svc.writer().post("/api/v1/canvas/sync", json::object());
  BOOST_TEST(w.status == 403, w.describe());
  BOOST_TEST(w.error_code() == "FORBIDDEN");
  auto rd = svc.reader().post("/api/v1/canvas/sync", json::object());
  BOOST_TEST(rd.status == 403);
  BOOST_TEST(rd.error_code() == "FORBIDDEN");

  BOOST_REQUIRE(eventually([&] { return !slack.applied_edits_of("F100").empty(); }, 10s));
  auto before = slack.applied_edits_of("F100").size();
  auto a = svc.admin().post("/api/v1/canvas/sync", json::object());
  BOOST_REQUIRE_EQUAL(a.status, 200);
  auto j = a.json();
  BOOST_TEST(j["success"] == true, j.dump());
  BOOST_TEST(j["canvas_id"] == "F100");
  BOOST_TEST(j["channel"] == "C100");
  BOOST_TEST(j["updated_at"].is_string());
  BOOST_TEST(j["canvases"].size() == 2u);
  BOOST_TEST(slack.applied_edits_of("F100").size() == before + 1);

  slack.fail_always_with_error("not_in_channel");
  auto bad = svc.admin().post("/api/v1/canvas/sync", json::object());
  BOOST_TEST(bad.status == 502, bad.describe());
  BOOST_TEST(bad.error_code() == "SLACK_ERROR");
  BOOST_TEST(bad.json()["error"]["details"]["error"] == "not_in_channel", bad.describe());
  auto health = svc.anonymous().get("/api/v1/health").json();
  BOOST_TEST(health["checks"]["slack_api"] == "error: not_in_channel", health.dump());
}

BOOST_AUTO_TEST_CASE(the_bot_token_never_appears_in_the_log) {
  fake_slack slack{bot_token};
  service svc{with_slack(slack)};
  // Arm the failure only after the start-up sync, so that it hits the push.
  BOOST_REQUIRE(eventually([&] { return !slack.applied_edits_of("F100").empty() &&
                                        !slack.applied_edits_of("F200").empty(); }, 10s));
  slack.fail_next_with_error("invalid_auth", 1, "canvases.edit");
  svc.writer().post("/api/v1/status", update("Planning", "Budget", "OK", {{"job_id", "TK_1"}}));
  BOOST_REQUIRE(eventually([&] {
    return svc.anonymous().get("/api/v1/health").json()["checks"]["slack_api"]
           == "error: invalid_auth";
  }, 10s));
  // An auth error stops the canvases until auth.test passes again: a sync
  // re-checks at once (the token is fine now) and sends the newest state.
  svc.writer().post("/api/v1/status", update("Planning", "Budget", "OK", {{"job_id", "TK_2"}}));
  auto s = svc.admin().post("/api/v1/canvas/sync", json::object());
  BOOST_TEST(s.status == 200, s.describe());
  BOOST_TEST(contains(slack.document("F100"), "TK_2"));
  BOOST_TEST(!contains(svc.anonymous().get("/api/v1/health").body, bot_token));
  auto log = svc.server().log_text();
  BOOST_TEST(!log.empty());
  BOOST_TEST(!contains(log, bot_token));
  BOOST_TEST(!contains(log, "xoxb-"));
}

BOOST_AUTO_TEST_CASE(a_token_without_canvases_write_shows_the_fix_in_health_until_granted) {
  fake_slack slack{bot_token};
  slack.edit_contract([](slack_contract& k) { k.scopes = {"chat:write", "channels:read"}; });
  service svc{with_slack(slack)};
  json h;
  BOOST_REQUIRE(eventually([&] {
    h = svc.anonymous().get("/api/v1/health").json();
    return h["checks"]["slack_api"] == "error: missing_scope";
  }, 10s));
  BOOST_TEST(h["status"] == "degraded", h.dump());
  const auto& auth = h["checks"]["slack_auth"];
  BOOST_TEST(auth["workspace"] == "EPM Operations", h.dump());
  BOOST_TEST(auth["bot_id"] == "B0EPMBOT");
  auto fix = auth["fix"].get<std::string>();
  BOOST_TEST(contains(fix, "canvases:write"), fix);
  BOOST_TEST(contains(fix, "Bot Token Scopes"), fix);
  BOOST_TEST(slack.calls_to("canvases.edit").empty()); // nothing sent with a useless token
  auto refused = svc.admin().post("/api/v1/canvas/sync", json::object());
  BOOST_TEST(refused.status == 502, refused.describe());
  BOOST_TEST(refused.json()["error"]["details"]["error"] == "missing_scope", refused.describe());

  // Granted and reinstalled: a sync re-checks and sends every canvas.
  slack.edit_contract([](slack_contract& k) { k.scopes.push_back("canvases:write"); });
  auto ok = svc.admin().post("/api/v1/canvas/sync", json::object());
  BOOST_TEST(ok.status == 200, ok.describe());
  BOOST_TEST(!slack.applied_edits_of("F100").empty());
  auto healthy = svc.anonymous().get("/api/v1/health");
  BOOST_TEST(healthy.json()["checks"]["slack_api"] == "ok", healthy.body);
  BOOST_TEST(!contains(healthy.body, bot_token));
  auto log = svc.server().log_text();
  BOOST_TEST(contains(log, "EPM Operations")); // the workspace and the bot, named at start
  BOOST_TEST(contains(log, "U0EPMBOT"));
  BOOST_TEST(!contains(log, bot_token));
}

BOOST_AUTO_TEST_CASE(canvas_editing_failed_logs_its_detail_and_health_shows_the_fix) {
  fake_slack slack{bot_token};
  service svc{with_slack(slack)};
  // Both start-up edits first: the scripted answer is for the push's edit.
  BOOST_REQUIRE(eventually([&] { return !slack.applied_edits_of("F100").empty() &&
                                        !slack.applied_edits_of("F200").empty(); }, 10s));
  slack.edit_contract([](slack_contract& k) {
    k.fail_next_with_body("canvases.edit", {{"ok", false},
                                            {"error", "canvas_editing_failed"},
                                            {"detail", "section is locked by another edit"}});
  });
  svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK", {{"job_id", "EF_9"}}));
  json c100;
  BOOST_REQUIRE(eventually([&] {
    c100 = svc.anonymous().get("/api/v1/health").json()["checks"]["canvases"]["C100"];
    return c100["status"] == "error: canvas_editing_failed";
  }, 10s));
  BOOST_TEST(contains(c100["fix"].get<std::string>(), "section is locked by another edit"),
             c100.dump());
  BOOST_TEST(contains(svc.server().log_text(), "section is locked by another edit"));
}

BOOST_AUTO_TEST_CASE(without_a_token_the_canvas_side_is_disabled) {
  service_options o;
  o.config = canvas_config();
  service svc{o};
  auto s = svc.admin().post("/api/v1/canvas/sync", json::object());
  BOOST_TEST(s.status == 503, s.describe());
  BOOST_TEST(s.error_code() == "SLACK_DISABLED");
  auto h = svc.anonymous().get("/api/v1/health").json();
  BOOST_TEST(h["checks"]["slack_api"] == "disabled", h.dump());
  auto p = svc.reader().get("/api/v1/canvas/preview");
  BOOST_TEST(p.status == 200);
  BOOST_TEST(contains(p.json()["canvases"][0]["markdown"].get<std::string>(), "## Planning"));
}

BOOST_AUTO_TEST_SUITE_END() // canvas_api_tests
