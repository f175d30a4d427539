#include <boost/test/unit_test.hpp>

// Canvas rendering as pure functions: layout, per-channel filtering, escaping
// of user text, time zones (from the system's tz database), determinism.

#include <algorithm>
#include <filesystem>
#include <string>

#include "actors/canvas/canvas_render.hpp"
#include "tests/support/blank_snapshot.hpp"
#include "tests/support/printing.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(canvas_render_tests)

using namespace epmpulse;
using namespace epmpulse::canvas;
using namespace std::chrono_literals;

namespace {

time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss = 0) {
  using namespace std::chrono;
  auto day = sys_days{year{y} / month{m} / d};
  return epmpulse::time_point{duration_cast<milliseconds>(day.time_since_epoch() + hours{hh}
                                                          + minutes{mm} + seconds{ss})};
}

config::service_config two_channel_config() {
  config::service_config cfg;
  cfg.apps.push_back({"Planning", "Planning", {"Actual", "Budget", "Forecast"}, {"C1"}, false, ""});
  cfg.apps.push_back({"FCCS", "FCCS", {"Consolidation"}, {"C1"}, false, ""});
  cfg.apps.push_back({"ARCS", "ARCS", {"Reconciliation"}, {"C2"}, false, ""});
  cfg.channels.push_back({"C1", "epm-main", "F1"});
  cfg.channels.push_back({"C2", "arcs-support", "F2"});
  return cfg;
}

status_snapshot snapshot_for(const config::service_config& cfg) {
  return test::blank_snapshot_for(cfg);
}

domain_state ok_state(std::string job, time_point updated, std::int64_t duration) {
  domain_state d;
  d.status = job_status::ok;
  d.job_id = std::move(job);
  d.updated = updated;
  d.duration_sec = duration;
  return d;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

} // namespace

BOOST_AUTO_TEST_CASE(each_channel_shows_only_its_apps_in_config_order) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  auto c1 = render_canvas(snap, cfg, "C1", {});
  auto c2 = render_canvas(snap, cfg, "C2", {});
  BOOST_REQUIRE_EQUAL(c1.sections.size(), 4u); // header, Planning, FCCS, recent
  BOOST_TEST(c1.sections[0].anchor == "header");
  BOOST_TEST(c1.sections[1].anchor == "app:Planning");
  BOOST_TEST(c1.sections[2].anchor == "app:FCCS");
  BOOST_TEST(c1.sections[3].anchor == "recent");
  BOOST_TEST(contains(c1.markdown(), "## Planning\n"));
  BOOST_TEST(contains(c1.markdown(), "## FCCS\n"));
  BOOST_TEST(!contains(c1.markdown(), "ARCS"));
  BOOST_TEST(!contains(c1.markdown(), "Reconciliation"));
  BOOST_REQUIRE_EQUAL(c2.sections.size(), 3u);
  BOOST_TEST(contains(c2.markdown(), "## ARCS\n"));
  BOOST_TEST(!contains(c2.markdown(), "Planning"));
  // An unknown channel shows only the header and the (empty) footer.
  BOOST_TEST(render_canvas(snap, cfg, "C9", {}).sections.size() == 2u);
}

BOOST_AUTO_TEST_CASE(header_has_title_and_the_channels_own_last_update) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  render_options opts;
  opts.title = "EPM Status Dashboard";
  auto empty = render_canvas(snap, cfg, "C1", opts);
  BOOST_TEST(empty.sections[0].markdown == "# 📊 EPM Status Dashboard\nNo updates yet\n\n");

  snap.apps["Planning"].domains["Actual"] = ok_state("FULL_001", at(2026, 2, 16, 14, 30), 145);
  snap.apps["ARCS"].domains["Reconciliation"] = ok_state("R1", at(2026, 2, 16, 15, 0), 10);
  auto c1 = render_canvas(snap, cfg, "C1", opts);
  BOOST_TEST(contains(c1.sections[0].markdown, "Last update: 2026-02-16 14:30 UTC"));
  auto c2 = render_canvas(snap, cfg, "C2", opts);
  BOOST_TEST(contains(c2.sections[0].markdown, "Last update: 2026-02-16 15:00 UTC"));
}

