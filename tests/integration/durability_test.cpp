#include <boost/test/unit_test.hpp>

// The state file across restarts, crashes and corruption; file modes; the
// generated key file when no key is configured.

#include <signal.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/time_util.hpp"
#include "tests/support/wait.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(durability_tests)

using namespace epmpulse::test;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  BOOST_REQUIRE_EQUAL(::stat(p.c_str(), &st), 0);
  return st.st_mode & 0777;
}

std::vector<fs::path> files_starting_with(const fs::path& dir, const std::string& prefix) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().rfind(prefix, 0) == 0)
      out.push_back(e.path());
  return out;
}

bool logged_at_level(const server_process& s, const std::string& level) {
  for (const auto& l : s.log_lines())
    if (l.value("level", "") == level)
      return true;
  return false;
}

/// Every string value under objects that have both "key" and "role".
void collect_keys(const json& j, std::vector<std::pair<std::string, std::string>>& out) {
  if (j.is_object()) {
    if (j.contains("key") && j["key"].is_string() && j.contains("role") && j["role"].is_string())
      out.emplace_back(j["key"].get<std::string>(), j["role"].get<std::string>());
    for (const auto& [k, v] : j.items())
      collect_keys(v, out);
  } else if (j.is_array()) {
    for (const auto& v : j)
      collect_keys(v, out);
  }
}

json pushed(const std::string& domain, const std::string& status, const std::string& job) {
  return update("Planning", domain, status, {{"job_id", job}});
}

/// Puts a non-empty directory where `path` was: opening it for writing and
/// renaming a file over it both fail, even for root (unlike a read-only mode).
void block_with_directory(const fs::path& path) {
  fs::remove(path);
  fs::create_directories(path / "blocker");
}

/// The JSON state file (not the service) shows `job` for a Planning domain.
bool snapshot_shows(service& svc, const std::string& domain, const std::string& job) {
  auto doc = svc.state_json();
  if (!doc.is_object())
    return false;
  auto d = doc.value(json::json_pointer("/apps/Planning/domains/" + domain), json());
  return d.is_object() && d["job_id"].is_string() && d["job_id"] == job;
}

/// Pushes Actual FROM_BACKUP, stops the server and copies the state file as
/// a backup (data/backups/apps_status-<UTC time>.json) dated 2099; returns
/// the backups folder.
fs::path stop_with_a_backup_of_actual(service& svc) {
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "OK", "FROM_BACKUP")));
  BOOST_REQUIRE_EQUAL(svc.server().stop(), 0);
  const auto backups = svc.data_dir() / "backups";
  fs::create_directories(backups);
  fs::copy_file(svc.state_file(), backups / "apps_status-20991231T000000Z.json",
                fs::copy_options::overwrite_existing);
  return backups;
}

} // namespace

BOOST_AUTO_TEST_CASE(missing_state_file_is_created_from_the_config_with_mode_0600) {
  service svc;
  BOOST_REQUIRE(fs::exists(svc.state_file()));
  BOOST_TEST(mode_of(svc.state_file()) == 0600u);
  auto f = svc.state_json();
  BOOST_REQUIRE(f.is_object());
  BOOST_TEST(f["version"] == "1.0");
  BOOST_TEST(f.contains("last_updated"));
  BOOST_TEST(f["metadata"].is_object());
  BOOST_TEST(f["recent_jobs"].is_array());
  BOOST_TEST(f["apps"]["Planning"]["domains"]["Actual"]["status"] == "Blank", f.dump());
  BOOST_TEST(f["apps"]["ARCS"]["domains"]["Reconciliation"]["status"] == "Blank");
}

