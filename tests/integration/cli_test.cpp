#include <boost/test/unit_test.hpp>

// The command line: --check-config, --version, --help, environment fallbacks,
// and start-up refusing a bad config with exit code 2 and the field's name.

#include "tests/support/api_checks.hpp"
#include "tests/support/service_fixture.hpp"

// Every case lives in this file's suite: the suite is also a C++ namespace,
// which keeps the helpers below apart from the other files of the unity build.
BOOST_AUTO_TEST_SUITE(cli_tests)

using namespace epmpulse::test;
using nlohmann::json;

namespace {

struct config_dir {
  temp_dir dir{"epmpulse-cli-"};

  std::string write(const json& cfg) const { return write_config(dir.path(), cfg).string(); }
  std::string data() const { return dir.make_subdir("data").string(); }
};

run_result check_config(const std::string& path, const std::map<std::string, std::string>& env = {}) {
  return run_binary({"--check-config", "--config", path}, env);
}

std::string describe(const run_result& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout: " + r.out + "\nstderr: " + r.err;
}

} // namespace

BOOST_FIXTURE_TEST_SUITE(cli, config_dir)

BOOST_AUTO_TEST_CASE(check_config_on_a_good_config_exits_0) {
  auto r = check_config(write(default_test_config()));
  BOOST_TEST(r.exit_code == 0, describe(r));
}

BOOST_AUTO_TEST_CASE(check_config_does_not_start_the_server) {
  auto r = check_config(write(default_test_config()));
  BOOST_TEST(r.exit_code == 0, describe(r));
  BOOST_TEST(r.err.find("\"listening\"") == std::string::npos, describe(r));
}

BOOST_AUTO_TEST_CASE(check_config_with_a_bad_value_exits_2_naming_the_field) {
  auto cfg = default_test_config();
  cfg["settings"]["max_backups"] = "many";
  auto r = check_config(write(cfg));
  BOOST_TEST(r.exit_code == 2, describe(r));
  BOOST_TEST((r.err + r.out).find("max_backups") != std::string::npos, describe(r));
}

BOOST_AUTO_TEST_CASE(check_config_with_a_short_key_exits_2_naming_api_keys) {
  auto cfg = default_test_config();
  cfg["api_keys"][0]["key"] = "short";
  auto r = check_config(write(cfg));
  BOOST_TEST(r.exit_code == 2, describe(r));
  BOOST_TEST((r.err + r.out).find("api_keys") != std::string::npos, describe(r));
  BOOST_TEST((r.err + r.out).find("\"short\"") == std::string::npos,
             "the message must not echo the key value");
}

BOOST_AUTO_TEST_CASE(check_config_with_a_bad_role_exits_2_naming_the_role) {
  auto cfg = default_test_config();
  cfg["api_keys"][0]["role"] = "superuser";
  auto r = check_config(write(cfg));
  BOOST_TEST(r.exit_code == 2, describe(r));
  BOOST_TEST((r.err + r.out).find("role") != std::string::npos, describe(r));
}

BOOST_AUTO_TEST_CASE(check_config_on_malformed_json_exits_2) {
  auto path = dir.file("broken.json");
  write_file(path, "{\"apps\": ");
  auto r = check_config(path.string());
  BOOST_TEST(r.exit_code == 2, describe(r));
  BOOST_TEST(!r.err.empty());
}

BOOST_AUTO_TEST_CASE(check_config_with_an_unresolved_variable_exits_2_naming_the_field) {
  auto cfg = default_test_config();
  cfg["settings"]["log_level"] = "${EPMPULSE_TEST_NEVER_SET}";
  auto r = check_config(write(cfg));
  BOOST_TEST(r.exit_code == 2, describe(r));
  BOOST_TEST((r.err + r.out).find("log_level") != std::string::npos, describe(r));
}

BOOST_AUTO_TEST_CASE(check_config_on_a_missing_file_fails_naming_it) {
  auto path = dir.file("does-not-exist.json").string();
  auto r = check_config(path);
  BOOST_TEST(r.exit_code == 2, describe(r));
  BOOST_TEST((r.err + r.out).find("does-not-exist.json") != std::string::npos, describe(r));
}

BOOST_AUTO_TEST_CASE(config_path_falls_back_to_the_environment) {
  auto good = write(default_test_config());
  auto r = run_binary({"--check-config"}, {{"EPMPULSE_CONFIG", good}});
  BOOST_TEST(r.exit_code == 0, describe(r));
  auto bad = run_binary({"--check-config"},
                        {{"EPMPULSE_CONFIG", dir.file("nope.json").string()}});
  BOOST_TEST(bad.exit_code == 2, describe(bad));
}

BOOST_AUTO_TEST_CASE(server_start_with_a_bad_config_exits_2_without_listening) {
  auto cfg = default_test_config();
  cfg["settings"]["max_backups"] = -3;
  auto r = run_binary({"--config", write(cfg), "--data-dir", data(), "--host", "127.0.0.1",
                       "--port", "0"});
  BOOST_TEST(r.exit_code == 2, describe(r));
  BOOST_TEST(r.err.find("max_backups") != std::string::npos, describe(r));
  BOOST_TEST(r.err.find("\"listening\"") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(version_prints_the_version_and_exits_0) {
  auto r = run_binary({"--version"});
  BOOST_TEST(r.exit_code == 0, describe(r));
  BOOST_TEST((r.out + r.err).find("0.1.0") != std::string::npos, describe(r));
}

BOOST_AUTO_TEST_CASE(help_lists_the_options_and_exits_0) {
  auto r = run_binary({"--help"});
  BOOST_TEST(r.exit_code == 0, describe(r));
  for (const char* opt : {"--config", "--data-dir", "--host", "--port", "--check-config"})
    BOOST_TEST((r.out + r.err).find(opt) != std::string::npos, opt << " missing: " << describe(r));
}

BOOST_AUTO_TEST_CASE(unknown_option_fails) {
  auto r = run_binary({"--no-such-option"});
  BOOST_TEST(r.exit_code != 0, describe(r));
}

BOOST_AUTO_TEST_CASE(config_data_dir_host_and_port_fall_back_to_the_environment) {
  server_options so;
  so.default_args = false; // no command-line options at all
  const auto data_dir = data();
  so.env = {{"EPMPULSE_CONFIG", write(default_test_config())},
            {"EPMPULSE_DATA_DIR", data_dir},
            {"EPMPULSE_HOST", "127.0.0.1"},
            {"EPMPULSE_PORT", "0"}};
  server_process s(so);
  BOOST_TEST(s.port() != 0);
  BOOST_TEST(api_client(s.base_url()).get("/api/v1/health").status == 200);
  BOOST_TEST(std::filesystem::exists(std::filesystem::path(data_dir) / "apps_status.json"));
  BOOST_TEST(s.stop() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END() // cli_tests
