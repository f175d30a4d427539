#include "tests/support/test_config.hpp"

#include "tests/support/log_secrets.hpp"
#include "tests/support/temp_dir.hpp"

namespace epmpulse::test {

nlohmann::json app_entry(const std::vector<std::string>& domains, bool strict) {
  return {{"domains", domains},
          {"channels", nlohmann::json::array()},
          {"strict_domains", strict}};
}

nlohmann::json default_test_config() {
  nlohmann::json cfg;
  cfg["apps"] = {
    {"Planning", app_entry({"Actual", "Budget", "Forecast"})},
    {"FCCS", app_entry({"Consolidation"})},
    {"ARCS", app_entry({"Reconciliation"}, true)},
  };
  cfg["channels"] = nlohmann::json::object();
  cfg["api_keys"] = nlohmann::json::array({
    {{"name", "test_write"}, {"key", write_key}, {"role", "write"}},
    {{"name", "test_read"}, {"key", read_key}, {"role", "read"}},
    {{"name", "test_admin"}, {"key", admin_key}, {"role", "admin"}},
  });
  cfg["settings"] = {
    {"log_level", "info"},
    {"rate_limits", {{"enabled", false}}},
  };
  return cfg;
}

std::filesystem::path write_config(const std::filesystem::path& dir, const nlohmann::json& cfg,
                                   const std::string& name) {
  auto p = dir / name;
  register_config_secrets(cfg);
  write_file(p, cfg.dump(2) + "\n");
  return p;
}

} // namespace epmpulse::test
