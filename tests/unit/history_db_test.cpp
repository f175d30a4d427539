#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <set>

#include "actors/history/history_db.hpp"
#include "tests/support/printing.hpp"
#include "tests/support/temp_dir.hpp"

// The history's store: what GET /api/v1/history and /stats read, paging,
// filters, retention by age and size, and what survives a reopen.
BOOST_AUTO_TEST_SUITE(history_db_tests)

using namespace epmpulse;
using namespace std::chrono_literals;

namespace {

const time_point base = *parse_time("2026-11-01T00:00:00Z");

domain_change change(std::uint64_t id, std::string app, std::string domain, job_status status,
                     time_point received, std::optional<std::string> job = {},
                     std::optional<std::int64_t> duration = {}) {
  domain_change c;
  c.id = id;
  c.app = std::move(app);
  c.domain = std::move(domain);
  c.before.status = job_status::loading;
  c.after.status = status;
  c.after.job_id = std::move(job);
  c.after.updated = received;
  c.after.duration_sec = duration;
  c.after.source = update_source::push;
  c.received = received;
  c.key_name = "epm_groovy";
  return c;
}

struct open_history {
  test::temp_dir dir{"epmpulse-history-"};
  std::unique_ptr<history_db> db = open();

  std::unique_ptr<history_db> open() {
    std::string error;
    auto out = history_db::open((dir.path() / history_file_name).string(), error);
    BOOST_REQUIRE_MESSAGE(out, error);
    return out;
  }

  /// 300 changes, one a minute: ids 1..300 over Planning/Actual,
  /// Planning/Budget and FCCS/Consolidation in turn, every third an OK run.
  void fill() {
    std::vector<domain_change> changes;
    const char* const domains[][2] = {
      {"Planning", "Actual"}, {"Planning", "Budget"}, {"FCCS", "Consolidation"}};
    for (std::uint64_t id = 1; id <= 300; ++id) {
      const auto& d = domains[id % 3];
      auto status = id % 3 == 0 ? job_status::ok : job_status::loading;
      changes.push_back(change(id, d[0], d[1], status, base + std::chrono::minutes(id),
                               "J" + std::to_string(id / 10), std::int64_t(id)));
    }
    BOOST_REQUIRE(!db->insert(changes));
    BOOST_REQUIRE(!db->commit());
  }
};

std::vector<std::uint64_t> ids_of(const history_page& page) {
  std::vector<std::uint64_t> out;
  for (const auto& c : page.entries)
    out.push_back(c.id);
  return out;
}

} // namespace

BOOST_FIXTURE_TEST_CASE(pages_newest_first_and_the_cursor_continues_without_overlap, open_history) {
  fill();
  history_query q;
  q.limit = 70;
  std::vector<std::uint64_t> seen;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = db->query(q);
    auto ids = ids_of(page);
    seen.insert(seen.end(), ids.begin(), ids.end());
    if (!page.next)
      break;
    BOOST_TEST(page.entries.size() == 70u);
    q.before_id = page.next;
  }
  BOOST_REQUIRE_EQUAL(seen.size(), 300u);
  for (std::size_t i = 0; i < seen.size(); ++i)
    BOOST_TEST(seen[i] == 300 - i);
}

BOOST_FIXTURE_TEST_CASE(filters_combine_and_a_page_holds_only_matches, open_history) {
  fill();
  history_query q;
  q.app = "Planning";
  q.domain = "Budget"; // ids with id % 3 == 1
  q.limit = 1000;
  auto page = db->query(q);
  BOOST_TEST(page.entries.size() == 100u);
  for (const auto& c : page.entries)
    BOOST_TEST(c.id % 3 == 1u);
  BOOST_TEST(!page.next.has_value());

  history_query by_job;
  by_job.job_id = "J7"; // ids 70..79
  BOOST_TEST(ids_of(db->query(by_job)).size() == 10u);

  history_query ok_runs;
  ok_runs.status = job_status::ok;
  ok_runs.app = "FCCS";
  ok_runs.limit = 1000;
  auto ok_page = db->query(ok_runs);
  BOOST_TEST(ok_page.entries.empty()); // the OK runs are Planning/Actual's (id % 3 == 0)
  ok_runs.app = "Planning";
  BOOST_TEST(db->query(ok_runs).entries.size() == 100u);

  history_query window;
  window.since = base + 100min;
  window.until = base + 109min;
  auto ids = ids_of(db->query(window));
  BOOST_TEST(ids == (std::vector<std::uint64_t>{109, 108, 107, 106, 105, 104, 103, 102, 101, 100}),
             boost::test_tools::per_element());

  history_query empty_window;
  empty_window.since = base + 1000min;
  BOOST_TEST(db->query(empty_window).entries.empty());
}

