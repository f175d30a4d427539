#pragma once

// Test configurations written as real JSON files, and the default one the
// core suites run against.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace epmpulse::test {

inline constexpr const char* write_key = "test-write-key-0123456789";
inline constexpr const char* read_key = "test-read-key-0123456789";
inline constexpr const char* admin_key = "test-admin-key-0123456789";

/// Apps Planning (Actual, Budget, Forecast), FCCS (Consolidation), ARCS
/// (Reconciliation, strict_domains); one key per role; rate limits off so
/// load tests measure the state path; no Slack, no EPM.
nlohmann::json default_test_config();

/// An app entry {"display_name", "domains", "channels", "strict_domains"}.
nlohmann::json app_entry(const std::vector<std::string>& domains, bool strict = false);

/// Writes `cfg` (pretty) to `dir / name` and returns the path. Registers its
/// secrets for the log scan (log_secrets.hpp).
std::filesystem::path write_config(const std::filesystem::path& dir, const nlohmann::json& cfg,
                                   const std::string& name = "config.json");

} // namespace epmpulse::test