BOOST_AUTO_TEST_CASE(domain_rows_show_icon_status_job_time_duration_and_warning_message) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  auto& dom = snap.apps["Planning"].domains;
  dom["Actual"] = ok_state("FULL_001", at(2026, 2, 16, 14, 32), 145);
  dom["Budget"].status = job_status::loading;
  dom["Budget"].job_id = "BUD_002";
  dom["Budget"].updated = at(2026, 2, 16, 14, 35);
  dom["Budget"].started = at(2026, 2, 16, 14, 35);
  dom["Budget"].message = "not shown while loading";
  dom["Forecast"].status = job_status::warning;
  dom["Forecast"].job_id = "FC_003";
  dom["Forecast"].updated = at(2026, 2, 15, 9, 5);
  dom["Forecast"].duration_sec = 65;
  dom["Forecast"].message = "Load failed: 12 rejected rows";
  // The default layout: one list item per domain (bold, bulleted lists:
  // elements every version of Slack's canvas documentation lists).
  auto md = render_canvas(snap, cfg, "C1", {}).sections[1].markdown;
  BOOST_TEST(md == "## Planning\n"
                   "- 🟢 **Actual**: OK · job FULL_001 · updated 14:32 · took 2m 25s\n"
                   "- 🟡 **Budget**: Loading · job BUD_002 · updated 14:35 · running since 14:35\n"
                   "- 🔴 **Forecast**: Warning · job FC_003 · updated 02-15 09:05 · took 1m 5s"
                   " · Load failed: 12 rejected rows\n"
                   "\n",
             md);
  auto fccs = render_canvas(snap, cfg, "C1", {}).sections[2].markdown;
  BOOST_TEST(fccs == "## FCCS\n- ⚪ **Consolidation**: Blank\n\n", fccs);

  // The table layout, on request.
  render_options tables;
  tables.layout = config::canvas_layout::table;
  auto t = render_canvas(snap, cfg, "C1", tables).sections[1].markdown;
  BOOST_TEST(contains(t, "| Domain | Status | Job | Updated | Duration | Message |\n"));
  BOOST_TEST(contains(t, "| Actual | 🟢 OK | FULL_001 | 14:32 | 2m 25s |  |\n"), t);
  BOOST_TEST(contains(t, "| Budget | 🟡 Loading | BUD_002 | 14:35 | running since 14:35 |  |\n"), t);
  BOOST_TEST(contains(t, "| Forecast | 🔴 Warning | FC_003 | 02-15 09:05 | 1m 5s | Load failed: 12 rejected rows |\n"), t);
  BOOST_TEST(!contains(t, "not shown while loading"));
  auto fccs_table = render_canvas(snap, cfg, "C1", tables).sections[2].markdown;
  BOOST_TEST(contains(fccs_table, "| Consolidation | ⚪ Blank | – | – | – |  |\n"), fccs_table);
}

BOOST_AUTO_TEST_CASE(the_list_layout_has_no_table_line) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  snap.apps["Planning"].domains["Actual"] = ok_state("A|B", at(2026, 2, 16, 10, 0), 5);
  auto md = render_canvas(snap, cfg, "C1", {}).markdown();
  std::size_t start = 0;
  while (start < md.size()) {
    auto end = md.find('\n', start);
    BOOST_TEST(md.compare(start, 1, "|") != 0, md.substr(start, end - start));
    start = end + 1;
  }
}

