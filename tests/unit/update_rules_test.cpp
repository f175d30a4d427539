#include <boost/test/unit_test.hpp>

// The canvas actor's decisions without an actor: what a render needs sent,
// what Slack's answers mean, retry delays, the canvas ids file.

#include "actors/canvas/update_rules.hpp"
#include "tests/support/printing.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(update_rules_tests)

using namespace epmpulse;
using namespace epmpulse::canvas;
using namespace std::chrono_literals;

namespace {

rendered_canvas three_sections(const std::string& app_text) {
  rendered_canvas r;
  r.sections.push_back({"header", "# Dashboard\n"});
  r.sections.push_back({"app:A", "## A\n" + app_text});
  r.sections.push_back({"recent", "### Recent jobs\n"});
  return r;
}

slack::api_result answer(slack::api_result::kind k, std::string error = {},
                         nlohmann::json body = nlohmann::json::object()) {
  slack::api_result r;
  r.outcome = k;
  r.error = std::move(error);
  r.body = std::move(body);
  return r;
}

bool contains_text(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_render_is_sent_whole_or_not_at_all) {
  auto sent = three_sections("old\n");
  auto fresh = three_sections("new\n");
  BOOST_TEST((plan_send(sent, sent, true, false) == send_plan::unchanged));
  BOOST_TEST((plan_send(sent, sent, true, true) == send_plan::full)); // a sync
  BOOST_TEST((plan_send(sent, fresh, false, false) == send_plan::create));
  BOOST_TEST((plan_send(sent, fresh, true, false) == send_plan::full));
  BOOST_TEST((plan_send(std::nullopt, fresh, true, false) == send_plan::full));
}

BOOST_AUTO_TEST_CASE(slack_answers_become_outcomes) {
  using kind = slack::api_result::kind;
  auto limited = answer(kind::rate_limited, "ratelimited");
  limited.retry_after_sec = 30;
  BOOST_TEST((outcome_of(limited).result == attempt_outcome::kind::rate_limited));
  BOOST_TEST(outcome_of(limited).retry_after_sec == 30);
  BOOST_TEST((outcome_of(answer(kind::server_error, "http_503")).result
              == attempt_outcome::kind::failed));
  BOOST_TEST((outcome_of(answer(kind::refused, "x")).result == attempt_outcome::kind::refused));
  BOOST_TEST(outcome_of(answer(kind::ok)).in_step());

  auto created = read_create_answer(answer(kind::ok, "", {{"ok", true}, {"canvas_id", "F9"}}));
  BOOST_TEST(created.canvas_id == "F9");
  auto no_id = read_create_answer(answer(kind::ok, "", {{"ok", true}}));
  BOOST_TEST(no_id.canvas_id.empty());
  BOOST_TEST(no_id.failure.error == "bad_response");

}

BOOST_AUTO_TEST_CASE(retries_back_off_then_go_periodic) {
  auto at = [](int attempts) { return plan_retry(attempts, 3, 1000ms, 60000ms); };
  BOOST_TEST((at(1).delay == 1s));
  BOOST_TEST((at(2).delay == 2s));
  BOOST_TEST((at(3).delay == 4s));
  BOOST_TEST(!at(3).backoff_used_up);
  BOOST_TEST((at(4).delay == 60s));
  BOOST_TEST(at(4).backoff_used_up);
  BOOST_TEST((plan_retry(1, 0, 1000ms, 60000ms).delay == 60s)); // no backoff at all
}

BOOST_AUTO_TEST_CASE(canvas_ids_file_round_trips_and_keeps_only_unconfigured_channels) {
  config::service_config cfg;
  cfg.channels.push_back({"C1", "one", "F1"});
  cfg.channels.push_back({"C2", "two", ""});
  auto keep = ids_to_keep(cfg, {{"C1", "F1"}, {"C2", "F77"}, {"C9", "F99"}});
  BOOST_TEST((keep == std::map<std::string, std::string>{{"C2", "F77"}}));
  auto back = parse_canvas_ids(canvas_ids_text(keep));
  BOOST_REQUIRE(back);
  BOOST_TEST((*back == keep));
  auto skipped = parse_canvas_ids(R"({"canvases": {"C2": "F1", "C3": 7}})");
  BOOST_REQUIRE(skipped);
  BOOST_TEST(skipped->size() == 1u);
  BOOST_TEST(!parse_canvas_ids("not json"));
  BOOST_TEST(!parse_canvas_ids(R"({"canvases": []})"));
}

BOOST_AUTO_TEST_CASE(slacks_documented_error_answers_are_classified) {
  using kind = slack::api_result::kind;
  auto slack_answer = [](nlohmann::json body, std::map<std::string, std::string> headers = {}) {
    http_response res;
    res.status = 200;
    res.body = body.dump();
    res.headers = std::move(headers);
    return slack::classify(res);
  };
  auto error = [&](const char* code) {
    return slack_answer({{"ok", false}, {"error", code}});
  };
  for (auto code : {"internal_error", "fatal_error", "service_unavailable", "request_timeout",
                    "ratelimited"})
    BOOST_TEST((error(code).outcome == kind::server_error), code);
  auto limited = slack_answer({{"ok", false}, {"error", "ratelimited"}}, {{"retry-after", "7"}});
  BOOST_TEST((limited.outcome == kind::rate_limited));
  BOOST_TEST(limited.retry_after_sec == 7);
  for (auto code : {"invalid_auth", "not_authed", "token_revoked", "account_inactive",
                    "token_expired", "not_allowed_token_type", "missing_scope"})
    BOOST_TEST((error(code).outcome == kind::unauthorized), code);
  BOOST_TEST((error("canvas_not_found").outcome == kind::refused));
  BOOST_TEST((error("channel_canvas_already_exists").outcome == kind::refused));

  auto scope = slack_answer({{"ok", false}, {"error", "missing_scope"},
                             {"needed", "canvases:write"}, {"provided", "chat:write"}});
  BOOST_TEST(scope.needed == "canvases:write");
  BOOST_TEST(outcome_of(scope).detail == "needed: canvases:write; provided: chat:write");
  BOOST_TEST((outcome_of(scope).result == attempt_outcome::kind::unauthorized));
  auto editing = slack_answer({{"ok", false}, {"error", "canvas_editing_failed"},
                               {"detail", "bad table"}});
  BOOST_TEST(outcome_of(editing).detail == "bad table");
  BOOST_TEST(contains_text(channel_fix(outcome_of(editing), "C1", "F1"), "bad table"));

  auto who = slack_answer({{"ok", true}, {"team", "W"}, {"team_id", "T1"}, {"user", "bot"},
                           {"user_id", "U1"}, {"bot_id", "B1"}},
                          {{"x-oauth-scopes", "canvases:write, canvases:read,channels:read"}});
  BOOST_TEST(who.scopes_known);
  BOOST_TEST((who.scopes == std::vector<std::string>{"canvases:write", "canvases:read",
                                                      "channels:read"}));
  BOOST_TEST(slack::read_identity(who.body).bot_id == "B1");
  BOOST_TEST(check_scopes(who.scopes, true).fix.empty());
  auto bare = check_scopes({"chat:write"}, true);
  BOOST_TEST((bare.missing_required == std::vector<std::string>{"canvases:write"}));
  BOOST_TEST((bare.missing_optional == std::vector<std::string>{"channels:read"}));
  BOOST_TEST(check_scopes({"canvases:write"}, false).fix.empty());

  nlohmann::json info = {{"ok", true},
                         {"channel", {{"id", "C1"}, {"properties", {{"canvas", {{"file_id", "F7"}}}}}}}};
  BOOST_TEST(slack::channel_canvas_id(info) == "F7");
  BOOST_TEST(slack::channel_canvas_id({{"ok", true}, {"channel", {{"id", "C1"}}}}).empty());
  auto exists = read_create_answer(error("channel_canvas_already_exists"));
  BOOST_TEST(exists.already_exists);
}

BOOST_AUTO_TEST_SUITE_END() // update_rules_tests
