#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include "actors/state/state_log.hpp"
#include "tests/support/printing.hpp"

// The change log's record format and its replay: what start-up relies on to
// rebuild every acknowledged update after a crash.
BOOST_AUTO_TEST_SUITE(state_log_tests)

using namespace epmpulse;
using namespace std::chrono_literals;

namespace {

time_point at(const char* text) {
  auto t = parse_time(text);
  BOOST_REQUIRE(t);
  return *t;
}

status_snapshot two_apps() {
  status_snapshot snap;
  snap.created = at("2026-02-16T00:00:00Z");
  snap.apps["Planning"].display_name = "Planning";
  snap.apps["Planning"].domains["Actual"];
  snap.apps["FCCS"].domains["Consolidation"];
  return snap;
}

status_update pushed(std::string app, std::string domain, job_status status,
                     std::optional<std::string> job = {}, std::optional<std::string> message = {}) {
  status_update u;
  u.app = std::move(app);
  u.domain = std::move(domain);
  u.status = status;
  u.job_id = std::move(job);
  u.message = std::move(message);
  return u;
}

const merge_settings merging{std::chrono::minutes(5), 50};

// Applies the updates live (as the state actor does) and returns the records
// it would have logged.
std::vector<log_record> apply_live(status_snapshot& snap,
                                   const std::vector<std::vector<status_update>>& requests,
                                   time_point start) {
  std::vector<log_record> out;
  std::uint64_t seq = 0;
  auto now = start;
  for (const auto& request : requests) {
    log_record record;
    record.at = now;
    for (const auto& u : request)
      if (merge_update(snap, u, now, merging.max_future_skew, merging.recent_jobs_limit).result
          == merge_outcome::kind::applied)
        record.updates.push_back(u);
    if (!record.updates.empty()) {
      record.seq = ++seq;
      out.push_back(record);
    }
    now += 1500ms;
  }
  return out;
}

std::string encode_all(const std::vector<log_record>& records) {
  std::string text;
  for (const auto& r : records)
    text += encode_log_record(r);
  return text;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_record_is_one_line_and_round_trips_every_field) {
  log_record record;
  record.seq = 42;
  record.at = at("2026-02-16T14:30:00.250Z");
  auto u = pushed("Planning", "Actual", job_status::warning, "JOB_1", "line one\nline two \"q\"");
  u.event_time = at("2026-02-16T14:29:59Z");
  u.source = update_source::poll;
  record.updates.push_back(u);
  record.updates.push_back(pushed("FCCS", "Consolidation", job_status::loading));

  auto line = encode_log_record(record);
  BOOST_TEST(line.back() == '\n');
  BOOST_TEST(line.find('\n') == line.size() - 1, "a record must not span lines: " << line);

  auto decoded = decode_log(line);
  BOOST_TEST(decoded.unreadable_lines == 0u);
  BOOST_REQUIRE_EQUAL(decoded.records.size(), 1u);
  const auto& r = decoded.records[0];
  BOOST_TEST(r.seq == 42u);
  BOOST_TEST(format_time(r.at) == "2026-02-16T14:30:00.250Z");
  BOOST_REQUIRE_EQUAL(r.updates.size(), 2u);
  BOOST_TEST(r.updates[0].app == "Planning");
  BOOST_TEST(r.updates[0].domain == "Actual");
  BOOST_TEST(r.updates[0].status == job_status::warning);
  BOOST_TEST(r.updates[0].job_id.value_or("") == "JOB_1");
  BOOST_TEST(r.updates[0].message.value_or("") == "line one\nline two \"q\"");
  BOOST_TEST(format_time(r.updates[0].event_time.value()) == "2026-02-16T14:29:59Z");
  BOOST_TEST(r.updates[0].source == update_source::poll);
  BOOST_TEST(!r.updates[1].job_id.has_value());
  BOOST_TEST(!r.updates[1].message.has_value());
  BOOST_TEST(!r.updates[1].event_time.has_value());
  BOOST_TEST(r.updates[1].source == update_source::push);
}

BOOST_AUTO_TEST_CASE(any_text_a_job_sends_is_logged_as_one_readable_line) {
  // Every control character, the JSON metacharacters, multi-byte UTF-8 and
  // bytes that are not UTF-8 at all: the record must stay one line and parse
  // back, or start-up would skip it and lose an acknowledged update.
  std::string controls;
  for (char c = 1; c < 0x20; ++c)
    controls += c;
  const std::string unicode = "Z\u00fcrich \u2713 \U0001F680 \\ \"quoted\" /";
  const std::string broken = "ok \xff\xfe then \xe2\x82 cut, overlong \xc0\xaf, surrogate \xed\xa0\x80";

  log_record record{7, at("2026-02-16T14:30:00Z"), {}};
  record.updates.push_back(pushed("Planning", "Actual", job_status::warning, controls, unicode));
  record.updates.push_back(pushed("FCCS", "Consolidation", job_status::ok, "JOB", broken));

  auto line = encode_log_record(record);
  BOOST_TEST(line.find('\n') == line.size() - 1, "a record must not span lines: " << line);
  auto decoded = decode_log(line);
  BOOST_TEST(decoded.unreadable_lines == 0u);
  BOOST_REQUIRE_EQUAL(decoded.records.size(), 1u);
  const auto& updates = decoded.records[0].updates;
  BOOST_REQUIRE_EQUAL(updates.size(), 2u);
  BOOST_TEST(updates[0].job_id.value_or("") == controls);
  BOOST_TEST(updates[0].message.value_or("") == unicode);
  // Invalid bytes become U+FFFD, one per byte; the valid text around them stays.
  const std::string fffd = "\xef\xbf\xbd";
  BOOST_TEST(updates[1].message.value_or("")
             == "ok " + fffd + fffd + " then " + fffd + fffd + " cut, overlong " + fffd + fffd
                  + ", surrogate " + fffd + fffd + fffd);
  // What nlohmann::json makes of the line agrees.
  auto doc = nlohmann::json::parse(line);
  BOOST_TEST(doc["updates"][0]["message"].get<std::string>() == unicode);
}

BOOST_AUTO_TEST_CASE(damaged_lines_are_counted_and_skipped_and_a_torn_tail_is_ignored) {
  log_record first{1, at("2026-02-16T14:30:00Z"), {pushed("Planning", "Actual", job_status::ok)}};
  log_record second{2, at("2026-02-16T14:30:01Z"), {pushed("FCCS", "Consolidation", job_status::ok)}};
  auto torn = encode_log_record(second);
  torn.resize(torn.size() / 2);
  auto text = encode_log_record(first) + "{\"seq\": \"not a number\"}\n" + "garbage\n"
              + encode_log_record(second) + torn;

  auto decoded = decode_log(text);
  BOOST_TEST(decoded.unreadable_lines == 3u);
  BOOST_REQUIRE_EQUAL(decoded.records.size(), 2u);
  BOOST_TEST(decoded.records[0].seq == 1u);
  BOOST_TEST(decoded.records[1].seq == 2u);
}

BOOST_AUTO_TEST_CASE(replay_reaches_exactly_the_state_the_live_applies_reached) {
  auto start = at("2026-02-16T14:00:00Z");
  std::vector<std::vector<status_update>> requests = {
    {pushed("Planning", "Actual", job_status::loading, "J1")},
    {pushed("Planning", "Actual", job_status::loading, "J1")}, // unchanged: not logged
    {pushed("Planning", "Actual", job_status::ok, "J1"),
     pushed("FCCS", "Consolidation", job_status::loading, "J2")},
    {pushed("Planning", "New Domain", job_status::warning, "J3", "failed <!channel>")},
    {pushed("FCCS", "Consolidation", job_status::ok, "J2")},
  };
  // A client clock far ahead is clamped to the server time of the apply; the
  // replay must clamp it to the same time.
  auto skewed = pushed("Planning", "Actual", job_status::loading, "J4");
  skewed.event_time = start + std::chrono::hours(5);
  requests.push_back({skewed});

  auto live = two_apps();
  auto records = apply_live(live, requests, start);
  BOOST_TEST(records.size() == 5u);

  auto replayed = two_apps();
  auto decoded = decode_log(encode_all(records));
  auto position = replay_log(replayed, 0, decoded.records, merging);
  BOOST_TEST(position == 5u);
  BOOST_TEST(to_json(replayed).dump() == to_json(live).dump());
  BOOST_TEST(replayed.apps["Planning"].domains["Actual"] == live.apps["Planning"].domains["Actual"]);
  BOOST_TEST(replayed.apps["FCCS"].domains["Consolidation"].duration_sec.has_value());
}

BOOST_AUTO_TEST_CASE(records_at_or_below_the_snapshot_position_are_not_applied_again) {
  auto start = at("2026-02-16T14:00:00Z");
  auto live = two_apps();
  auto records = apply_live(live,
                            {{pushed("Planning", "Actual", job_status::loading, "A")},
                             {pushed("Planning", "Actual", job_status::ok, "A")},
                             {pushed("FCCS", "Consolidation", job_status::warning, "B", "late")}},
                            start);
  BOOST_REQUIRE_EQUAL(records.size(), 3u);

  // The snapshot holds records 1 and 2; the log still has all three, twice
  // (a log moved aside, then an append retried after a timeout).
  auto snapshot = two_apps();
  replay_log(snapshot, 0, {records[0], records[1]}, merging);
  auto doubled = records;
  doubled.insert(doubled.end(), records.begin(), records.end());
  auto position = replay_log(snapshot, 2, doubled, merging);
  BOOST_TEST(position == 3u);
  BOOST_TEST(to_json(snapshot).dump() == to_json(live).dump());
}

BOOST_AUTO_TEST_CASE(updates_for_apps_the_snapshot_lacks_are_skipped) {
  auto snap = two_apps();
  log_record record{7, at("2026-02-16T14:00:00Z"),
                    {pushed("Gone", "X", job_status::ok), pushed("Planning", "Actual", job_status::ok)}};
  auto position = replay_log(snap, 0, {record}, merging);
  BOOST_TEST(position == 7u);
  BOOST_TEST(snap.apps.count("Gone") == 0u);
  BOOST_TEST(snap.apps["Planning"].domains["Actual"].status == job_status::ok);
}

BOOST_AUTO_TEST_CASE(the_snapshot_document_carries_its_log_position) {
  auto doc = snapshot_document(two_apps(), 1234);
  BOOST_TEST(snapshot_log_seq(doc) == 1234u);
  BOOST_TEST(doc["metadata"]["schema_version"] == "1.0");
  std::string error;
  BOOST_TEST(snapshot_from_json(doc, error).has_value(), error);
  BOOST_TEST(snapshot_log_seq(to_json(two_apps())) == 0u);
  BOOST_TEST(snapshot_log_seq(nlohmann::json::array()) == 0u);
}

BOOST_AUTO_TEST_CASE(a_format_1_record_still_replays_and_carries_no_change_ids) {
  // Written by the service before the history existed: no "v", no "id".
  auto text = std::string(R"({"seq":7,"at":"2026-02-16T10:00:00Z","updates":[)")
              + R"({"app":"Planning","domain":"Actual","status":"Loading","source":"push","job_id":"J1"}]})"
              + "\n";
  auto contents = decode_log(text);
  BOOST_REQUIRE_EQUAL(contents.records.size(), 1u);
  BOOST_TEST(contents.unreadable_lines == 0u);
  BOOST_TEST(contents.records[0].changes.empty());
  auto snap = two_apps();
  BOOST_TEST(replay_log(snap, 0, contents.records, merging) == 7u);
  BOOST_TEST(snap.apps["Planning"].domains["Actual"].status == job_status::loading);
  BOOST_TEST(snap.last_change_id == 0u);
}

BOOST_AUTO_TEST_CASE(a_format_2_record_carries_what_each_update_changed) {
  auto u = pushed("Planning", "Actual", job_status::ok, "J1");
  u.key_name = "epm_groovy";
  domain_change c;
  c.app = u.app;
  c.domain = u.domain;
  c.before.status = job_status::loading;
  c.after.status = job_status::ok;
  c.after.job_id = "J1";
  c.after.updated = at("2026-02-16T10:05:00Z");
  c.after.duration_sec = 300;
  c.after.source = update_source::push;
  c.id = 41;
  c.key_name = "epm_groovy";
  const status_update* updates[] = {&u};
  domain_change changes[] = {c};
  auto line = encode_log_record(9, at("2026-02-16T10:05:00.250Z"), updates, changes);
  BOOST_TEST(line.find("epm_groovy") != std::string::npos);
  auto contents = decode_log(line);
  BOOST_REQUIRE_EQUAL(contents.records.size(), 1u);
  const auto& record = contents.records[0];
  BOOST_REQUIRE_EQUAL(record.changes.size(), 1u);
  const auto& back = record.changes[0];
  BOOST_TEST(back.id == 41u);
  BOOST_TEST(back.before.status == job_status::loading);
  BOOST_TEST(back.after.status == job_status::ok);
  BOOST_TEST((back.after.duration_sec == std::optional<std::int64_t>{300}));
  BOOST_TEST((back.after.updated == std::optional{at("2026-02-16T10:05:00Z")}));
  BOOST_TEST((back.received == at("2026-02-16T10:05:00.250Z")));
  BOOST_TEST((back.key_name == std::optional<std::string>{"epm_groovy"}));
  BOOST_TEST((record.updates[0].key_name == std::optional<std::string>{"epm_groovy"}));
  // Replay raises the snapshot's change id, so ids continue after a restart.
  auto snap = two_apps();
  replay_log(snap, 0, contents.records, merging);
  BOOST_TEST(snap.last_change_id == 41u);
}

BOOST_AUTO_TEST_SUITE_END()