BOOST_AUTO_TEST_CASE(hostile_text_cannot_mention_link_or_format) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  auto& d = snap.apps["Planning"].domains["Actual"];
  d.status = job_status::warning;
  d.updated = at(2026, 2, 16, 14, 0);
  d.job_id = "<@U123>|x";
  d.message = "<!channel> @here @channel <https://evil.example|click> [x](http://evil.example) "
              "*bold* _it_ ~s~ `code` &lt;!here&gt; back\\| www.evil.example\n## injected\n| a | b |";
  snap.apps["Planning"].domains["<!everyone>"] = ok_state("J_1", at(2026, 2, 16, 14, 0), 1);
  auto md = render_canvas(snap, cfg, "C1", {}).markdown();
  for (const char* bad : {"<!channel>", "<!everyone>", "<@U123>", "@here", "@channel", "<https",
                          "https://", "http://", "](", "*bold*", "_it_", "~s~", "`code`", "&lt;",
                          "\n## injected", "www.evil", "\\|"})
    BOOST_TEST(!contains(md, bad), "rendered canvas contains '" << bad << "'");
  // The text is still readable, with look-alike characters.
  BOOST_TEST(contains(md, "‹!channel›"));
  BOOST_TEST(contains(md, "＠here"));
  BOOST_TEST(contains(md, "∗bold∗"));
  // One line per domain: the message did not break the list or the table.
  auto section = render_canvas(snap, cfg, "C1", {}).sections[1].markdown;
  BOOST_TEST(std::count(section.begin(), section.end(), '\n') == 1 + 4 + 1);
  render_options tables;
  tables.layout = config::canvas_layout::table;
  auto table = render_canvas(snap, cfg, "C1", tables).sections[1].markdown;
  BOOST_TEST(std::count(table.begin(), table.end(), '\n') == 1 + 2 + 4 + 1);
  // Job ids keep their inner underscores.
  BOOST_TEST(contains(md, "J_1"));
}

BOOST_AUTO_TEST_CASE(escape_text_repairs_utf8_drops_controls_and_cuts) {
  BOOST_TEST(escape_text("ok\xff\xfe") == "ok\xEF\xBF\xBD\xEF\xBF\xBD");
  BOOST_TEST(escape_text("a\tb\r\nc") == "a b c");
  BOOST_TEST(escape_text("  trimmed  ") == "trimmed");
  BOOST_TEST(escape_text("x\u202Ey") == "xy"); // bidi override dropped
  BOOST_TEST(escape_text("abcdef", 3) == "abc…");
  BOOST_TEST(escape_text("äöü€😀", 4) == "äöü€…");
  BOOST_TEST(escape_text("LOAD_2026_01") == "LOAD_2026_01");
  BOOST_TEST(escape_text("_lead") == "＿lead");
  BOOST_TEST(escape_text("time 14:30") == "time 14:30");
}

BOOST_AUTO_TEST_CASE(same_state_renders_the_same_bytes_other_channels_do_not_matter) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  snap.apps["Planning"].domains["Actual"] = ok_state("A", at(2026, 2, 16, 10, 0), 5);
  auto first = render_canvas(snap, cfg, "C1", {});
  BOOST_TEST((first == render_canvas(snap, cfg, "C1", {})));
  // A change to ARCS (channel C2) leaves C1's canvas byte-identical.
  snap.apps["ARCS"].domains["Reconciliation"] = ok_state("R", at(2026, 2, 16, 11, 0), 5);
  snap.last_updated = at(2026, 2, 16, 11, 0);
  BOOST_TEST((first == render_canvas(snap, cfg, "C1", {})));
  BOOST_TEST(first.markdown() == render_canvas(snap, cfg, "C1", {}).markdown());
}

BOOST_AUTO_TEST_CASE(recent_jobs_show_only_this_channels_apps_newest_first_and_bounded) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  for (int k = 0; k < 8; ++k) {
    recent_job j;
    j.job_id = "JOB_" + std::to_string(k);
    j.apps = k % 2 == 0 ? std::vector<std::string>{"Planning", "ARCS"}
                        : std::vector<std::string>{"ARCS"};
    j.status = job_status::ok;
    j.started = at(2026, 2, 16, 8, k);
    j.completed = at(2026, 2, 16, 9, k);
    snap.recent_jobs.push_back(j);
  }
  render_options opts;
  opts.recent_jobs = 3;
  auto c1 = render_canvas(snap, cfg, "C1", opts).sections.back();
  BOOST_TEST(c1.anchor == "recent");
  BOOST_TEST(contains(c1.markdown, "- 🟢 **JOB_0** (Planning): OK, 02-16 08:00 → 02-16 09:00\n"), c1.markdown);
  BOOST_TEST(contains(c1.markdown, "JOB_2"));
  BOOST_TEST(contains(c1.markdown, "JOB_4"));
  BOOST_TEST(!contains(c1.markdown, "JOB_6")); // bounded to 3
  BOOST_TEST(!contains(c1.markdown, "JOB_1")); // ARCS only: another channel
  BOOST_TEST(!contains(c1.markdown, "ARCS"));
  auto c2 = render_canvas(snapshot_for(cfg), cfg, "C2", opts).sections.back();
  BOOST_TEST(c2.markdown == "### Recent jobs\nNo recent jobs\n");
}