BOOST_AUTO_TEST_CASE(state_file_has_the_documented_layout_and_stays_0600_after_writes) {
  service svc;
  check_success(svc.writer().post("/api/v1/status",
                                  pushed("Actual", "Loading", "LAYOUT_1")));
  // The change log has it at once; the JSON snapshot follows within seconds.
  BOOST_REQUIRE(eventually([&] { return snapshot_shows(svc, "Actual", "LAYOUT_1"); }, 10s));
  BOOST_TEST(mode_of(svc.state_file()) == 0600u);
  auto f = svc.state_json();
  auto d = f["apps"]["Planning"]["domains"]["Actual"];
  for (const char* key : {"status", "job_id", "message", "updated", "duration_sec"})
    BOOST_TEST(d.contains(key), "domain entry lacks '" << key << "': " << d.dump());
  BOOST_TEST(d["status"] == "Loading");
  BOOST_TEST(f["metadata"]["log_seq"].is_number_unsigned(), f["metadata"].dump());
  // No temp files are left behind by the atomic write; the change log, when
  // present, is private too.
  for (const auto& e : fs::directory_iterator(svc.data_dir())) {
    auto name = e.path().filename().string();
    BOOST_TEST((name == "apps_status.json" || name == "backups" || name == "api_keys.json"
                || name == "apps_status.wal" || name == "apps_status.wal.prev"
                || name == "dashboard_signing.key" || name.rfind("history.sqlite3", 0) == 0),
               "unexpected file in the data dir: " << name);
    if (name.rfind("apps_status.wal", 0) == 0 || name == "dashboard_signing.key")
      BOOST_TEST(mode_of(e.path()) == 0600u, name);
  }
}

BOOST_AUTO_TEST_CASE(restart_keeps_state) {
  service svc;
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "OK", "KEEP_1")));
  check_success(svc.writer().post("/api/v1/status",
                                  update("Planning", "Added Later", "Warning",
                                         {{"job_id", "KEEP_2"}, {"message", "kept"}})));
  svc.server().restart();
  auto s = svc.status();
  BOOST_TEST(s["apps"]["Planning"]["Actual"]["status"] == "OK");
  BOOST_TEST(s["apps"]["Planning"]["Actual"]["job_id"] == "KEEP_1");
  BOOST_TEST(s["apps"]["Planning"]["Added Later"]["message"] == "kept");
  BOOST_TEST(s["apps"]["Planning"]["Budget"]["status"] == "Blank");
}

BOOST_AUTO_TEST_CASE(sigterm_exits_zero_with_state_flushed) {
  service svc;
  check_success(svc.writer().post("/api/v1/status", pushed("Budget", "OK", "TERM_1")));
  BOOST_TEST(svc.server().stop() == 0);
  auto f = svc.state_json();
  BOOST_TEST(f["apps"]["Planning"]["domains"]["Budget"]["job_id"] == "TERM_1");
  // Shutdown writes the final snapshot and leaves no change log behind.
  BOOST_TEST(!fs::exists(svc.data_dir() / "apps_status.wal"));
  BOOST_TEST(!fs::exists(svc.data_dir() / "apps_status.wal.prev"));
}

BOOST_AUTO_TEST_CASE(sigint_exits_zero_too) {
  service svc;
  svc.server().signal(SIGINT);
  auto code = svc.server().wait_exit(10s);
  BOOST_REQUIRE(code.has_value());
  BOOST_TEST(*code == 0);
}

BOOST_AUTO_TEST_CASE(acknowledged_update_survives_a_crash) {
  service svc;
  check_success(svc.writer().post("/api/v1/status", pushed("Forecast", "OK", "CRASH_1")));
  svc.server().kill(); // SIGKILL: no flush, no goodbye
  svc.server().restart();
  BOOST_TEST(svc.domain("Planning", "Forecast")["job_id"] == "CRASH_1");
  // Start-up folds the change log into the state file and empties the log.
  BOOST_TEST(svc.state_json()["apps"]["Planning"]["domains"]["Forecast"]["job_id"] == "CRASH_1");
  BOOST_TEST(!fs::exists(svc.data_dir() / "apps_status.wal"));
}

