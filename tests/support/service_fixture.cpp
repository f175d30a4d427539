#include "tests/support/service_fixture.hpp"

#include <stdexcept>

#include "tests/support/wait.hpp"

namespace epmpulse::test {

service::service(service_options opts) : opts_(std::move(opts)), dir_("epmpulse-svc-") {
  config_path_ = write_config(dir_.path(), opts_.config);
  data_dir_ = dir_.make_subdir("data");
  // As the service creates its data dir: a wider one is warned about.
  std::filesystem::permissions(data_dir_, std::filesystem::perms::owner_all);
  if (opts_.start)
    start();
}

void service::start() {
  if (server_ && server_->running())
    return;
  server_options so;
  so.config_path = config_path_;
  so.data_dir = data_dir_;
  so.extra_args = opts_.extra_args;
  so.env = opts_.env;
  server_.reset();
  server_ = std::make_unique<server_process>(std::move(so));
}

nlohmann::json service::state_json() const {
  try {
    return nlohmann::json::parse(read_file(state_file()), nullptr, false);
  } catch (...) {
    return nlohmann::json(nlohmann::json::value_t::discarded);
  }
}

nlohmann::json service::settled_state_json(std::chrono::milliseconds timeout) const {
  auto caught_up = [this] { return metric("epmpulse_state_snapshot_lag") == 0.0; };
  if (!eventually(caught_up, timeout, std::chrono::milliseconds(50)))
    throw std::runtime_error("the state file did not catch up with the change log in time");
  return state_json();
}

std::optional<double> service::metric(const std::string& name) const {
  auto r = reader().get("/metrics");
  if (r.status != 200)
    return std::nullopt;
  // A series line is "name value"; the newline keeps "name" from matching
  // the tail of a longer name.
  const auto text = "\n" + r.body;
  const auto prefix = "\n" + name + " ";
  auto at = text.find(prefix);
  if (at == std::string::npos)
    return std::nullopt;
  try {
    return std::stod(text.substr(at + prefix.size()));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

nlohmann::json service::status() const {
  auto r = reader().get("/api/v1/status");
  if (r.status != 200)
    throw std::runtime_error("GET /api/v1/status failed: " + r.describe());
  auto j = r.json();
  if (j.is_discarded())
    throw std::runtime_error("GET /api/v1/status: body is not JSON: " + r.body);
  return j;
}

nlohmann::json service::domain(const std::string& app, const std::string& name) const {
  auto s = status();
  if (s.contains("apps") && s["apps"].contains(app) && s["apps"][app].contains(name))
    return s["apps"][app][name];
  return nullptr;
}

nlohmann::json update(const std::string& app, const std::string& domain,
                      const std::string& status, const nlohmann::json& extra) {
  nlohmann::json u = {{"app", app}, {"domain", domain}, {"status", status}};
  for (auto it = extra.begin(); it != extra.end(); ++it)
    u[it.key()] = it.value();
  return u;
}

} // namespace epmpulse::test