BOOST_AUTO_TEST_CASE(recent_jobs_give_way_first_when_the_canvas_would_be_too_big) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  for (int k = 0; k < 5; ++k) {
    recent_job j;
    j.job_id = "LONG_JOB_NAME_" + std::to_string(k) + std::string(40, 'x');
    j.apps = {"Planning"};
    j.status = job_status::ok;
    snap.recent_jobs.push_back(j);
  }
  render_options opts;
  auto whole = render_canvas(snap, cfg, "C1", opts);
  opts.max_bytes = whole.markdown().size() - 1;
  auto cut = render_canvas(snap, cfg, "C1", opts);
  BOOST_TEST(cut.markdown().size() <= opts.max_bytes);
  BOOST_TEST(contains(cut.sections.back().markdown, "- … 1 more (canvas size limit)\n"),
             cut.sections.back().markdown);
  BOOST_TEST(contains(cut.markdown(), "LONG_JOB_NAME_3"));
  BOOST_TEST(!contains(cut.markdown(), "LONG_JOB_NAME_4"));
  // The apps' rows are untouched.
  for (std::size_t k = 0; k + 1 < whole.sections.size(); ++k)
    BOOST_TEST(cut.sections[k].markdown == whole.sections[k].markdown);
}

BOOST_AUTO_TEST_CASE(a_huge_channel_stays_under_the_size_cap_and_says_what_was_cut) {
  // 40 apps of 60 domains, every one a Warning whose 300-character message
  // escapes to 3-byte look-alikes: far more than any canvas should hold.
  config::service_config cfg;
  for (int a = 0; a < 40; ++a) {
    config::app_config app{"App" + std::to_string(a), "App " + std::to_string(a), {}, {"C1"},
                           false, ""};
    for (int d = 0; d < 60; ++d)
      app.domains.push_back("Domain_" + std::to_string(d));
    cfg.apps.push_back(app);
  }
  cfg.channels.push_back({"C1", "big", "F1"});
  auto snap = snapshot_for(cfg);
  for (auto& [name, app] : snap.apps)
    for (auto& [domain, d] : app.domains) {
      d = ok_state("JOB_" + domain, at(2026, 2, 16, 14, 0), 61);
      d.status = job_status::warning;
      d.message = std::string(300, '<');
    }
  for (int k = 0; k < 10; ++k) {
    recent_job j;
    j.job_id = "RECENT_" + std::to_string(k);
    j.apps = {"App0"};
    snap.recent_jobs.push_back(j);
  }
  for (auto layout : {config::canvas_layout::list, config::canvas_layout::table}) {
    render_options opts;
    opts.layout = layout;
    opts.recent_jobs = 10;
    auto md = render_canvas(snap, cfg, "C1", opts).markdown();
    BOOST_TEST(md.size() <= default_max_canvas_bytes);
    BOOST_TEST(md.size() > default_max_canvas_bytes * 9 / 10); // cut where needed, not far below
    // Recent jobs went first, then rows from the last app backwards; every
    // app keeps its heading and says how many domains are not shown.
    BOOST_TEST(contains(md, "### Recent jobs\n- … 10 more (canvas size limit)\n"));
    BOOST_TEST(contains(md, layout == config::canvas_layout::list ? "**Domain_0**" : "| Domain_0 |"));
    BOOST_TEST(contains(md, "## App 0\n"));
    BOOST_TEST(contains(md, "## App 39\n"));
    BOOST_TEST(contains(md, "60 more domains (canvas size limit)\n"));
    BOOST_TEST(!contains(md, "more apps"));
  }
  // So many apps that their headings alone do not fit: whole apps go, from the end.
  render_options tiny;
  tiny.max_bytes = 1000;
  auto md = render_canvas(snap, cfg, "C1", tiny).markdown();
  BOOST_TEST(md.size() <= tiny.max_bytes);
  BOOST_TEST(contains(md, "## App 0\n"));
  BOOST_TEST(!contains(md, "## App 39\n"));
  BOOST_TEST(contains(md, "more apps (canvas size limit)\n"));
  BOOST_TEST(contains(md, "### Recent jobs\n"));
}

