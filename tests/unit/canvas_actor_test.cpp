#include <boost/test/unit_test.hpp>

// The canvas actor on the simulated system (tests/support/canvas_actor_fixture.hpp):
// debounce, rate limits, outages, sections mode, sync, preview, creation and
// the calls of a typical day. Slack's error and token answers are in
// canvas_errors_test.cpp; the real HTTP path is covered by integration.canvas_api.

#include <sys/stat.h>

#include <cstdio>

#include "tests/support/canvas_actor_fixture.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(canvas_actor_tests)

using namespace epmpulse;
using namespace epmpulse::test;
using namespace epmpulse::test::canvas_fixtures;
using namespace std::chrono_literals;

BOOST_FIXTURE_TEST_SUITE(canvas_actor_suite, canvas_fixture)

// -- start-up and debounce -------------------------------------------------------

BOOST_AUTO_TEST_CASE(start_up_sends_every_canvas_once_each_with_only_its_apps) {
  start();
  auto f1 = slack->applied_edits_of("F1");
  auto f2 = slack->applied_edits_of("F2");
  BOOST_REQUIRE_EQUAL(f1.size(), 1u);
  BOOST_REQUIRE_EQUAL(f2.size(), 1u);
  BOOST_TEST(f1[0].section_id.empty()); // a whole-canvas replace
  BOOST_TEST(contains(f1[0].markdown, "## Planning"));
  BOOST_TEST(contains(f1[0].markdown, "## FCCS"));
  BOOST_TEST(!contains(f1[0].markdown, "ARCS"));
  BOOST_TEST(contains(f2[0].markdown, "## ARCS"));
  BOOST_TEST(!contains(f2[0].markdown, "Planning"));
  for (const auto& c : slack->calls)
    BOOST_TEST(c.authorization == std::string{"Bearer "} + token);
  auto h = health();
  BOOST_TEST(h.slack_api == "ok");
  BOOST_TEST(!h.degraded);
  BOOST_TEST(h.canvases[0].last_success.has_value());
  BOOST_TEST(!h.canvases[0].dirty);
  // Nothing happens on its own afterwards (auth.test, then the two edits).
  sim.advance(10min);
  BOOST_TEST(slack->calls.size() == 3u);
}

BOOST_AUTO_TEST_CASE(burst_of_200_changes_gives_two_edits_the_last_with_the_final_state) {
  start_and_settle();
  for (int k = 0; k < 200; ++k) {
    push("Planning", "Actual", job_status::loading, "JOB_" + std::to_string(k));
    sim.advance(5ms); // the burst spans half the interval
  }
  sim.advance(5s);
  auto edits = slack->edits_of("F1");
  BOOST_REQUIRE_EQUAL(edits.size(), 2u);
  BOOST_TEST(contains(edits[0].markdown, "JOB_0")); // leading: the first change at once
  BOOST_TEST(contains(edits[1].markdown, "JOB_199")); // trailing: the newest state
  auto gap = edits[1].received - edits[0].received;
  BOOST_TEST((gap >= interval && gap < interval + 10ms));
  BOOST_TEST(slack->edits_of("F2").empty()); // ARCS did not change
  BOOST_TEST(!health().canvases[0].dirty);
}

BOOST_AUTO_TEST_CASE(leading_edge_renders_at_once_and_trailing_edge_sends_the_newest_state) {
  start_and_settle();
  push("FCCS", "Consolidation", job_status::loading, "LEAD_1");
  BOOST_REQUIRE_EQUAL(slack->edits_of("F1").size(), 1u);
  BOOST_TEST(contains(slack->workspace.document("F1"), "LEAD_1"));
  auto leading_at = slack->calls.back().received;
  sim.advance(100ms);
  push("FCCS", "Consolidation", job_status::ok, "LEAD_1");
  sim.advance(100ms);
  push("FCCS", "Consolidation", job_status::warning, "LEAD_2", "boom");
  BOOST_TEST(health().canvases[0].dirty);
  // Nothing more until the interval since the leading render is over...
  sim.advance(interval - 201ms);
  BOOST_TEST(slack->edits_of("F1").size() == 1u);
  // ...then one render of the newest state.
  sim.advance(10ms);
  auto edits = slack->edits_of("F1");
  BOOST_REQUIRE_EQUAL(edits.size(), 2u);
  BOOST_TEST(contains(edits[1].markdown, "LEAD_2"));
  BOOST_TEST(contains(edits[1].markdown, "boom"));
  BOOST_TEST((edits[1].received - leading_at >= interval));
  BOOST_TEST(!health().canvases[0].dirty);
}

