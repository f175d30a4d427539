// history_query: how fast the history answers GET /api/v1/history's queries
// (and /stats) with many changes kept, measured on history_db directly (the
// actor adds one message hop; the HTTP layer adds the serialisation of at
// most `limit` entries).
//
// It fills a fresh database in DIR with N changes (default 1,000,000) over
// 90 days: 20 apps x 50 domains, each job a Loading then an OK or Warning,
// ~330-byte entries like the service's, then times each query shape
// (`--runs` times, after one warm-up) and prints one JSON line per shape
// with the median and the slowest run in milliseconds. A database already
// holding N changes is reused (`--keep` leaves it for the next run).
//
//   history_query [--dir DIR] [--changes 1000000] [--runs 20] [--keep]

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "actors/history/history_db.hpp"

namespace {

using namespace epmpulse;
using bench_clock = std::chrono::steady_clock;

double ms_since(bench_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(bench_clock::now() - t0).count();
}

constexpr int apps = 20;
constexpr int domains_per_app = 50;

std::string app_name(int a) {
  return "App" + std::to_string(a);
}
std::string domain_name(int d) {
  return "Domain" + std::to_string(d);
}

void fill(history_db& db, std::uint64_t total, time_point start) {
  const auto span = std::chrono::milliseconds(std::chrono::hours(24 * 90)).count();
  const auto step = std::max<std::int64_t>(span / static_cast<std::int64_t>(total), 1);
  std::vector<domain_change> batch;
  batch.reserve(10'000);
  auto t0 = bench_clock::now();
  for (std::uint64_t id = 1; id <= total; ++id) {
    const auto job = (id - 1) / 2; // Loading, then its end
    const int domain = static_cast<int>(job % (apps * domains_per_app));
    domain_change c;
    c.id = id;
    c.app = app_name(domain / domains_per_app);
    c.domain = domain_name(domain % domains_per_app);
    const bool start_of_job = id % 2 == 1;
    c.before.status = start_of_job ? job_status::ok : job_status::loading;
    c.after.status = start_of_job ? job_status::loading
                                  : (job % 10 == 0 ? job_status::warning : job_status::ok);
    c.after.job_id = fmt::format("LOAD_{:08}", job);
    c.after.message = start_of_job ? std::nullopt : std::optional<std::string>("Loaded 1234 rows");
    c.received = start + std::chrono::milliseconds(static_cast<std::int64_t>(id) * step);
    c.after.updated = c.received;
    if (!start_of_job)
      c.after.duration_sec = static_cast<std::int64_t>(60 + job % 600);
    c.after.source = update_source::push;
    c.key_name = "epm_groovy";
    batch.push_back(std::move(c));
    if (batch.size() == batch.capacity() || id == total) {
      if (auto failure = db.insert(batch)) {
        std::cerr << "insert failed: " << *failure << "\n";
        std::exit(1);
      }
      if (auto failure = db.commit()) {
        std::cerr << "commit failed: " << *failure << "\n";
        std::exit(1);
      }
      batch.clear();
    }
  }
  std::cout << fmt::format(R"({{"fill":{{"changes":{},"seconds":{:.1f},"bytes":{}}}}})", total,
                           ms_since(t0) / 1000, db.used_bytes())
            << std::endl;
}

std::size_t stats(history_db& db, const stats_query& q) {
  return db.stats(q).domains.size();
}

} // namespace

int main(int argc, char** argv) {
  std::string dir = (std::filesystem::temp_directory_path() / "epmpulse-history-bench").string();
  std::uint64_t total = 1'000'000;
  int runs = 20;
  bool keep = false;
  CLI::App app{"history query timings"};
  app.add_option("--dir", dir);
  app.add_option("--changes", total);
  app.add_option("--runs", runs);
  app.add_flag("--keep", keep);
  CLI11_PARSE(app, argc, argv);

  std::filesystem::create_directories(dir);
  const auto path = (std::filesystem::path(dir) / history_file_name).string();
  const auto start = *parse_time("2026-09-01T00:00:00Z");
  std::string error;
  auto db = history_db::open(path, error);
  if (!db) {
    std::cerr << error << "\n";
    return 1;
  }
  if (db->count() != total) {
    db.reset();
    for (const char* suffix : {"", "-wal", "-shm"})
      std::filesystem::remove(path + suffix);
    db = history_db::open(path, error);
    fill(*db, total, start);
  }
  const auto end = start + std::chrono::hours(24 * 90);

  history_query deep;
  deep.before_id = total / 2; // a cursor in the middle of the history
  history_query one_domain;
  one_domain.app = "App7";
  one_domain.domain = "Domain13";
  history_query one_domain_deep = one_domain;
  one_domain_deep.before_id = total / 3;
  history_query one_app;
  one_app.app = "App3";
  history_query one_job;
  one_job.job_id = fmt::format("LOAD_{:08}", total / 4);
  history_query warnings;
  warnings.status = job_status::warning;
  history_query window;
  window.since = start + std::chrono::hours(24 * 30);
  window.until = start + std::chrono::hours(24 * 31);
  history_query window_domain = window;
  window_domain.app = "App1";
  window_domain.domain = "Domain2";
  history_query resume;
  resume.after_id = total - 5000;
  resume.limit = 500;
  history_query rare;
  rare.app = "App0";
  rare.status = job_status::warning;
  rare.since = start + std::chrono::hours(24 * 60);
  stats_query stats_domain{"App7", "Domain13", 30, end};
  stats_query stats_app{"App7", std::nullopt, 30, end};
  stats_query stats_all{std::nullopt, std::nullopt, 30, end};

  std::vector<std::pair<std::string, std::function<std::size_t()>>> shapes = {
    {"newest page (limit 100)", [&] { return db->query({}).entries.size(); }},
    {"cursor in the middle", [&] { return db->query(deep).entries.size(); }},
    {"app+domain", [&] { return db->query(one_domain).entries.size(); }},
    {"app+domain, cursor deep", [&] { return db->query(one_domain_deep).entries.size(); }},
    {"app", [&] { return db->query(one_app).entries.size(); }},
    {"job_id", [&] { return db->query(one_job).entries.size(); }},
    {"status=Warning", [&] { return db->query(warnings).entries.size(); }},
    {"since+until (one day)", [&] { return db->query(window).entries.size(); }},
    {"since+until+app+domain", [&] { return db->query(window_domain).entries.size(); }},
    {"app+status+since", [&] { return db->query(rare).entries.size(); }},
    {"resume after id (limit 500)", [&] { return db->query(resume).entries.size(); }},
    {"stats one domain, 30 days", [&] { return stats(*db, stats_domain); }},
    {"stats one app, 30 days", [&] { return stats(*db, stats_app); }},
    {"stats every domain, 30 days", [&] { return stats(*db, stats_all); }},
  };
  for (auto& [name, run] : shapes) {
    auto found = run(); // warm-up
    std::vector<double> times;
    for (int i = 0; i < runs; ++i) {
      auto t0 = bench_clock::now();
      run();
      times.push_back(ms_since(t0));
    }
    std::sort(times.begin(), times.end());
    std::cout << fmt::format(
                   R"({{"query":"{}","rows":{},"median_ms":{:.3f},"max_ms":{:.3f},"changes":{}}})",
                   name, found, times[times.size() / 2], times.back(), total)
              << std::endl;
  }
  if (!keep) {
    db.reset();
    std::filesystem::remove_all(dir);
  }
  return 0;
}