BOOST_FIXTURE_TEST_CASE(a_resume_reads_oldest_first_after_an_id, open_history) {
  fill();
  history_query q;
  q.after_id = 295;
  q.limit = 3;
  auto page = db->query(q);
  BOOST_TEST(ids_of(page) == (std::vector<std::uint64_t>{296, 297, 298}),
             boost::test_tools::per_element());
  BOOST_TEST((page.next == std::optional<std::uint64_t>{298}));
}

BOOST_FIXTURE_TEST_CASE(every_field_comes_back_and_ids_are_stored_once, open_history) {
  auto c = change(5, "Planning", "Actual", job_status::warning, base, "J-42", 1234);
  c.after.message = "late";
  c.after.source = update_source::system;
  c.key_name.reset();
  BOOST_REQUIRE(!db->insert({c}));
  // Start-up may hand over a change the history already holds.
  auto again = c;
  again.after.message = "not this one";
  BOOST_REQUIRE(!db->insert({again}));
  BOOST_REQUIRE(!db->commit());
  db = open();
  BOOST_TEST(db->count() == 1u);
  BOOST_TEST(db->highest_id() == 5u);
  auto page = db->query({});
  BOOST_REQUIRE_EQUAL(page.entries.size(), 1u);
  const auto& back = page.entries[0];
  BOOST_TEST(back.app == "Planning");
  BOOST_TEST(back.before.status == job_status::loading);
  BOOST_TEST(back.after.status == job_status::warning);
  BOOST_TEST((back.after.job_id == std::optional<std::string>{"J-42"}));
  BOOST_TEST((back.after.message == std::optional<std::string>{"late"}));
  BOOST_TEST((back.after.duration_sec == std::optional<std::int64_t>{1234}));
  BOOST_TEST(back.after.source == update_source::system);
  BOOST_TEST(!back.key_name.has_value());
  BOOST_TEST((back.received == base));
}

BOOST_FIXTURE_TEST_CASE(make_durable_commits_and_checkpoints_into_the_database_file,
                        open_history) {
  BOOST_REQUIRE(!db->insert({change(7, "FCCS", "Consolidation", job_status::ok, base)}));
  BOOST_REQUIRE(!db->make_durable());
  BOOST_TEST(!db->uncommitted());
  // The database file alone, without its WAL, holds the change: the
  // checkpoint wrote it there (and fsync'd both), which is what lets the
  // state drop the change log that also held it.
  test::temp_dir copy{"epmpulse-history-copy-"};
  std::filesystem::copy_file(dir.path() / history_file_name, copy.path() / history_file_name);
  std::string error;
  auto alone = history_db::open((copy.path() / history_file_name).string(), error);
  BOOST_REQUIRE_MESSAGE(alone, error);
  BOOST_TEST(alone->highest_id() == 7u);
}

BOOST_FIXTURE_TEST_CASE(retention_deletes_by_age_then_by_size, open_history) {
  fill();
  // Older than minute 101: ids 1..100 go.
  BOOST_TEST(db->prune(base + 101min, 0) == 100u);
  BOOST_TEST(db->count() == 200u);
  history_query q;
  q.after_id = 0;
  q.limit = 1;
  BOOST_TEST(ids_of(db->query(q)).front() == 101u);

  std::vector<domain_change> many;
  for (std::uint64_t id = 301; id <= 5300; ++id)
    many.push_back(change(id, "Planning", "Actual", job_status::ok, base + 400min,
                          std::string(100, 'j')));
  BOOST_REQUIRE(!db->insert(many));
  BOOST_REQUIRE(!db->commit());
  const auto bound = db->used_bytes() / 2;
  BOOST_TEST(db->prune(base, bound) > 0u);
  BOOST_TEST(db->used_bytes() <= bound);
  // The newest changes are the ones kept.
  BOOST_TEST(db->highest_id() == 5300u);
  BOOST_TEST(db->count() < 5200u);
}