BOOST_AUTO_TEST_CASE(every_acknowledged_update_of_a_burst_survives_a_crash) {
  service svc;
  std::vector<std::string> acknowledged;
  for (int i = 0; i < 40; ++i) {
    auto job = "BURST_" + std::to_string(i);
    auto r = svc.writer().post("/api/v1/status",
                               update("Planning", "Burst " + std::to_string(i % 8), "OK",
                                      {{"job_id", job}}));
    check_success(r);
    acknowledged.push_back(job);
  }
  svc.server().kill();
  svc.server().restart();
  // The last acknowledged job of each domain is what is served.
  for (int d = 0; d < 8; ++d) {
    auto got = svc.domain("Planning", "Burst " + std::to_string(d));
    BOOST_TEST(got["job_id"] == acknowledged[static_cast<std::size_t>(32 + d)], got.dump());
  }
}

BOOST_AUTO_TEST_CASE(a_torn_change_log_tail_is_skipped_at_start_up) {
  service svc;
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "OK", "TORN_1")));
  svc.server().kill();
  // A crash in the middle of an append leaves half a record (never acknowledged).
  {
    std::ofstream wal(svc.data_dir() / "apps_status.wal", std::ios::app);
    wal << R"({"seq": 999999, "at": "2026-02-16T14:30:00Z", "updates": [{"app": "Plan)";
  }
  svc.server().restart();
  BOOST_TEST(svc.domain("Planning", "Actual")["job_id"] == "TORN_1");
  BOOST_TEST(logged_at_level(svc.server(), "warn"), "the skipped line should be reported");
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "OK", "TORN_2")));
  svc.server().kill();
  svc.server().restart();
  BOOST_TEST(svc.domain("Planning", "Actual")["job_id"] == "TORN_2");
}

BOOST_AUTO_TEST_CASE(loading_domains_stay_loading_across_restart) {
  service svc;
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "Loading", "LOAD_RESTART")));
  svc.server().restart();
  auto d = svc.domain("Planning", "Actual");
  BOOST_TEST(d["status"] == "Loading");
  BOOST_TEST(d["job_id"] == "LOAD_RESTART");
}

BOOST_AUTO_TEST_CASE(corrupt_state_file_is_moved_aside_and_fresh_state_served) {
  service_options o;
  o.start = false;
  service svc(o);
  const std::string garbage = "{\"version\": \"1.0\", \"apps\": {tru";
  write_file(svc.state_file(), garbage);
  svc.start();

  auto aside = files_starting_with(svc.data_dir(), "apps_status.json.corrupt-");
  BOOST_REQUIRE_EQUAL(aside.size(), 1u);
  BOOST_TEST(read_file(aside[0]) == garbage, "the corrupt file must be kept as it was");
  BOOST_TEST(std::regex_match(aside[0].filename().string(),
                              std::regex(R"(apps_status\.json\.corrupt-[0-9TZ]{8,}.*)")),
             aside[0].filename().string());
  BOOST_TEST(logged_at_level(svc.server(), "warn"), svc.server().log_text());

  auto s = svc.status();
  BOOST_TEST(s["apps"]["Planning"]["Actual"]["status"] == "Blank");
  BOOST_TEST(svc.state_json().is_object(), "a fresh valid state file replaces the corrupt one");
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "OK", "AFTER_CORRUPT")));
  auto h = svc.anonymous().get("/api/v1/health").json();
  BOOST_TEST(h["status"] == "healthy", h.dump());
}

BOOST_AUTO_TEST_CASE(valid_json_that_is_not_a_state_is_treated_as_corrupt) {
  service_options o;
  o.start = false;
  service svc(o);
  write_file(svc.state_file(), R"({"version": "1.0", "apps": {"Planning": {"domains": {"Actual": {"status": "Exploded"}}}}})");
  svc.start();
  BOOST_TEST(files_starting_with(svc.data_dir(), "apps_status.json.corrupt-").size() == 1u);
  BOOST_TEST(svc.domain("Planning", "Actual")["status"] == "Blank");
}

BOOST_AUTO_TEST_CASE(empty_state_file_is_treated_as_corrupt) {
  service_options o;
  o.start = false;
  service svc(o);
  write_file(svc.state_file(), "");
  svc.start();
  BOOST_TEST(files_starting_with(svc.data_dir(), "apps_status.json.corrupt-").size() == 1u);
  BOOST_TEST(svc.domain("Planning", "Actual")["status"] == "Blank");
}

