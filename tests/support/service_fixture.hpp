#pragma once

// One running server for a test: a temp dir holding the config file and the
// data dir, the server process on an ephemeral loopback port, and API
// clients for each key role.

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/http_client.hpp"
#include "tests/support/server_process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_config.hpp"

namespace epmpulse::test {

struct service_options {
  nlohmann::json config = default_test_config();
  std::vector<std::string> extra_args;
  std::map<std::string, std::string> env;
  bool start = true; ///< false: prepare dirs and config only; call start()
};

class service {
public:
  explicit service(service_options opts = {});

  /// Starts the server (when constructed with start = false, or after stop).
  void start();

  server_process& server() { return *server_; }
  bool started() const { return server_ != nullptr; }

  const temp_dir& dir() const { return dir_; }
  const std::filesystem::path& config_path() const { return config_path_; }
  const std::filesystem::path& data_dir() const { return data_dir_; }
  std::filesystem::path state_file() const { return data_dir_ / "apps_status.json"; }

  /// The state file parsed (discarded value when missing or broken).
  nlohmann::json state_json() const;

  /// The state file once it holds every change applied so far: the JSON
  /// snapshot trails the change log, so this waits (up to `timeout`) until
  /// the service reports no snapshot lag. Throws when it never catches up.
  nlohmann::json settled_state_json(
    std::chrono::milliseconds timeout = std::chrono::seconds(15)) const;

  std::string base_url() const { return server_->base_url(); }

  api_client writer() const { return client(write_key); }
  api_client reader() const { return client(read_key); }
  api_client admin() const { return client(admin_key); }
  api_client anonymous() const { return client(""); }
  api_client client(const std::string& key) const { return api_client(server_->base_url(), key); }

  /// GET /api/v1/status with the read key, parsed; throws on non-200.
  nlohmann::json status() const;

  /// The stored entry of one domain from GET /api/v1/status (null if absent).
  nlohmann::json domain(const std::string& app, const std::string& name) const;

  /// The value of an unlabelled series from GET /metrics (read key);
  /// nothing when the request fails or the series is absent.
  std::optional<double> metric(const std::string& name) const;

private:
  service_options opts_;
  temp_dir dir_;
  std::filesystem::path config_path_;
  std::filesystem::path data_dir_;
  std::unique_ptr<server_process> server_;
};

/// {"app","domain","status"} plus optional fields, as POST /status expects.
nlohmann::json update(const std::string& app, const std::string& domain,
                      const std::string& status, const nlohmann::json& extra = nlohmann::json::object());

} // namespace epmpulse::test