BOOST_AUTO_TEST_CASE(time_zones_give_standard_and_daylight_offsets_and_abbreviations) {
  display_zone berlin;
  std::string error;
  BOOST_REQUIRE_MESSAGE(display_zone::load("Europe/Berlin", berlin, error), error);
  std::string abbrev;
  BOOST_TEST(berlin.offset_at(at(2026, 1, 15, 12, 0), &abbrev).count() == 3600);
  BOOST_TEST(abbrev == "CET");
  BOOST_TEST(berlin.offset_at(at(2026, 7, 15, 12, 0), &abbrev).count() == 7200);
  BOOST_TEST(abbrev == "CEST");
  // 2026-03-29 01:00 UTC is 03:00 CEST (the switch), 00:59 UTC still CET.
  BOOST_TEST(berlin.offset_at(at(2026, 3, 29, 0, 59)).count() == 3600);
  BOOST_TEST(berlin.offset_at(at(2026, 3, 29, 1, 0)).count() == 7200);
  BOOST_TEST(format_display_time(at(2026, 7, 15, 12, 0), berlin) == "2026-07-15 14:00 CEST");

  display_zone sydney; // southern hemisphere: DST across the new year
  BOOST_REQUIRE_MESSAGE(display_zone::load("Australia/Sydney", sydney, error), error);
  BOOST_TEST(sydney.offset_at(at(2026, 1, 15, 0, 0)).count() == 11 * 3600);
  BOOST_TEST(sydney.offset_at(at(2026, 7, 15, 0, 0)).count() == 10 * 3600);

  display_zone india; // half-hour offset, no DST
  BOOST_REQUIRE_MESSAGE(display_zone::load("Asia/Kolkata", india, error), error);
  BOOST_TEST(format_display_time(at(2026, 2, 16, 14, 30), india) == "2026-02-16 20:00 IST");

  display_zone unchanged;
  BOOST_TEST(!display_zone::load("Europe/Nowhere", unchanged, error));
  BOOST_TEST(unchanged.name() == "UTC");
}

BOOST_AUTO_TEST_CASE(iana_names_load_from_the_zoneinfo_files_and_unknown_ones_fail) {
  display_zone z;
  std::string error;
  BOOST_TEST(display_zone::load("UTC", z, error));
  BOOST_TEST(format_display_time(at(2026, 2, 16, 14, 30), z) == "2026-02-16 14:30 UTC");
  BOOST_TEST(!display_zone::load("Nowhere/Atlantis", z, error));
  BOOST_TEST(!error.empty());
  BOOST_TEST(!display_zone::load("../etc/passwd", z, error));
  if (std::filesystem::exists("/usr/share/zoneinfo/America/New_York")) {
    BOOST_REQUIRE(display_zone::load("America/New_York", z, error));
    BOOST_TEST(z.name() == "America/New_York");
    BOOST_TEST(format_display_time(at(2026, 1, 15, 17, 0), z) == "2026-01-15 12:00 EST");
    BOOST_TEST(format_display_time(at(2026, 7, 15, 16, 0), z) == "2026-07-15 12:00 EDT");
  }
}

BOOST_AUTO_TEST_CASE(durations_read_naturally) {
  BOOST_TEST(format_duration(0) == "0s");
  BOOST_TEST(format_duration(45) == "45s");
  BOOST_TEST(format_duration(145) == "2m 25s");
  BOOST_TEST(format_duration(7500) == "2h 5m");
  BOOST_TEST(format_duration(-3) == "0s");
}

// -- expectation marks ------------------------------------------------------------