BOOST_AUTO_TEST_CASE(corrupt_state_file_is_recovered_from_the_newest_valid_backup) {
  service svc;
  // The broken backup is the newest by name and by mtime, so it is tried (and
  // skipped) first.
  const auto backups = stop_with_a_backup_of_actual(svc);
  write_file(backups / "apps_status-20991231T000001Z.json", "{broken");
  write_file(svc.state_file(), "not json at all");
  svc.server().restart();
  BOOST_TEST(files_starting_with(svc.data_dir(), "apps_status.json.corrupt-").size() == 1u);
  auto d = svc.domain("Planning", "Actual");
  BOOST_TEST(d["job_id"] == "FROM_BACKUP", "the valid backup should be restored: " << d.dump());
}

BOOST_AUTO_TEST_CASE(a_failed_log_append_is_not_confirmed_degrades_health_and_is_retried) {
  service svc;
  BOOST_TEST_REQUIRE(svc.writer().post("/api/v1/status", update("Planning", "Actual", "Loading",
                                                                {{"job_id", "W_1"}})).status
                     == 200);
  // Once the snapshot holds W_1 the log has been moved aside and dropped.
  BOOST_REQUIRE(eventually([&] { return snapshot_shows(svc, "Actual", "W_1"); }, 10s));
  // A directory where the change log goes: the append cannot open it.
  auto wal = svc.data_dir() / "apps_status.wal";
  BOOST_REQUIRE(eventually([&] { return !fs::exists(wal); }, 10s));
  block_with_directory(wal);
  auto r = svc.writer().post("/api/v1/status", update("Planning", "Actual", "OK",
                                                      {{"job_id", "W_2"}}));
  check_error(r, 500, "STATE_ERROR");
  auto health = svc.anonymous().get("/api/v1/health");
  BOOST_TEST(health.status == 503, health.describe());
  BOOST_TEST(health.json()["status"] == "degraded");
  BOOST_TEST(health.json()["checks"]["change_log"] != "ok", health.body);
  BOOST_TEST(!leaks_internals(health.body));

  fs::remove_all(wal);
  // The change stayed in memory and the retry logs it: nothing else pushes.
  BOOST_REQUIRE(eventually([&] { return svc.anonymous().get("/api/v1/health").status == 200; },
                           10s));
  BOOST_TEST(svc.domain("Planning", "Actual")["job_id"] == "W_2");
  BOOST_REQUIRE(eventually([&] { return snapshot_shows(svc, "Actual", "W_2"); }, 10s));
  svc.server().kill();
  svc.server().restart();
  BOOST_TEST(svc.domain("Planning", "Actual")["job_id"] == "W_2");
}

BOOST_AUTO_TEST_CASE(a_state_file_that_cannot_be_rewritten_loses_nothing) {
  service svc;
  // The snapshot's rename over the state file fails. Pushes stay
  // confirmed: the change log holds them.
  block_with_directory(svc.state_file());
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "OK", "SNAP_1")));
  BOOST_REQUIRE(eventually(
    [&] {
      auto h = svc.anonymous().get("/api/v1/health");
      return h.status == 200 && h.json()["checks"]["state_file"] != "ok";
    },
    10s));
  auto health = svc.anonymous().get("/api/v1/health");
  BOOST_TEST(health.json()["status"] == "degraded", health.body);
  BOOST_TEST(health.json()["checks"]["change_log"] == "ok", health.body);
  BOOST_TEST(!leaks_internals(health.body));
  check_success(svc.writer().post("/api/v1/status", pushed("Budget", "OK", "SNAP_2")));

  // The snapshot is retried and catches up once the file can be written.
  fs::remove_all(svc.state_file());
  BOOST_REQUIRE(eventually([&] { return snapshot_shows(svc, "Budget", "SNAP_2"); }, 15s));
  BOOST_TEST(svc.state_json()["apps"]["Planning"]["domains"]["Actual"]["job_id"] == "SNAP_1");
  BOOST_REQUIRE(eventually(
    [&] { return svc.anonymous().get("/api/v1/health").json()["status"] == "healthy"; }, 10s));
}