BOOST_AUTO_TEST_CASE(an_identical_render_is_not_sent) {
  start_and_settle();
  auto before = metrics();
  // A notification whose rendered canvas is identical (same state).
  notify(std::make_shared<const std::vector<domain_change>>(
    std::vector<domain_change>{domain_change{"Planning", "Actual", {}, {}}}));
  BOOST_TEST(metrics().renders_unchanged == before.renders_unchanged + 1);
  BOOST_TEST(slack->calls.empty());
  BOOST_TEST(!health().canvases[0].dirty);
}

BOOST_AUTO_TEST_CASE(a_mark_change_is_debounced_with_status_changes_and_touches_only_its_canvas) {
  start_and_settle();
  auto marks_of = [](std::string state) {
    auto m = std::make_shared<canvas::domain_marks>();
    (*m)["Planning"]["Actual"] = {std::move(state), std::nullopt, std::nullopt, ""};
    return canvas::canvas_marks{m};
  };
  auto send_marks = [&](canvas::canvas_marks m) {
    caf::anon_send(*canvas, expectation_atom_v, std::move(m));
    sim.run();
  };
  // The first mark renders at once (leading edge), on F1 only.
  send_marks(marks_of("late"));
  auto edits = slack->edits_of("F1");
  BOOST_REQUIRE_EQUAL(edits.size(), 1u);
  BOOST_TEST(contains(edits[0].markdown, "**Actual**: Blank · ⏰ **late**"), edits[0].markdown);
  // A burst of a push and the mark going away: one trailing edit of the newest of both.
  sim.advance(100ms);
  push("Planning", "Actual", job_status::loading, "MARK_1");
  sim.advance(100ms);
  send_marks(marks_of("on_time"));
  BOOST_TEST(slack->edits_of("F1").size() == 1u);
  sim.advance(interval);
  edits = slack->edits_of("F1");
  BOOST_REQUIRE_EQUAL(edits.size(), 2u);
  BOOST_TEST(contains(edits[1].markdown, "MARK_1"));
  BOOST_TEST(!contains(edits[1].markdown, "late"), edits[1].markdown);
  BOOST_TEST(slack->edits_of("F2").empty()); // ARCS has no marks, before or after
  // The same marks again change nothing.
  sim.advance(interval + 1s);
  auto renders = metrics().renders;
  send_marks(marks_of("on_time"));
  sim.advance(interval + 1s);
  BOOST_TEST(metrics().renders == renders);
  BOOST_TEST(slack->edits_of("F1").size() == 2u);
  // A preview shows the marks too.
  send_marks(marks_of("maintenance"));
  auto p = value<preview_reply>(preview_atom_v, std::string{"C1"});
  BOOST_REQUIRE_EQUAL(p.canvases.size(), 1u);
  BOOST_TEST(contains(p.canvases[0].markdown, "🛠️ **maintenance**"));
}

