#pragma once

// The Prometheus text of the HTTP layer and the process, and the per-domain
// gauges drawn from the state actor's GET body at scrape time
// (docs/monitoring.md lists every metric).

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "actors/state/status_model.hpp"
#include "http/responder.hpp"

namespace epmpulse::http {

/// The most domains given their own series (three each) per scrape; the
/// rest are counted in epmpulse_domain_series_dropped. Domains are bounded
/// by the configuration unless an app accepts any domain name.
inline constexpr std::size_t max_domain_series = 1000;

/// Time since the process started.
std::chrono::seconds process_uptime();

/// A status as the number epmpulse_domain_status exports: Blank 0, OK 1,
/// Loading 2, Warning 3.
int status_number(job_status s);

/// Latency histogram and responses per route, from `c`.
std::string route_metrics(const server_counters& c);

/// Uptime, build info and open connections.
std::string process_metrics(const server_counters& c);

/// Per-domain gauges from `all_status_body` (the JSON of GET
/// /api/v1/status): at most `cap` domains, in app and domain name order.
std::string domain_metrics(std::string_view all_status_body, time_point now,
                           std::size_t cap = max_domain_series);

} // namespace epmpulse::http