BOOST_AUTO_TEST_CASE(a_crash_while_the_state_file_is_stale_is_recovered_from_the_log) {
  service svc;
  block_with_directory(svc.state_file());
  check_success(svc.writer().post("/api/v1/status", pushed("Actual", "OK", "STALE_1")));
  BOOST_REQUIRE(eventually(
    [&] { return svc.anonymous().get("/api/v1/health").json()["checks"]["state_file"] != "ok"; },
    10s));
  svc.server().kill();
  // Whoever unblocks the disk puts an older state file back.
  fs::remove_all(svc.state_file());
  svc.server().restart();
  BOOST_TEST(svc.domain("Planning", "Actual")["job_id"] == "STALE_1");
}

BOOST_AUTO_TEST_CASE(a_missing_state_file_next_to_a_change_log_is_recovered_from_the_backup) {
  // What a crash leaves after a corrupt state file was moved aside and the
  // backup served, but the disk was full for the rewrite: backups and a
  // change log, no state file. The backup's domains must not be lost.
  service svc;
  stop_with_a_backup_of_actual(svc);
  svc.server().restart();
  block_with_directory(svc.state_file());
  check_success(svc.writer().post("/api/v1/status", pushed("Budget", "OK", "FROM_LOG")));
  svc.server().kill();
  fs::remove_all(svc.state_file());
  BOOST_REQUIRE(fs::exists(svc.data_dir() / "apps_status.wal")
                || fs::exists(svc.data_dir() / "apps_status.wal.prev"));
  svc.server().restart();
  BOOST_TEST(svc.domain("Planning", "Actual")["job_id"] == "FROM_BACKUP");
  BOOST_TEST(svc.domain("Planning", "Budget")["job_id"] == "FROM_LOG");
}

BOOST_AUTO_TEST_CASE(recent_jobs_are_bounded_to_fifty) {
  service svc;
  for (int i = 0; i < 60; ++i)
    check_success(svc.writer().post("/api/v1/status",
                                    pushed("Actual", i % 2 ? "OK" : "Loading",
                                           "RJ_" + std::to_string(i / 2))));
  auto f = svc.settled_state_json();
  BOOST_REQUIRE(f["recent_jobs"].is_array());
  BOOST_TEST(f["recent_jobs"].size() <= 50u);
  BOOST_TEST(!f["recent_jobs"].empty());
}

BOOST_AUTO_TEST_CASE(without_configured_keys_keys_are_generated_into_a_0600_file_never_logged) {
  service_options o;
  o.config["api_keys"] = json::array();
  service svc(o);
  const auto key_file = svc.data_dir() / "api_keys.json";
  BOOST_REQUIRE(fs::exists(key_file));
  BOOST_TEST(mode_of(key_file) == 0600u);
  auto doc = json::parse(read_file(key_file), nullptr, false);
  BOOST_REQUIRE(!doc.is_discarded());
  std::vector<std::pair<std::string, std::string>> keys;
  collect_keys(doc, keys);
  BOOST_REQUIRE_MESSAGE(!keys.empty(), "no {key, role} entries in " << doc.dump());

  const auto log = svc.server().log_text();
  BOOST_TEST((log.find(key_file.string()) != std::string::npos
              || log.find("api_keys.json") != std::string::npos),
             "the log should name the key file");
  for (const auto& [key, role] : keys) {
    BOOST_TEST(key.size() >= 16u);
    BOOST_TEST(log.find(key) == std::string::npos, "a generated key was logged");
  }

  std::string writer_key;
  for (const auto& [key, role] : keys)
    if (role == "write" || role == "admin")
      writer_key = key;
  BOOST_REQUIRE(!writer_key.empty());
  check_success(svc.client(writer_key).post("/api/v1/status", pushed("Actual", "OK", "GEN_1")));

  // The file is reused on the next start, not regenerated.
  const auto before = read_file(key_file);
  svc.server().restart();
  BOOST_TEST(read_file(key_file) == before);
  BOOST_TEST(svc.client(writer_key).get("/api/v1/status").status == 200);
  BOOST_TEST(svc.server().log_text().find(writer_key) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END() // durability_tests
