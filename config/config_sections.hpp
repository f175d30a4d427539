#pragma once

// The sections of the configuration file, each read on its own: which fields
// it has, their defaults and limits, and the rules that need nothing but the
// section itself. What relates one section to another is config_checks'.

#include <string>
#include <vector>

#include "config/config.hpp"
#include "config/config_reader.hpp"

namespace epmpulse::config {

/// `settings` and its server, rate_limits, slack and pull_mode objects.
config::settings parse_settings(config_reader& reader, const config_json& object,
                                const std::string& path);

/// `epm`: auth and servers. Fields only pull mode needs are read deferred.
epm_settings parse_epm(config_reader& reader, const config_json& object, const std::string& path);

/// `channels`: id -> name and canvas; no two channels share a canvas.
std::vector<channel_config> parse_channels(const config_reader& reader, const config_json& object,
                                           const std::string& path);

/// `apps`, which the file must have, with at least one app.
std::vector<app_config> parse_apps(const config_reader& reader, const config_json& root);

/// `api_keys`; an entry whose key is unset or empty is skipped with a warning.
std::vector<api_key> parse_api_keys(config_reader& reader, const config_json& root);

/// The rules every key obeys, wherever it came from (`field` names its
/// source): long enough, sendable in a Bearer header, unlike `earlier` ones.
/// Messages name the entry, never the key itself.
void check_api_key_value(const config_reader& reader, const api_key& key,
                         const std::string& field, const std::vector<api_key>& earlier);

} // namespace epmpulse::config
