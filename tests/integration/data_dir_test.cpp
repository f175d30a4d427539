#include <boost/test/unit_test.hpp>

// The data directory holds the state, the change log, backups and generated
// keys: the service creates it 0700 (its files are 0600), warns about an
// existing one open to others without changing it, and refuses a path that
// is not a directory.

#include "tests/support/api_checks.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/service_fixture.hpp"
#include "tests/support/test_config.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(data_dir_tests)

using namespace epmpulse::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

/// The permission bits, as `ls -l` shows them in octal.
unsigned mode_of(const fs::path& p) {
  return static_cast<unsigned>(fs::status(p).permissions() & fs::perms::mask);
}

std::optional<json> warning_about_mode(const server_process& server) {
  for (const auto& line : server.log_lines())
    if (line.value("level", "") == "warn"
        && line.value("message", "").find("open to other users") != std::string::npos)
      return line;
  return std::nullopt;
}

server_options options_for(const temp_dir& dir, const fs::path& data_dir,
                           json config = default_test_config()) {
  server_options o;
  o.config_path = write_config(dir.path(), config);
  o.data_dir = data_dir;
  return o;
}

} // namespace

BOOST_AUTO_TEST_CASE(a_missing_data_dir_is_created_0700_and_its_files_are_0600) {
  temp_dir dir;
  const auto data = dir.path() / "var" / "epmpulse";
  // No key configured: the generated key file is the first thing written.
  auto config = default_test_config();
  config["api_keys"] = json::array();
  server_process server(options_for(dir, data, config));
  BOOST_TEST(mode_of(data) == 0700u);
  BOOST_TEST(!warning_about_mode(server).has_value(), server.log_text());
  BOOST_TEST(mode_of(data / "api_keys.json") == 0600u);
  BOOST_TEST(mode_of(data / "apps_status.json") == 0600u);
}

BOOST_AUTO_TEST_CASE(a_missing_data_dir_given_with_a_trailing_slash_is_created_0700) {
  temp_dir dir;
  const auto data = dir.path() / "var" / "epmpulse";
  server_process server(options_for(dir, data.string() + "/"));
  BOOST_TEST(mode_of(data) == 0700u);
  BOOST_TEST(mode_of(data / "apps_status.json") == 0600u);
}

BOOST_AUTO_TEST_CASE(the_change_log_and_the_state_file_are_0600) {
  service svc;
  check_success(svc.writer().post("/api/v1/status",
                                  update("Planning", "Actual", "OK", {{"job_id", "MODE_1"}})));
  // The log is there until the next snapshot folds it in; catch it or the file.
  const auto wal = svc.data_dir() / "apps_status.wal";
  if (fs::exists(wal))
    BOOST_TEST(mode_of(wal) == 0600u);
  svc.settled_state_json();
  BOOST_TEST(mode_of(svc.state_file()) == 0600u);
  BOOST_TEST(mode_of(svc.data_dir()) == 0700u);
  BOOST_TEST(!warning_about_mode(svc.server()).has_value());
}

BOOST_AUTO_TEST_CASE(an_existing_data_dir_open_to_others_is_warned_about_and_kept) {
  temp_dir dir;
  const auto data = dir.make_subdir("data");
  fs::permissions(data, fs::perms(0755));
  server_process server(options_for(dir, data));
  auto warning = warning_about_mode(server);
  BOOST_REQUIRE_MESSAGE(warning.has_value(), server.log_text());
  BOOST_TEST((*warning)["fields"]["path"] == data.string());
  BOOST_TEST((*warning)["fields"]["mode"] == "0755");
  BOOST_TEST(warning->dump().find("chmod 700") != std::string::npos);
  // The operator's choice stands (a backup group may read it); the files
  // inside stay private.
  BOOST_TEST(mode_of(data) == 0755u);
  BOOST_TEST(mode_of(data / "apps_status.json") == 0600u);
}

BOOST_AUTO_TEST_CASE(a_data_dir_path_that_is_a_file_stops_start_up_with_the_reason) {
  temp_dir dir;
  const auto data = dir.path() / "data";
  write_file(data, "not a directory");
  auto config = write_config(dir.path(), default_test_config());
  auto r = run_binary({"--config", config.string(), "--data-dir", data.string(), "--host",
                       "127.0.0.1", "--port", "0"});
  BOOST_TEST(r.exit_code != 0);
  BOOST_TEST(r.err.find(data.string()) != std::string::npos, r.err);
  BOOST_TEST(r.err.find("not a directory") != std::string::npos, r.err);
}

BOOST_AUTO_TEST_SUITE_END() // data_dir_tests
