#pragma once

// The real epmpulse binary as a child process on 127.0.0.1:<ephemeral>.
// Started with `--config C --data-dir D --host 127.0.0.1 --port 0` plus extra
// arguments, with a minimal explicit environment (PATH, HOME and what the test
// sets; nothing EPMPULSE_* or SLACK_* leaks in from the caller). stderr goes
// to a log file (in the run's test-logs directory when the build has one,
// see log_secrets.hpp; secret-looking environment values are registered
// there); start-up waits for the JSON log line {"message":"listening",
// "fields":{"address","port","url"}}.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/temp_dir.hpp"

namespace epmpulse::test {

/// Path of the built server binary (EPMPULSE_BINARY from CMake).
std::string server_binary();

struct server_options {
  std::filesystem::path config_path;
  std::filesystem::path data_dir;
  std::vector<std::string> extra_args;
  std::map<std::string, std::string> env; ///< added to PATH and HOME
  /// false: pass only extra_args (to test the EPMPULSE_* fallbacks).
  bool default_args = true;
  std::chrono::milliseconds start_timeout = std::chrono::seconds(10);
  std::chrono::milliseconds stop_timeout = std::chrono::seconds(10);
};

class server_process {
public:
  /// Starts the server and waits until it logs "listening"; throws (with
  /// the log's tail) when it exits or does not listen before the deadline.
  explicit server_process(server_options opts);

  /// Stops a still-running server (SIGTERM, then SIGKILL after the deadline).
  /// When the current Boost.Test case has failed, prints the log's tail.
  ~server_process();

  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  /// "http://127.0.0.1:<port>" as announced in the "listening" line.
  const std::string& base_url() const { return base_url_; }
  std::uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running();

  /// SIGTERM, waits up to stop_timeout, SIGKILL after it. Returns the exit
  /// code (128 + signal number when killed by a signal).
  int stop();

  /// SIGKILL at once (a crash); returns once the process is reaped.
  void kill();

  /// Sends `sig` without waiting.
  void signal(int sig);

  /// Waits (deadline) for the process to exit on its own.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  /// Exit code once the process is gone (128 + signal when signalled).
  std::optional<int> exit_code() const { return exit_code_; }

  /// Stops (if running) and starts again with the same arguments and data dir.
  void restart();

  /// The current run's stderr.
  std::string log_text() const;

  /// The current run's stderr, one parsed JSON object per line (lines that
  /// are not JSON are skipped; use log_text() to see them).
  std::vector<nlohmann::json> log_lines() const;

  /// Every line of the current run's stderr that is not a JSON object.
  std::vector<std::string> non_json_log_lines() const;

  /// The current run's log file.
  const std::filesystem::path& log_path() const { return log_path_; }

  /// The first log line whose "message" equals `message`, if any.
  std::optional<nlohmann::json> find_log(const std::string& message) const;

  const server_options& options() const { return opts_; }

private:
  void start();
  bool reap(bool block);

  server_options opts_;
  temp_dir log_dir_{"epmpulse-log-"};
  int runs_ = 0;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string base_url_;
  std::uint16_t port_ = 0;
};

/// Result of running the binary to completion.
struct run_result {
  int exit_code = -1; ///< 128 + signal when signalled; -1 when it timed out (killed)
  std::string out;
  std::string err;
};

/// Runs the server binary with exactly `args` (no default arguments) and the
/// minimal environment plus `env`; kills it after `timeout`.
run_result run_binary(const std::vector<std::string>& args,
                      const std::map<std::string, std::string>& env = {},
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

} // namespace epmpulse::test