// -- failures ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(rate_limit_429_holds_every_canvas_for_retry_after_then_sends_the_newest) {
  start_and_settle();
  slack->workspace.fail_next({"canvases.edit", 429, "", 3.0});
  push("Planning", "Budget", job_status::loading, "RL_1");
  auto limited_at = sim.now();
  BOOST_REQUIRE_EQUAL(slack->calls.size(), 1u);
  BOOST_TEST(slack->calls[0].status == 429);
  BOOST_TEST(metrics().rate_limited == 1u);
  sim.advance(100ms);
  push("Planning", "Budget", job_status::ok, "RL_2");
  push("ARCS", "Reconciliation", job_status::ok, "RL_ARCS"); // the other canvas waits too
  // A sync during the Retry-After answers at once, without sending.
  auto during = sync();
  BOOST_TEST(!during.all_sent());
  for (const auto& c : during.canvases)
    BOOST_TEST(c.error == "ratelimited");
  BOOST_TEST(slack->calls.size() == 1u);
  sim.advance(limited_at + 3s - 1ms - sim.now());
  BOOST_TEST(slack->calls.size() == 1u);
  sim.advance(2ms);
  auto f1 = slack->edits_of("F1");
  BOOST_REQUIRE_EQUAL(f1.size(), 2u);
  BOOST_TEST(contains(f1[1].markdown, "RL_2")); // the newest, not RL_1
  BOOST_TEST((f1[1].received - f1[0].received >= 3s));
  auto f2 = slack->applied_edits_of("F2");
  BOOST_REQUIRE_EQUAL(f2.size(), 1u);
  BOOST_TEST(contains(f2[0].markdown, "RL_ARCS"));
  BOOST_TEST((f2[0].received - limited_at >= 3s));
  BOOST_TEST(metrics().rate_limited == 1u);
  BOOST_TEST(health().slack_api == "ok");
}

BOOST_AUTO_TEST_CASE(outage_backs_off_1_2_4_s_then_retries_every_minute_until_slack_is_back) {
  start_and_settle();
  // 3 retries (max_retries) plus the first attempt fail, then the canvas
  // stays dirty and is retried every 60 s until Slack is back.
  slack->workspace.fail_next({"canvases.edit", 503, "", 0}, 6);
  push("ARCS", "Reconciliation", job_status::loading, "OUT_1");
  auto h = health();
  BOOST_TEST(h.slack_api == "ok"); // retrying, the backoff not yet used up
  BOOST_TEST(h.degraded);
  sim.advance(7s + 1ms); // the attempts at 1, 3 and 7 s failed too
  h = health();
  BOOST_TEST(h.slack_api == "error: http_503");
  BOOST_TEST(h.degraded);
  BOOST_TEST(h.canvases[1].dirty);
  push("ARCS", "Reconciliation", job_status::ok, "OUT_2"); // waits for the retry
  BOOST_TEST(slack->edits_of("F2").size() == 4u);
  sim.advance(4min);
  auto edits = slack->edits_of("F2");
  BOOST_REQUIRE_EQUAL(edits.size(), 7u); // 6 refused + the one that succeeded
  BOOST_TEST(edits[6].status == 200);
  BOOST_TEST(contains(edits[6].markdown, "OUT_2"));
  const std::chrono::milliseconds waits[] = {1s, 2s, 4s, 60s, 60s, 60s};
  for (std::size_t k = 0; k < 6; ++k)
    BOOST_TEST((edits[k + 1].received - edits[k].received == waits[k]), "wait " << k);
  BOOST_TEST(metrics().retries == 6u);
  h = health();
  BOOST_TEST(h.slack_api == "ok");
  BOOST_TEST(!h.degraded);
  BOOST_TEST(!h.canvases[1].dirty);
}

BOOST_AUTO_TEST_CASE(a_transfer_that_times_out_is_retried_once_the_network_is_back) {
  start_and_settle();
  slack->net = in_process_slack::network::down;
  push("FCCS", "Consolidation", job_status::loading, "NET_1");
  BOOST_REQUIRE_EQUAL(slack->calls.size(), 1u);
  sim.advance(10s - 1ms); // request_timeout_sec
  BOOST_TEST(metrics().failures == 0u);
  sim.advance(1ms);
  BOOST_TEST(metrics().failures == 1u);
  BOOST_TEST(health().degraded);
  slack->net = in_process_slack::network::up;
  sim.advance(1s); // the first backoff
  BOOST_TEST(contains(slack->workspace.document("F1"), "NET_1"));
  BOOST_TEST(health().slack_api == "ok");
  BOOST_TEST(!health().degraded);
}

