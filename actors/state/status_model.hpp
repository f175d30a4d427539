#pragma once

// The status model: what a domain's state is, how an update merges into the
// snapshot (ordering, idempotency, durations, recent jobs), and how the
// snapshot maps to the JSON state file. Pure functions: the state actor runs
// them, tests call them directly.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/time_format.hpp"

namespace epmpulse::config {
struct service_config;
}

namespace epmpulse {

enum class job_status { blank, loading, ok, warning };

/// "Blank" | "Loading" | "OK" | "Warning".
const char* to_string(job_status s);

/// Exact, case-sensitive match of the four names.
std::optional<job_status> parse_status(std::string_view text);

/// Where an update came from.
enum class update_source { push, poll, system };
const char* to_string(update_source s);

/// "push" | "poll" | "system".
std::optional<update_source> parse_source(std::string_view text);

/// One requested change to one domain, already validated.
struct status_update {
  std::string app;
  std::string domain = "default";
  job_status status = job_status::blank;
  std::optional<std::string> job_id;
  std::optional<std::string> message;
  std::optional<time_point> event_time; ///< from the client; none = receive time
  update_source source = update_source::push;
  std::optional<std::string> key_name; ///< the pushing API key's name (never the key)
};

/// The stored state of one domain.
struct domain_state {
  job_status status = job_status::blank;
  std::optional<std::string> job_id;
  std::optional<std::string> message;
  std::optional<time_point> updated;      ///< event time of the last applied update
  std::optional<std::int64_t> duration_sec;
  std::optional<time_point> started;      ///< when the current Loading began
  update_source source = update_source::system;

  bool operator==(const domain_state&) const = default;
};

struct app_state {
  std::string display_name;
  std::vector<std::string> channels;
  std::map<std::string, domain_state> domains;
};

/// One job in the recent-jobs list (newest first).
struct recent_job {
  std::string job_id;
  std::vector<std::string> apps;
  job_status status = job_status::loading;
  std::optional<time_point> started;
  std::optional<time_point> completed;
};

/// The whole state, as the state file holds it.
struct status_snapshot {
  std::string version = "1.0";
  std::optional<time_point> last_updated;
  time_point created{};
  std::map<std::string, app_state> apps;
  std::deque<recent_job> recent_jobs;
  /// The id of the newest applied change (metadata.last_change_id): ids
  /// continue from it after a restart, once the change log is gone.
  std::uint64_t last_change_id = 0;
};

/// One applied change, as subscribers and the history see it (after it is
/// durable). `id` is its change id: strictly increasing across the service
/// and its restarts, consecutive within a group commit.
struct domain_change {
  std::string app;
  std::string domain;
  domain_state before;
  domain_state after; ///< after.updated is the event time used (after clamping)
  std::uint64_t id = 0;
  time_point received{}; ///< server time of the apply
  std::optional<std::string> key_name;
};

/// The result of merging one update.
struct merge_outcome {
  enum class kind {
    applied,   ///< stored state changed
    unchanged, ///< same status, job_id and message: nothing to do
    stale,     ///< event time older than the stored one: ignored
  };
  kind result = kind::applied;
  domain_state before;
  domain_state after; ///< what is stored now (== before unless applied)
  time_point effective_time{}; ///< event time used (after clamping)
  bool clamped = false;        ///< event time was too far in the future
};

/// Merges `u` into `snap` at server time `now`. Event times more than
/// `max_future_skew` ahead of `now` are clamped to `now`. Keeps recent_jobs
/// bounded to `recent_jobs_limit`. The app must exist in `snap`.
merge_outcome merge_update(status_snapshot& snap, const status_update& u, time_point now,
                           std::chrono::milliseconds max_future_skew,
                           std::size_t recent_jobs_limit);

/// A fresh snapshot holding the configured apps with their domains as Blank.
status_snapshot seed_snapshot(const config::service_config& cfg, time_point now);

/// Brings a loaded snapshot in line with the config: adds configured apps and
/// domains that are missing, refreshes display names and channels. Apps no
/// longer configured are kept (their history matters) but hidden from nothing.
void reconcile_with_config(status_snapshot& snap, const config::service_config& cfg);

/// The system update that ends a domain's Loading as Warning with `message`,
/// under the same job id (the stale sweep's and the overdue expectation's).
status_update loading_to_warning(const std::string& app, const std::string& domain,
                                 const domain_state& d, std::string message,
                                 std::optional<time_point> event_time = std::nullopt);

/// The updates that turn every domain stuck in Loading since before
/// `now - timeout` into Warning "Stale: no update since <time>" (source system).
/// Applying them goes through merge_update like any other update.
std::vector<status_update> stale_loading_updates(const status_snapshot& snap, time_point now,
                                                 std::chrono::milliseconds timeout);

// -- JSON ----------------------------------------------------------------------

/// The state file's document: version, last_updated, metadata, apps → domains, recent_jobs.
nlohmann::json to_json(const status_snapshot& snap);

/// One domain as the API and the file show it.
nlohmann::json to_json(const domain_state& d);

/// Parses a state file document; nullopt with `error` set when it is not a
/// valid state (missing keys, wrong types, unknown status values).
std::optional<status_snapshot> snapshot_from_json(const nlohmann::json& doc, std::string& error);

} // namespace epmpulse
