#pragma once

// Helpers for the config loader's tests: JSON text parsed with a fake
// environment, and insisting on success or failure.

#include <map>
#include <optional>
#include <string>

#include <boost/test/unit_test.hpp>

#include "config/config.hpp"

namespace epmpulse::test::config_parsing {

using namespace epmpulse::config;

using env_map = std::map<std::string, std::string>;

inline env_lookup fake_env(env_map vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    if (auto it = vars.find(name); it != vars.end())
      return it->second;
    return std::nullopt;
  };
}

inline constexpr const char* minimal = R"({"apps": {"Planning": {}}})";

inline load_result parse(const std::string& text, env_map env = {}) {
  return parse_config(text, "test.json", fake_env(std::move(env)));
}

/// Parses and insists on success, showing the error if there is one.
inline service_config parse_ok(const std::string& text, env_map env = {}) {
  auto result = parse(text, std::move(env));
  BOOST_REQUIRE_MESSAGE(result.config, (result.error ? result.error->to_string() : "no config"));
  BOOST_REQUIRE(!result.error);
  return *result.config;
}

/// Parses and insists on failure.
inline config_error parse_error(const std::string& text, env_map env = {}) {
  auto result = parse(text, std::move(env));
  BOOST_REQUIRE_MESSAGE(result.error, "expected a config error");
  BOOST_REQUIRE(!result.config);
  return *result.error;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// A config with one app in `settings` or elsewhere: `extra` is spliced in
/// after "apps" (with its leading comma).
inline std::string with(const std::string& extra) {
  return R"({"apps": {"Planning": {"domains": ["Actual"], "channels": ["C1"], "server": "p"}},
             "channels": {"C1": {"name": "main"}},
             "epm": {"servers": {"p": {"base_url": "https://epm.example.com", "application": "Vision"}}})"
         + extra + "}";
}

inline std::string all_warnings(const service_config& cfg) {
  std::string out;
  for (const auto& w : cfg.warnings)
    out += w + "\n";
  return out;
}

inline constexpr const char* secret = "s3cr3t-value-do-not-print-0123456789";


} // namespace epmpulse::test::config_parsing