BOOST_AUTO_TEST_CASE(a_client_that_never_answers_is_given_up_at_the_request_timeout) {
  start_and_settle();
  slack->net = in_process_slack::network::silent;
  push("FCCS", "Consolidation", job_status::loading, "SILENT_1");
  // The request's own timeout: transfer (10 s) + connect (5 s) + 10 s.
  sim.advance(25s - 1ms);
  BOOST_TEST(metrics().failures == 0u);
  BOOST_TEST(health().canvases[0].dirty);
  sim.advance(1ms);
  BOOST_TEST(metrics().failures == 1u);
  slack->net = in_process_slack::network::up;
  sim.advance(1s);
  BOOST_TEST(contains(slack->workspace.document("F1"), "SILENT_1"));
  BOOST_TEST(!health().degraded);
}

BOOST_AUTO_TEST_CASE(ok_false_is_shown_in_health_and_tried_again_only_on_the_next_change) {
  start_and_settle();
  slack->workspace.fail_always_with_error("canvas_not_found");
  push("Planning", "Actual", job_status::ok, "NF_1");
  auto h = health();
  BOOST_TEST(h.slack_api == "error: canvas_not_found");
  BOOST_TEST(h.degraded);
  BOOST_TEST(h.canvases[0].status == "error: canvas_not_found");
  auto calls = slack->calls.size();
  sim.advance(10min); // no blind retry
  BOOST_TEST(slack->calls.size() == calls);
  slack->workspace.fail_always_with_error("");
  push("Planning", "Actual", job_status::ok, "NF_2");
  BOOST_TEST(contains(slack->workspace.document("F1"), "NF_2"));
  BOOST_TEST(health().slack_api == "ok");
}

// -- whole-canvas replaces ------------------------------------------------------------

BOOST_AUTO_TEST_CASE(every_update_replaces_the_whole_canvas_so_no_stale_section_is_left) {
  start_and_settle();
  push("FCCS", "Consolidation", job_status::ok, "WHOLE_1");
  sim.advance(interval + 1s);
  push("Planning", "Budget", job_status::warning, "WHOLE_2", "late");
  auto edits = slack->applied_edits_of("F1");
  BOOST_REQUIRE_EQUAL(edits.size(), 2u);
  for (const auto& e : edits) {
    BOOST_TEST(e.operation == "replace");
    BOOST_TEST(e.section_id.empty()); // never one section: Slack would keep the list under it
    BOOST_TEST(e.body["changes"].size() == 1u); // one operation per call, as documented
  }
  BOOST_TEST(slack->calls_to("canvases.sections.lookup").empty());
  // Slack's copy is the preview, section by section: one heading and one
  // list per app, nothing left over from an earlier render.
  BOOST_TEST(slack->workspace.document("F1") == preview("C1").canvases.at(0).markdown);
  auto outline = slack->workspace.outline("F1");
  std::vector<std::string> expected = {"h1 📊 EPM Status Dashboard", "paragraph", "h2 Planning",
                                       "list", "h2 FCCS", "list", "h3 Recent jobs", "paragraph"};
  BOOST_TEST(outline == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_table_layout_sends_tables_when_asked_for) {
  cfg.settings.slack.layout = config::canvas_layout::table;
  start_and_settle();
  push("FCCS", "Consolidation", job_status::ok, "TAB_1");
  BOOST_TEST(contains(slack->workspace.document("F1"), "| Consolidation | 🟢 OK | TAB_1 |"));
  auto outline = slack->workspace.outline("F1");
  BOOST_TEST(std::count(outline.begin(), outline.end(), "table") == 2);
  BOOST_TEST(slack->workspace.document("F1") == preview("C1").canvases.at(0).markdown);
}

// -- previews ----------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(hostile_message_is_escaped_and_preview_equals_what_was_sent) {
  start_and_settle();
  push("Planning", "Actual", job_status::warning, "EVIL_1",
       "<!channel> @here <https://evil.example|click> *now*\n# big");
  auto sent = slack->workspace.document("F1");
  BOOST_REQUIRE(contains(sent, "EVIL_1"));
  for (const char* bad : {"<!channel>", "@here", "<https", "https://", "*now*", "\n# big"})
    BOOST_TEST(!contains(sent, bad), "sent canvas contains '" << bad << "'");
  auto p = preview("C1");
  BOOST_REQUIRE_EQUAL(p.canvases.size(), 1u);
  BOOST_TEST(p.canvases[0].channel == "C1");
  BOOST_TEST(p.canvases[0].canvas_id == "F1");
  BOOST_TEST(p.canvases[0].markdown == sent);
  BOOST_TEST(preview("").canvases.size() == 2u);
  BOOST_TEST(p.to_json()["success"] == true);
}

