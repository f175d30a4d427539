#pragma once

// The `expectations` and `maintenance` sections: when each domain's runs are
// due and how long they may take, which domains wait for which, and the EPM
// pods' daily maintenance windows. Read after `apps`, which they refer to.

#include <vector>

#include "config/config.hpp"
#include "config/config_reader.hpp"

namespace epmpulse::config {

/// `expectations`: a list; each names a configured app (and one of its
/// listed domains, or none for all), a schedule (cron with time zone, or an
/// interval), grace, durations and upstream domains. Two entries for one
/// domain, unknown upstreams and cycles of `after` are refused.
std::vector<expectation_config> parse_expectations(const config_reader& reader,
                                                   const config_json& root,
                                                   const service_config& cfg);

/// `maintenance`: daily windows ("start": "HH:MM" in a time zone, a duration,
/// the apps they hold).
std::vector<maintenance_config> parse_maintenance(const config_reader& reader,
                                                  const config_json& root,
                                                  const service_config& cfg);

} // namespace epmpulse::config
