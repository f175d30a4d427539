#pragma once

// The numeric limits of the configuration: for each field that takes a
// number, the interval the loader accepts and the value it takes when left
// out, and the lengths names and texts may have. They are named once so the
// loader's checks, the model's defaults (config.hpp) and code that must stay
// within them (a retry loop, a request reader) cannot drift apart;
// docs/configuration.md documents the same numbers.

#include <cstddef>

namespace epmpulse::config::limits {

/// A field written as a whole number, accepted from `min` to `max` inclusive.
struct whole_number_limit {
  int min;
  int max;
  int default_value;
};

/// A field written as a number, fractions allowed. `min_exclusive` keeps
/// `min` itself out: a zero interval would re-arm its timer without pause, a
/// zero timeout would fail every call.
struct number_limit {
  double min;
  double max;
  double default_value;
  bool min_exclusive = false;
};

// -- settings ----------------------------------------------------------------

inline constexpr number_limit stale_loading_timeout_hours{0, 24 * 30, 2, true};
inline constexpr number_limit stale_check_interval_minutes{0, 24 * 60, 5, true};
inline constexpr number_limit backup_interval_hours{0, 24 * 30, 1, true};
inline constexpr whole_number_limit max_backups{0, 10'000, 24};
inline constexpr whole_number_limit recent_jobs_limit{0, 10'000, 50};
inline constexpr number_limit max_future_skew_sec{0, 24 * 3600, 300};

namespace history {
inline constexpr whole_number_limit retention_days{1, 3650, 90};
/// The history database's size bound in bytes (0: none); a number, not a
/// whole_number_limit: it exceeds an int. Default 1 GiB.
inline constexpr number_limit max_bytes{0, 1e15, 1024.0 * 1024 * 1024};
/// Bytes one live stream may have queued for its client before it is dropped.
inline constexpr whole_number_limit stream_buffer_bytes{4096, 64 * 1024 * 1024, 1024 * 1024};
} // namespace history

namespace server {
inline constexpr whole_number_limit io_threads{1, 64, 1};
inline constexpr whole_number_limit actor_threads{1, 64, 1};
inline constexpr whole_number_limit max_body_bytes{1024, 16 * 1024 * 1024, 64 * 1024};
inline constexpr number_limit request_timeout_sec{0, 300, 10, true};
/// From accepting a connection, or answering its previous request, until the
/// next request is read whole: bounds idle keep-alive and slow senders alike.
/// At least a second: RESTinio checks it once a second, and a fraction of a
/// millisecond would become a zero timer that drops every connection at once.
inline constexpr number_limit read_timeout_sec{1, 300, 10};
/// Fits the common soft limit of 1024 open files next to what the rest of
/// the process keeps open.
inline constexpr whole_number_limit max_connections{1, 1'000'000, 512};
} // namespace server

namespace rate_limits {
inline constexpr int max_per_minute = 1'000'000;
inline constexpr whole_number_limit status_per_minute{1, max_per_minute, 600};
inline constexpr whole_number_limit batch_per_minute{1, max_per_minute, 120};
inline constexpr whole_number_limit read_per_minute{1, max_per_minute, 1200};
} // namespace rate_limits

namespace slack {
inline constexpr number_limit min_update_interval_sec{0, 3600, 2, true};
/// Retries after the first attempt of a Slack call.
inline constexpr whole_number_limit max_retries{0, 10, 3};
inline constexpr number_limit request_timeout_sec{0, 300, 10, true};
} // namespace slack

namespace dashboard {
/// How long a browser's session cookie lasts: up to 30 days.
inline constexpr whole_number_limit session_ttl_sec{60, 30 * 24 * 3600, 8 * 3600};
/// A configured signing key shorter than this could be guessed offline from
/// one token.
inline constexpr std::size_t min_signing_key_length = 32;
} // namespace dashboard

namespace pull_mode {
/// Below a second we would hammer EPM's REST API for no gain.
inline constexpr number_limit poll_interval_seconds{1, 3600, 30};
inline constexpr number_limit max_poll_duration_minutes{0, 7 * 24 * 60, 60, true};
inline constexpr whole_number_limit max_concurrent_polls_per_server{1, 64, 4};
} // namespace pull_mode

namespace alerts {
inline constexpr whole_number_limit alert_after_failures{1, 1000, 1};
inline constexpr number_limit reminder_hours{0, 24 * 30, 0};
inline constexpr number_limit evaluate_interval_sec{1, 3600, 30};
inline constexpr whole_number_limit webhook_max_retries{0, 20, 5};
inline constexpr number_limit webhook_timeout_sec{0, 300, 10, true};
} // namespace alerts

namespace expectations {
inline constexpr number_limit every_minutes{0, 366 * 24 * 60, 1440, true};
inline constexpr number_limit grace_minutes{0, 7 * 24 * 60, 30};
inline constexpr number_limit max_duration_minutes{0, 30 * 24 * 60, 120, true};
inline constexpr number_limit min_duration_sec{0, 24 * 3600, 60, true};
inline constexpr number_limit maintenance_duration_minutes{0, 24 * 60, 60, true};
} // namespace expectations

namespace storage {
/// Commits go one at a time per instance; more than a few spares buy nothing.
inline constexpr whole_number_limit pool{1, 16, 2};
inline constexpr number_limit connect_timeout_sec{0, 60, 5, true};
} // namespace storage

// -- lengths of names and texts ----------------------------------------------

/// App, domain, channel, EPM server and API key names: 1 to this many.
inline constexpr std::size_t max_name_length = 64;
/// Shorter keys are guessable.
inline constexpr std::size_t min_api_key_length = 16;
/// An API key expiring within this many days is named in a warning at load
/// and reload, so the rotation happens before clients get 401.
inline constexpr int api_key_expiry_notice_days = 14;
inline constexpr std::size_t max_dashboard_title_length = 200;
/// Longer than any name in the tz database, short enough to reject junk.
inline constexpr std::size_t max_time_zone_name_length = 64;

} // namespace epmpulse::config::limits