namespace {

/// Planning/Actual late (the 14:00 run), Budget in maintenance, Forecast on
/// time, FCCS held by Planning/Actual, ARCS missed; each with its next run.
domain_marks sample_marks() {
  domain_marks m;
  m["Planning"]["Actual"] = {"late", at(2026, 2, 17, 2, 0), at(2026, 2, 16, 14, 0), ""};
  m["Planning"]["Budget"] = {"maintenance", at(2026, 2, 16, 16, 0), std::nullopt, ""};
  m["Planning"]["Forecast"] = {"on_time", at(2026, 2, 16, 18, 0), std::nullopt, ""};
  m["FCCS"]["Consolidation"] = {"held", std::nullopt, std::nullopt, "Planning/Actual"};
  m["ARCS"]["Reconciliation"] = {"missed", at(2026, 2, 16, 2, 0), at(2026, 2, 15, 2, 0), ""};
  return m;
}

} // namespace

BOOST_AUTO_TEST_CASE(marked_domains_show_their_mark_and_next_run_in_the_list) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  snap.apps["Planning"].domains["Actual"] = ok_state("FULL_001", at(2026, 2, 16, 14, 32), 145);
  auto marks = sample_marks();
  auto c1 = render_canvas(snap, &marks, cfg, "C1", {});
  BOOST_TEST(c1.sections[1].markdown
               == "## Planning\n"
                  "- 🟢 **Actual**: OK · ⏰ **late** (run of 14:00) · job FULL_001 · updated 14:32"
                  " · took 2m 25s · next run 02-17 02:00\n"
                  "- ⚪ **Budget**: Blank · 🛠️ **maintenance** · next run 16:00\n"
                  "- ⚪ **Forecast**: Blank · next run 18:00\n"
                  "\n",
             c1.sections[1].markdown);
  BOOST_TEST(c1.sections[2].markdown
               == "## FCCS\n- ⚪ **Consolidation**: Blank · ⏸️ **held** by Planning/Actual\n\n",
             c1.sections[2].markdown);
  // No update on C2's apps: times carry their date.
  auto c2 = render_canvas(snap, &marks, cfg, "C2", {});
  BOOST_TEST(c2.sections[1].markdown
               == "## ARCS\n- ⚪ **Reconciliation**: Blank · ⛔ **missed** (run of 02-15 02:00)"
                  " · next run 02-16 02:00\n\n",
             c2.sections[1].markdown);
  // Maintenance is never shown as late.
  BOOST_TEST(!contains(c1.sections[1].markdown, "**Budget**: Blank · ⏰"));

  // Overdue and short.
  marks["Planning"]["Actual"] = {"overdue", std::nullopt, std::nullopt, ""};
  marks["Planning"]["Budget"] = {"short", std::nullopt, std::nullopt, ""};
  auto md = render_canvas(snap, &marks, cfg, "C1", {}).sections[1].markdown;
  BOOST_TEST(contains(md, "- 🟢 **Actual**: OK · ⌛ **overdue** · job FULL_001"), md);
  BOOST_TEST(contains(md, "- ⚪ **Budget**: Blank · ⚠️ **short run**\n"), md);

  // No marks, or none for this channel's apps: the canvas of before, byte for byte.
  domain_marks others;
  others["ARCS"]["Reconciliation"] = {"late", std::nullopt, std::nullopt, ""};
  BOOST_TEST(render_canvas(snap, &others, cfg, "C1", {}).markdown()
             == render_canvas(snap, cfg, "C1", {}).markdown());
  render_options tables;
  tables.layout = config::canvas_layout::table;
  BOOST_TEST(render_canvas(snap, &others, cfg, "C1", tables).markdown()
             == render_canvas(snap, cfg, "C1", tables).markdown());
}

