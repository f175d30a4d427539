#include <boost/test/unit_test.hpp>
#include <boost/test/data/test_case.hpp>

// Slack's error and token answers as Slack documents them (the contract in
// tests/fakes/slack_contract.hpp), met by the canvas actor on the simulated
// system: transient codes retried with backoff, auth codes stopping every
// canvas until auth.test passes again, auth.test and the granted scopes at
// start-up, per-channel errors in health with the fix, and a channel whose
// canvas already exists. Sources: docs/integrations.md.

#include "tests/support/canvas_actor_fixture.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(canvas_errors_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace epmpulse::test::canvas_fixtures;
using namespace std::chrono_literals;
namespace bdata = boost::unit_test::data;
using nlohmann::json;

namespace {

std::size_t count_calls(const std::vector<slack_call>& calls, const std::string& method) {
  return slack_calls_to(calls, method).size();
}

bool has(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(canvas_errors_suite, canvas_fixture)

// -- transient codes ----------------------------------------------------------------

// internal_error "likely due to a transient issue", fatal_error, service_unavailable,
// request_timeout (POST data truncated), ratelimited without Retry-After: the same
// call may succeed, so it is retried after 1 s like a 5xx instead of waiting for
// the next change.
BOOST_DATA_TEST_CASE_F(canvas_fixture, transient_ok_false_codes_are_retried_with_backoff,
                       bdata::make({"internal_error", "fatal_error", "service_unavailable",
                                    "request_timeout", "ratelimited"}),
                       code) {
  start_and_settle();
  slack->workspace.fail_next({"canvases.edit", 200, code, 0});
  push("Planning", "Actual", job_status::loading, "TR_1");
  BOOST_REQUIRE_EQUAL(slack->edits_of("F1").size(), 1u);
  BOOST_TEST(slack->applied_edits_of("F1").empty());
  BOOST_TEST(health().degraded); // retrying
  sim.advance(999ms);
  BOOST_TEST(slack->edits_of("F1").size() == 1u);
  sim.advance(1ms);
  auto applied = slack->applied_edits_of("F1");
  BOOST_REQUIRE_EQUAL(applied.size(), 1u);
  BOOST_TEST(contains(applied[0].markdown, "TR_1"));
  auto h = health();
  BOOST_TEST(h.canvases[0].status == "ok");
  BOOST_TEST(!h.degraded);
}

// -- auth codes ---------------------------------------------------------------------

BOOST_DATA_TEST_CASE_F(canvas_fixture, an_auth_code_stops_every_canvas_until_auth_test_passes,
                       bdata::make({"invalid_auth", "token_revoked", "account_inactive",
                                    "token_expired", "not_allowed_token_type"}),
                       code) {
  start_and_settle();
  slack->contract.token_error = code;
  push("Planning", "Actual", job_status::loading, "AU_1");
  BOOST_REQUIRE_EQUAL(slack->calls.size(), 1u); // that edit, refused
  push("ARCS", "Reconciliation", job_status::ok, "AU_2");
  sim.advance(2min);
  BOOST_TEST(slack->calls.size() == 1u); // no canvas calls Slack with a refused token
  auto h = health();
  BOOST_TEST(h.slack_api == std::string{"error: "} + code);
  BOOST_TEST(h.degraded);
  BOOST_TEST(!h.auth.fix.empty());
  BOOST_TEST(h.canvases[1].dirty);
  auto text = h.checks().dump();
  BOOST_TEST(contains(text, "\"fix\""));
  BOOST_TEST(!contains(text, token));

  // The re-check every 5 minutes: still refused, nothing else is sent.
  sim.advance(3min);
  BOOST_TEST(count_calls(slack->calls, "auth.test") == 1u);
  BOOST_TEST(slack->calls.size() == 2u);
  // Fixed: the next re-check passes and both canvases get the newest state.
  slack->contract.token_error.clear();
  sim.advance(5min);
  BOOST_TEST(count_calls(slack->calls, "auth.test") == 2u);
  BOOST_REQUIRE_EQUAL(slack->applied_edits_of("F1").size(), 1u);
  BOOST_REQUIRE_EQUAL(slack->applied_edits_of("F2").size(), 1u);
  BOOST_TEST(contains(slack->applied_edits_of("F1")[0].markdown, "AU_1"));
  BOOST_TEST(contains(slack->applied_edits_of("F2")[0].markdown, "AU_2"));
  h = health();
  BOOST_TEST(h.slack_api == "ok");
  BOOST_TEST(h.auth.status == "ok");
  BOOST_TEST(!h.degraded);
}

BOOST_AUTO_TEST_CASE(a_pending_backoff_retry_does_not_call_slack_with_a_refused_token) {
  start_and_settle();
  slack->workspace.fail_next({"canvases.edit", 503, "", 0});
  push("ARCS", "Reconciliation", job_status::loading, "BR_1"); // C2: 503, retry in 1 s
  slack->contract.token_error = "invalid_auth";
  push("Planning", "Actual", job_status::loading, "BR_2"); // C1: refused token
  BOOST_REQUIRE_EQUAL(slack->calls.size(), 2u);
  sim.advance(1min);
  BOOST_TEST(slack->calls.size() == 2u);
  slack->contract.token_error.clear();
  sim.advance(5min); // the re-check passes: both canvases are sent
  BOOST_TEST(contains(slack->workspace.document("F2"), "BR_1"));
  BOOST_TEST(contains(slack->workspace.document("F1"), "BR_2"));
}

BOOST_AUTO_TEST_CASE(missing_scope_shows_needed_and_provided_and_a_sync_resumes_once_granted) {
  start_and_settle();
  slack->contract.scopes = {"canvases:read", "channels:read"};
  push("Planning", "Actual", job_status::loading, "MS_1");
  auto edits = slack->edits_of("F1");
  BOOST_REQUIRE_EQUAL(edits.size(), 1u);
  BOOST_TEST(edits[0].error == "missing_scope");
  auto h = health();
  BOOST_TEST(h.slack_api == "error: missing_scope");
  BOOST_TEST(contains(h.auth.fix, "needed: canvases:write"), h.auth.fix);
  BOOST_TEST(contains(h.auth.fix, "provided: canvases:read,channels:read"), h.auth.fix);
  BOOST_TEST(contains(h.auth.fix, "Bot Token Scopes"));
  push("Planning", "Budget", job_status::ok, "MS_2");
  BOOST_TEST(slack->calls.size() == 1u);

  // A sync re-checks the token first: the header still lacks canvases:write.
  auto refused = sync();
  BOOST_TEST(count_calls(slack->calls, "auth.test") == 1u);
  BOOST_TEST(slack->edits_of("F1").size() == 1u);
  BOOST_REQUIRE_EQUAL(refused.canvases.size(), 2u);
  BOOST_TEST(!refused.canvases[0].ok);
  BOOST_TEST(refused.canvases[0].error == "missing_scope");
  // Granted (and the app reinstalled): the next sync sends both canvases.
  slack->contract.scopes.push_back("canvases:write");
  auto ok = sync();
  BOOST_TEST(ok.all_sent());
  BOOST_TEST(contains(slack->workspace.document("F1"), "MS_2"));
  BOOST_TEST(health().slack_api == "ok");
}

// -- start-up -----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(start_up_asks_auth_test_first_and_names_workspace_and_bot) {
  start();
  BOOST_REQUIRE(!slack->calls.empty());
  BOOST_TEST(slack->calls.front().method == "auth.test");
  BOOST_TEST(slack->calls.front().authorization == std::string{"Bearer "} + token);
  auto h = health();
  BOOST_TEST(h.auth.status == "ok");
  BOOST_TEST(h.auth.team == "EPM Operations");
  BOOST_TEST(h.auth.team_id == "T0EPMOPS");
  BOOST_TEST(h.auth.bot_user == "epmpulse");
  BOOST_TEST(h.auth.bot_id == "B0EPMBOT");
  BOOST_TEST(has(h.auth.scopes, "canvases:write"));
  BOOST_TEST(h.auth.missing_scopes.empty());
  auto checks = h.checks();
  BOOST_TEST(checks["slack_auth"]["workspace"] == "EPM Operations");
  BOOST_TEST(!h.degraded);
}

BOOST_AUTO_TEST_CASE(a_token_without_canvases_write_sends_nothing_and_health_says_how_to_fix) {
  slack->contract.scopes = {"chat:write"};
  start();
  BOOST_TEST(slack->calls.size() == 1u); // auth.test only
  auto h = health();
  BOOST_TEST(h.slack_api == "error: missing_scope");
  BOOST_TEST(has(h.auth.missing_scopes, "canvases:write"));
  BOOST_TEST(contains(h.auth.fix, "canvases:write"), h.auth.fix);
  BOOST_TEST(contains(h.auth.fix, "reinstall"));
  BOOST_TEST(h.degraded);
  BOOST_TEST(h.canvases[0].dirty);
}

BOOST_AUTO_TEST_CASE(creating_canvases_without_channels_read_is_a_health_check) {
  cfg.channels[0].canvas_id.clear();
  cfg.settings.slack.create_missing_canvases = true;
  slack->contract.scopes = {"canvases:write"};
  start();
  auto h = health();
  BOOST_TEST(h.slack_api == "ok");
  BOOST_TEST(has(h.auth.missing_scopes, "channels:read"));
  BOOST_TEST(h.degraded);
}

// -- per-channel codes ------------------------------------------------------------

BOOST_DATA_TEST_CASE_F(canvas_fixture, a_missing_canvas_shows_in_its_channels_health_with_the_fix,
                       bdata::make({"canvas_not_found", "canvas_deleted"}), code) {
  start_and_settle();
  slack->contract.fail_next_with_body("canvases.edit", {{"ok", false}, {"error", code}});
  push("Planning", "Actual", job_status::loading, "NF_1");
  auto h = health();
  BOOST_TEST(h.canvases[0].status == std::string{"error: "} + code);
  BOOST_TEST(contains(h.canvases[0].fix, "channels.C1.canvas_id"), h.canvases[0].fix);
  BOOST_TEST(h.canvases[1].status == "ok");
  BOOST_TEST(h.canvases[1].fix.empty());
  BOOST_TEST(h.slack_api == std::string{"error: "} + code);
  BOOST_TEST(h.degraded);
  BOOST_TEST(h.checks()["canvases"]["C1"]["fix"] == h.canvases[0].fix);
}

BOOST_AUTO_TEST_CASE(canvas_editing_failed_shows_its_detail_in_the_fix) {
  start_and_settle();
  slack->contract.fail_next_with_body(
    "canvases.edit",
    {{"ok", false}, {"error", "canvas_editing_failed"}, {"detail", "table has too many columns"}});
  push("Planning", "Actual", job_status::loading, "EF_1");
  auto h = health();
  BOOST_TEST(h.canvases[0].status == "error: canvas_editing_failed");
  BOOST_TEST(contains(h.canvases[0].fix, "table has too many columns"), h.canvases[0].fix);
}

// -- a channel that already has a canvas ------------------------------------------

BOOST_AUTO_TEST_CASE(an_existing_channel_canvas_is_found_with_conversations_info_and_kept) {
  cfg.channels[0].canvas_id.clear();
  cfg.settings.slack.create_missing_canvases = true;
  slack->contract.channel_canvases["C1"] = "F777";
  slack->workspace.put_canvas("F777", "# Notes someone wrote\n");
  start();
  BOOST_TEST(count_calls(slack->calls, "conversations.canvases.create") == 1u);
  auto info = slack_calls_to(slack->calls, "conversations.info");
  BOOST_REQUIRE_EQUAL(info.size(), 1u);
  BOOST_TEST(info[0].channel_id == "C1");
  BOOST_REQUIRE_EQUAL(slack->applied_edits_of("F777").size(), 1u);
  BOOST_TEST(contains(slack->workspace.document("F777"), "## Planning"));
  auto h = health();
  BOOST_TEST(h.canvases[0].canvas_id == "F777");
  BOOST_TEST(h.canvases[0].status == "ok");
  BOOST_TEST(contains(read_file(data.file(canvas_ids_file_name)), "F777"));
  sim.advance(interval + 1s);
  push("Planning", "Actual", job_status::ok, "EX_1");
  BOOST_TEST(count_calls(slack->calls, "conversations.canvases.create") == 1u);
  BOOST_TEST(contains(slack->workspace.document("F777"), "EX_1"));
}

BOOST_AUTO_TEST_CASE(a_channel_canvas_whose_id_cannot_be_read_is_never_created_again) {
  cfg.channels[0].canvas_id.clear();
  cfg.settings.slack.create_missing_canvases = true;
  slack->contract.channel_canvases["C1"] = "F777";
  slack->contract.scopes = {"canvases:write"}; // conversations.info needs channels:read
  start();
  auto h = health();
  BOOST_TEST(h.canvases[0].status == "error: channel_canvas_already_exists");
  BOOST_TEST(contains(h.canvases[0].fix, "set channels.C1.canvas_id"), h.canvases[0].fix);
  BOOST_TEST(contains(h.canvases[0].fix, "missing_scope"), h.canvases[0].fix);
  for (int k = 0; k < 3; ++k) {
    sim.advance(interval + 1s);
    push("Planning", "Actual", job_status::ok, "NC_" + std::to_string(k));
    sim.advance(2min);
  }
  BOOST_TEST(count_calls(slack->calls, "conversations.canvases.create") == 1u);
  // A sync (the operator fixed something) looks once more, and only once.
  auto reply = sync();
  BOOST_TEST(count_calls(slack->calls, "conversations.canvases.create") == 2u);
  BOOST_TEST(!reply.canvases[0].ok);
  BOOST_TEST(reply.canvases[0].error == "channel_canvas_already_exists");
  BOOST_TEST(reply.canvases[1].ok);
}

BOOST_AUTO_TEST_SUITE_END() // canvas_errors_suite

BOOST_AUTO_TEST_SUITE_END() // canvas_errors_tests