BOOST_AUTO_TEST_CASE(preview_of_an_unknown_channel_is_an_invalid_request_with_a_message) {
  start();
  auto unknown = answer<preview_reply>(preview_atom_v, std::string{"C404"});
  BOOST_REQUIRE(!unknown);
  BOOST_TEST(is(unknown.error(), ec::invalid_request));
  BOOST_TEST(message_of(unknown.error()) == "No channel 'C404' is configured.");
}

BOOST_AUTO_TEST_CASE(preview_is_a_state_error_when_the_state_does_not_answer) {
  start_and_settle();
  feed->answering = false;
  push("Planning", "Actual", job_status::ok, "LOST_1"); // the cached snapshot is too old now
  auto p = ask_later<preview_reply>(preview_atom_v, std::string{});
  BOOST_TEST(!p->has_value());
  sim.advance(5s); // state_timeout
  BOOST_REQUIRE(p->has_value());
  BOOST_REQUIRE(!**p);
  BOOST_TEST(is((*p)->error(), ec::state_error));
  BOOST_TEST(message_of((*p)->error()) == "The state did not answer.");
  BOOST_TEST(health().canvases[0].dirty); // the render waits for a retry
}

// -- sync --------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(sync_sends_every_canvas_now_even_when_unchanged_and_answers_per_canvas) {
  start_and_settle();
  auto r = sync();
  BOOST_TEST(r.all_sent());
  BOOST_REQUIRE_EQUAL(r.canvases.size(), 2u);
  BOOST_TEST(r.canvases[0].ok);
  BOOST_TEST(r.canvases[0].channel == "C1");
  BOOST_TEST(r.canvases[0].canvas_id == "F1");
  BOOST_TEST(r.canvases[0].updated_at.has_value());
  BOOST_TEST(r.canvases[1].ok);
  BOOST_TEST(slack->edits_of("F1").size() == 1u);
  BOOST_TEST(slack->edits_of("F2").size() == 1u);
  auto body = r.to_json();
  BOOST_TEST(body["success"] == true);
  BOOST_TEST(body["canvas_id"] == "F1");
  BOOST_TEST(body["channel"] == "C1");

  // A refusal is part of the answer, not an error.
  slack->workspace.fail_next({"canvases.edit", 200, "not_in_channel", 0});
  auto refused = sync();
  BOOST_TEST(!refused.all_sent());
  BOOST_TEST(refused.to_json()["success"] == false);
  int failed = 0;
  for (const auto& c : refused.canvases)
    if (!c.ok) {
      ++failed;
      BOOST_TEST(c.error == "not_in_channel");
    }
  BOOST_TEST(failed == 1);
}

BOOST_AUTO_TEST_CASE(sync_answers_at_its_deadline_for_canvases_slack_did_not_answer) {
  start_and_settle();
  slack->net = in_process_slack::network::silent;
  auto r = ask_later<sync_reply>(sync_atom_v);
  sim.advance(8s - 1ms); // sync_timeout
  BOOST_TEST(!r->has_value());
  sim.advance(1ms);
  BOOST_REQUIRE(r->has_value());
  BOOST_REQUIRE(**r);
  const auto& reply = ***r;
  BOOST_REQUIRE_EQUAL(reply.canvases.size(), 2u);
  for (const auto& c : reply.canvases) {
    BOOST_TEST(!c.ok);
    BOOST_TEST(c.error == "timeout");
  }
}

BOOST_AUTO_TEST_CASE(two_outstanding_syncs_each_get_their_own_answer) {
  cfg.settings.slack.request_timeout_sec = 2.0;
  start_and_settle();
  slack->net = in_process_slack::network::down;
  auto first = ask_later<sync_reply>(sync_atom_v);
  sim.advance(1s);
  auto second = ask_later<sync_reply>(sync_atom_v); // the canvases are busy with the first
  slack->net = in_process_slack::network::up;
  BOOST_TEST(!first->has_value());
  BOOST_TEST(!second->has_value());
  sim.advance(1s); // the first's transfers time out; the second's renders go out
  BOOST_REQUIRE(first->has_value() && **first);
  for (const auto& c : (**first)->canvases)
    BOOST_TEST(c.error == "unreachable");
  BOOST_REQUIRE(second->has_value() && **second);
  BOOST_TEST((**second)->all_sent());
}