BOOST_FIXTURE_TEST_CASE(stats_count_runs_and_their_durations_per_domain, open_history) {
  std::vector<domain_change> changes;
  const auto now = base + std::chrono::hours(24 * 40);
  std::uint64_t id = 0;
  // Planning/Actual: runs of 10..100 s on the last two days, one Warning.
  for (int i = 1; i <= 10; ++i)
    changes.push_back(change(++id, "Planning", "Actual", i == 10 ? job_status::warning : job_status::ok,
                             now - std::chrono::hours(i <= 5 ? 30 : 2), "J", i * 10));
  // A start is not a run; a run older than the window does not count.
  changes.push_back(change(++id, "Planning", "Actual", job_status::loading, now - 1h));
  changes.insert(changes.begin(),
                 change(0 + 100, "Planning", "Actual", job_status::ok, now - std::chrono::hours(24 * 31)));
  std::sort(changes.begin(), changes.end(), [](auto& a, auto& b) { return a.received < b.received; });
  for (std::size_t i = 0; i < changes.size(); ++i)
    changes[i].id = i + 1;
  BOOST_REQUIRE(!db->insert(changes));
  BOOST_REQUIRE(!db->commit());
  stats_query q;
  q.now = now;
  q.days = 30;
  auto result = db->stats(q);
  BOOST_REQUIRE_EQUAL(result.domains.size(), 1u);
  const auto& d = result.domains[0];
  BOOST_TEST(d.runs == 10u);
  BOOST_TEST(d.successes == 9u);
  BOOST_TEST(d.warnings == 1u);
  BOOST_TEST((d.median_duration_sec == std::optional<double>{55}));
  BOOST_TEST((d.p95_duration_sec == std::optional<double>{100}));
  BOOST_TEST((d.last_run == std::optional{now - 2h}));
  BOOST_REQUIRE_EQUAL(d.trend.size(), 2u);
  BOOST_TEST(d.trend[0].runs == 5u);
  BOOST_TEST((d.trend[0].median_duration_sec == std::optional<double>{30}));
  BOOST_TEST((d.trend[1].median_duration_sec == std::optional<double>{80}));
}

BOOST_AUTO_TEST_CASE(alert_events_are_kept_paged_filtered_and_pruned) {
  open_history h;
  auto& db = h.db;
  for (int i = 0; i < 5; ++i) {
    alert_history_entry e;
    e.at = base + std::chrono::hours(i);
    e.alert_id = i < 3 ? "a-1" : "a-2";
    e.app = "Planning";
    e.domain = i < 3 ? "Actual" : "Budget";
    e.kind = "late";
    e.event = i % 2 == 0 ? "opened" : "failed";
    if (i % 2 == 1) {
      e.target = "slack";
      e.channel = "C404";
      e.message = "opened";
    }
    e.detail = "detail " + std::to_string(i);
    BOOST_REQUIRE(!db->insert_alert_event(e));
  }
  alert_history_query q;
  q.limit = 2;
  auto page = db->query_alert_events(q);
  BOOST_REQUIRE_EQUAL(page.entries.size(), 2u);
  BOOST_TEST(page.entries[0].detail == "detail 4");
  BOOST_REQUIRE(page.next);
  q.before_id = page.next;
  auto second = db->query_alert_events(q);
  BOOST_REQUIRE_EQUAL(second.entries.size(), 2u);
  BOOST_TEST(second.entries[0].detail == "detail 2");
  alert_history_query failed;
  failed.event = "failed";
  failed.alert_id = "a-1";
  auto f = db->query_alert_events(failed);
  BOOST_REQUIRE_EQUAL(f.entries.size(), 1u);
  BOOST_TEST((f.entries[0].channel == std::optional<std::string>{"C404"}));
  BOOST_TEST((f.entries[0].target == std::optional<std::string>{"slack"}));
  BOOST_TEST((f.entries[0].at == base + 1h));
  // Kept across a reopen; the history's retention applies to them too.
  db.reset();
  db = h.open();
  BOOST_TEST(db->query_alert_events({}).entries.size() == 5u);
  db->prune(base + 2h, 0);
  auto kept = db->query_alert_events({});
  BOOST_REQUIRE_EQUAL(kept.entries.size(), 3u);
  BOOST_TEST(kept.entries.back().detail == "detail 2");
}

BOOST_AUTO_TEST_SUITE_END()
