#pragma once

// The secrets of a test run and the server logs they must never appear in.
//
// With EPMPULSE_TEST_LOG_DIR set (CMake sets it to <build>/test-logs), every
// server a test starts writes its log into that directory, and every secret
// a test hands a server (API keys, Slack token and EPM credentials from
// write_config, secret-looking environment variables, tokens the fake token
// endpoint issues) is registered in a file there. The test
// integration.log_secrets runs after the other integration tests and scans
// every log of the run for every registered secret.

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace epmpulse::test {

/// The run's log directory (created on first use); empty when
/// EPMPULSE_TEST_LOG_DIR was not set at build time.
std::filesystem::path test_log_dir();

/// A fresh file name in the log directory for one server's output, naming
/// the current test case; empty without a log directory.
std::filesystem::path new_log_path(const std::string& what);

/// Records `value` as a secret no log may contain. Values shorter than
/// min_secret_length are ignored (they would match by chance); so are
/// ${VAR} placeholders (their values are registered where they are set).
void register_secret(const std::string& value);

inline constexpr std::size_t min_secret_length = 8;

/// The secrets in a configuration document: api_keys[].key,
/// settings.slack.bot_token, epm.auth.client_secret / refresh_token /
/// password, and the Basic credentials built from username and password.
void register_config_secrets(const nlohmann::json& config);

/// Environment values whose names hold KEY, TOKEN, SECRET or PASSWORD.
void register_env_secrets(const std::map<std::string, std::string>& env);

/// The files of `dir` this run wrote: those written since the marker
/// `run-started` (set by integration.log_run_start), all without a marker.
std::vector<std::filesystem::path> files_of_this_run(const std::filesystem::path& dir);

/// Deletes the files of earlier runs (older than the marker).
void remove_earlier_runs(const std::filesystem::path& dir);

/// Every secret registered by any test process of the run (read back from
/// the log directory).
std::vector<std::string> registered_secrets(const std::filesystem::path& dir);

/// One secret found in one log.
struct leak {
  std::string log;    ///< file name
  std::size_t line;   ///< 1-based
  std::string secret; ///< masked: its first 3 characters and its length
  std::string form;   ///< "as is", "JSON-escaped", "percent-encoded", "first half", "second half"
};

/// Every occurrence of every secret in `logs` (name -> text): the value as
/// is, JSON-escaped and percent-encoded, and for secrets of 24 characters or
/// more either half alone (a log that cuts a secret short still leaks it).
std::vector<leak> find_leaks(const std::map<std::string, std::string>& logs,
                             const std::vector<std::string>& secrets);

} // namespace epmpulse::test