BOOST_AUTO_TEST_CASE(without_a_token_it_runs_disabled) {
  cfg.settings.slack.bot_token.clear();
  start();
  BOOST_TEST(health().slack_api == "disabled");
  auto s = answer<sync_reply>(sync_atom_v);
  BOOST_REQUIRE(!s);
  BOOST_TEST(is(s.error(), ec::slack_disabled));
  BOOST_TEST(!message_of(s.error()).empty());
  auto p = preview("");
  BOOST_TEST(p.canvases.size() == 2u);
  BOOST_TEST(contains(p.canvases[0].markdown, "## Planning"));
  push("Planning", "Actual", job_status::ok, "OFF_1");
  BOOST_TEST(contains(preview("C1").canvases[0].markdown, "OFF_1"));
  sim.advance(10min);
  BOOST_TEST(slack->calls.empty());
}

// -- created canvases ------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(missing_canvas_is_created_once_and_its_id_kept_in_the_data_dir) {
  cfg.channels[1].canvas_id.clear();
  cfg.settings.slack.create_missing_canvases = true;
  start();
  auto created = slack->workspace.created();
  BOOST_REQUIRE_EQUAL(created.count("C2"), 1u);
  auto id = created["C2"];
  BOOST_TEST(contains(slack->workspace.document(id), "## ARCS"));
  BOOST_TEST(health().canvases[1].canvas_id == id);
  // The writer ran on the simulated scheduler: the file is there now.
  auto file = data.file(canvas_ids_file_name);
  struct stat st {};
  BOOST_REQUIRE(::stat(file.c_str(), &st) == 0);
  BOOST_TEST((st.st_mode & 0777) == 0600);
  BOOST_TEST(contains(read_file(file), id));
  BOOST_TEST(!contains(read_file(file), "\"C1\"")); // the config names C1's canvas

  // A restart uses the kept id: no second create.
  stop_canvas();
  slack->calls.clear();
  start();
  BOOST_TEST(slack->applied_edits_of(id).size() == 1u);
  BOOST_TEST(slack->calls_to("conversations.canvases.create").empty());
}

BOOST_AUTO_TEST_CASE(spawn_refuses_options_it_cannot_work_with) {
  auto o = options();
  o.config = nullptr;
  BOOST_TEST(!spawn_canvas(sim.system(), o));
  o = options();
  o.state = canvas_state_feed{};
  BOOST_TEST(!spawn_canvas(sim.system(), o));
  // Created ids could not be kept without a data dir: each start would create again.
  cfg.channels[1].canvas_id.clear();
  cfg.settings.slack.create_missing_canvases = true;
  o = options();
  caf::anon_send_exit(o.ids_writer, caf::exit_reason::user_shutdown);
  o.ids_writer = canvas_ids_writer_actor{};
  o.data_dir.clear();
  auto refused = spawn_canvas(sim.system(), o);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(contains(message_of(refused.error()), "data directory"));
}

// -- calls per typical day (docs/canvas.md) ------------------------------------------------

BOOST_AUTO_TEST_CASE(typical_day_calls_in_full_mode) {
  start_and_settle();
  auto before = metrics();
  run_typical_day();
  auto m = metrics();
  auto calls = m.slack_calls - before.slack_calls;
  std::printf("MEASURED full: calls=%llu edits=%llu\n", static_cast<unsigned long long>(calls),
              static_cast<unsigned long long>(m.edits - before.edits));
  // One edit per commit that changed a canvas (28 + 12).
  BOOST_TEST(calls == 40u);
  BOOST_TEST(m.retries == before.retries);
  BOOST_TEST(contains(slack->workspace.document("F1"), "INC_18"));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // canvas_actor_tests