BOOST_AUTO_TEST_CASE(the_table_layout_gets_an_expected_column_for_apps_with_marks) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  snap.apps["Planning"].domains["Actual"] = ok_state("FULL_001", at(2026, 2, 16, 14, 32), 145);
  auto marks = sample_marks();
  marks.erase("FCCS");
  render_options tables;
  tables.layout = config::canvas_layout::table;
  auto c1 = render_canvas(snap, &marks, cfg, "C1", tables);
  BOOST_TEST(c1.sections[1].markdown
               == "## Planning\n"
                  "| Domain | Status | Expected | Job | Updated | Duration | Message |\n"
                  "| --- | --- | --- | --- | --- | --- | --- |\n"
                  "| Actual | 🟢 OK | ⏰ **late** (run of 14:00) · next run 02-17 02:00 | FULL_001"
                  " | 14:32 | 2m 25s |  |\n"
                  "| Budget | ⚪ Blank | 🛠️ **maintenance** · next run 16:00 | – | – | – |  |\n"
                  "| Forecast | ⚪ Blank | next run 18:00 | – | – | – |  |\n"
                  "\n",
             c1.sections[1].markdown);
  // An app without expectations keeps its six columns.
  BOOST_TEST(c1.sections[2].markdown
               == "## FCCS\n"
                  "| Domain | Status | Job | Updated | Duration | Message |\n"
                  "| --- | --- | --- | --- | --- | --- |\n"
                  "| Consolidation | ⚪ Blank | – | – | – |  |\n"
                  "\n",
             c1.sections[2].markdown);
  // A domain of a marked app without a mark of its own: a dash.
  marks["Planning"].erase("Forecast");
  auto md = render_canvas(snap, &marks, cfg, "C1", tables).sections[1].markdown;
  BOOST_TEST(contains(md, "| Forecast | ⚪ Blank | – | – | – | – |  |\n"), md);
}

BOOST_AUTO_TEST_CASE(next_runs_show_in_the_display_time_zone) {
  auto cfg = two_channel_config();
  auto snap = snapshot_for(cfg);
  snap.apps["Planning"].domains["Actual"] = ok_state("FULL_001", at(2026, 2, 16, 14, 32), 145);
  auto marks = sample_marks();
  render_options berlin;
  std::string error;
  BOOST_REQUIRE_MESSAGE(display_zone::load("Europe/Berlin", berlin.zone, error), error);
  auto md = render_canvas(snap, &marks, cfg, "C1", berlin).sections[1].markdown;
  // 14:00 UTC is 15:00 CET; 02:00 UTC on the 17th is 03:00 CET.
  BOOST_TEST(contains(md, "⏰ **late** (run of 15:00) · job FULL_001 · updated 15:32"), md);
  BOOST_TEST(contains(md, "next run 02-17 03:00\n"), md);
  BOOST_TEST(contains(md, "**Budget**: Blank · 🛠️ **maintenance** · next run 17:00\n"), md);
}

BOOST_AUTO_TEST_CASE(marked_rows_give_way_to_the_size_cap_like_any_row) {
  config::service_config cfg;
  domain_marks marks;
  for (int a = 0; a < 40; ++a) {
    config::app_config app{"App" + std::to_string(a), "App " + std::to_string(a), {}, {"C1"},
                           false, ""};
    for (int d = 0; d < 60; ++d) {
      app.domains.push_back("Domain_" + std::to_string(d));
      marks[app.name][app.domains.back()] = {"held", at(2026, 2, 17, 2, 0), std::nullopt,
                                             "Upstream/" + std::string(100, '<')};
    }
    cfg.apps.push_back(app);
  }
  cfg.channels.push_back({"C1", "big", "F1"});
  auto snap = snapshot_for(cfg);
  for (auto& [name, app] : snap.apps)
    for (auto& [domain, d] : app.domains)
      d = ok_state("JOB_" + domain, at(2026, 2, 16, 14, 0), 61);
  for (auto layout : {config::canvas_layout::list, config::canvas_layout::table}) {
    render_options opts;
    opts.layout = layout;
    auto md = render_canvas(snap, &marks, cfg, "C1", opts).markdown();
    BOOST_TEST(md.size() <= default_max_canvas_bytes);
    BOOST_TEST(md.size() > default_max_canvas_bytes * 9 / 10);
    BOOST_TEST(contains(md, "## App 0\n"));
    BOOST_TEST(contains(md, "## App 39\n"));
    BOOST_TEST(contains(md, "⏸️ **held** by Upstream/‹‹"));
    BOOST_TEST(contains(md, "60 more domains (canvas size limit)\n"));
    if (layout == config::canvas_layout::table)
      BOOST_TEST(contains(md, "| Domain | Status | Expected | Job |"));
  }
}

BOOST_AUTO_TEST_SUITE_END() // canvas_render_tests
