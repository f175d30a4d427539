#pragma once

// Structured logging shared by actors and HTTP handlers: one JSON object per
// line on stderr: {"time","level","message","request_id","fields"}.
// Callers must never put a secret (API key, token, password) into a message
// or a field.

#include <string_view>

#include <nlohmann/json.hpp>

namespace epmpulse::log {

enum class level { debug, info, warn, error };

/// Parses "debug" | "info" | "warn" | "error".
bool parse_level(std::string_view text, level& out);

/// Sets the minimum level; safe to call once at start-up before threads run.
void set_level(level min);

/// True when a line at `lvl` would be written (check before building fields
/// on hot paths).
bool enabled(level lvl);

/// Writes one line. `request_id` is omitted when empty.
void write(level lvl, std::string_view message, std::string_view request_id = {},
           const nlohmann::json& fields = nlohmann::json::object());

inline void debug(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  if (enabled(level::debug))
    write(level::debug, msg, {}, fields);
}
inline void info(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  write(level::info, msg, {}, fields);
}
inline void warn(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  write(level::warn, msg, {}, fields);
}
inline void error(std::string_view msg, const nlohmann::json& fields = nlohmann::json::object()) {
  write(level::error, msg, {}, fields);
}

} // namespace epmpulse::log
