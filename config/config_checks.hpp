#pragma once

// What is decided once every section is read: references from one section
// to another, the environment shortcuts that complete the sections, what pull
// mode needs from `epm`, and the warnings about all of it. parse_config runs
// them in the order below; the first problem found is the one reported.

#include "config/config.hpp"
#include "config/config_reader.hpp"

namespace epmpulse::config {

/// Every channel an app lists is under `channels`, every server it names
/// under `epm.servers`.
void check_app_references(const config_reader& reader, const service_config& cfg);

/// A channel no app lists shows an empty canvas: worth a warning, not a stop.
void warn_about_unused_channels(config_reader& reader, const service_config& cfg);

/// EPMPULSE_API_KEY / EPMPULSE_ADMIN_KEY add keys under the rules of file
/// keys; SLACK_BOT_TOKEN fills an empty token; SLACK_API_URL replaces the URL.
void apply_env_shortcuts(config_reader& reader, service_config& cfg);

/// Pull mode talks to EPM, so only then must auth and servers be complete.
void check_pull_mode(config_reader& reader, const service_config& cfg);

} // namespace epmpulse::config
