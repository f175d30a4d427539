#pragma once

// EPM job status, the pure part of pull mode: which URL answers a job's
// status on each kind of EPM server, and how the job JSON it returns maps to
// a dashboard status and message. The poller runs these; tests call them
// directly.
//
// What each kind of server answers (Oracle's "REST APIs for Oracle Fusion
// Cloud EPM" and "REST API for Oracle Enterprise Data Management Cloud"):
// - planning (Planning, FCCS, Tax Reporting, EPCM), "Retrieve Job Status":
//     GET {base}/HyperionPlanning/rest/v3/applications/{app}/jobs/{id}
//     status -1 in progress, 0 success, 1 error, 2 cancel pending,
//     3 cancelled, 4 invalid parameter, Integer.MAX_VALUE unknown.
//     Needs the Service Administrator role.
// - arcs (Reconciliation Compliance): GET {base}/armARCS/rest/v1/jobs/{id}
// - arcs_tm (Transaction Matching):   GET {base}/arm/rest/v1/jobs/{id}
//     both with the "Migration Status Codes": 0 success, -1 in progress,
//     any positive code failed.
// - data_integration:  GET {base}/aif/rest/V1/jobs/{id}
//     the Planning codes (sent as strings), plus jobStatus RUNNING/SUCCESS/FAILED
// - edm: GET {base}/epm/rest/v1/jobRuns/{id} (a JobRun: status, error,
//     lastModified); once COMPLETED, GET .../jobRuns/{id}/result tells
//     whether it worked: a COMPLETED run can carry result.success false.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "actors/state/status_model.hpp"
#include "common/cron.hpp"
#include "config/config.hpp"

namespace epmpulse {

/// "planning" | "arcs" | "arcs_tm" | "data_integration" | "edm".
const char* kind_name(config::epm_server_kind kind);

/// Percent-encodes everything but RFC 3986's unreserved characters, so a job
/// id or application name is always exactly one path segment.
std::string encode_path_segment(std::string_view text);

/// The job-status URL of `job_id` on `server` (trailing '/' of base_url ignored).
std::string job_status_url(const config::epm_server& server, std::string_view job_id);

/// EDM only: the URL of a job run's result ("" for the other kinds).
std::string job_result_url(const config::epm_server& server, std::string_view job_id);

/// Where an EPM job is, as far as the dashboard cares.
enum class epm_job_phase {
  running,   ///< in progress (or cancel pending, or unknown): domain unchanged
  succeeded, ///< domain becomes OK
  failed,    ///< error, cancelled, invalid parameter: domain becomes Warning
};

/// What one job-status answer means.
struct epm_job_result {
  epm_job_phase phase = epm_job_phase::running;
  job_status status = job_status::loading; ///< ok / warning when finished
  std::string message;                     ///< for the domain: details, cleaned
  std::optional<long long> code;           ///< EPM's numeric status, when given
  std::optional<time_point> event_time;    ///< completion time EPM reported, if any
};

/// Longest message the dashboard stores (the API's limit for pushes).
inline constexpr std::size_t max_message_chars = 200;

/// Maps a job-status document from a server of `kind`. Returns nullopt (and
/// sets `error`) when the document carries no recognisable status.
std::optional<epm_job_result> map_job_response(config::epm_server_kind kind,
                                               const nlohmann::json& doc, std::string& error);

/// Same, from the raw HTTP body (parse errors become nullopt + `error`).
std::optional<epm_job_result> map_job_body(config::epm_server_kind kind, std::string_view body,
                                           std::string& error);

/// True when a finished answer of this kind is not the last word: an EDM job
/// run that says it succeeded still has to have its result read.
bool needs_result_check(config::epm_server_kind kind, const epm_job_result& result);

/// Maps an EDM JobRunResult document (GET .../jobRuns/{id}/result): a run
/// whose `result.success` is false failed, whatever its status says; the
/// message names the failed tasks' messages. Nullopt + `error` when the body
/// is not a result.
std::optional<epm_job_result> map_edm_result_body(std::string_view body, std::string& error);

/// Collapses control characters and runs of whitespace into single spaces,
/// trims, and cuts to `max_chars` code points (UTF-8 safe, "…" appended).
std::string clean_message(std::string_view text, std::size_t max_chars = max_message_chars);

/// "Timed out: no completion after N min" with N as configured (60, 0.5).
std::string timeout_message(double max_poll_duration_minutes);

/// The timeout message with what EPM said last: "Timed out: no completion
/// after N min; <last_state>" (cut to the message limit).
std::string timeout_message(double max_poll_duration_minutes, std::string_view last_state);

/// What the timeout message says of a job EPM kept reporting in progress.
inline constexpr std::string_view still_in_progress_text = "EPM still reports the job in progress";

/// The roles Oracle documents for reading a job's status on this kind.
const char* required_role(config::epm_server_kind kind);

/// Health text for a 403: what EPM refused, and the fix (the role).
std::string forbidden_message(const config::epm_server& server);

/// "Job not found on <server>" (the server's name, else its id).
std::string not_found_message(const config::epm_server& server);

// -- the daily maintenance window --------------------------------------------------

/// Oracle's "Get the Build Version and Daily Maintenance Window Time (v2)":
/// <base>/interop/rest/v2/maintenance/getdailymaintenancestarttime, which
/// answers the start in UTC (the call may not ask for the zone it was set in).
std::string daily_maintenance_url(const config::epm_server& server);

/// The start out of that call's answer: v2's {"status": 0, "items":
/// [{"amwTime": "19:00", "timeZone": "Etc/UTC", ...}]} (UTC when it names no
/// zone), or the v1 form ({"status": "0"}, "amwTime": "19", an hour). nullopt
/// with `error` saying what is wrong (a non-zero status with EPM's details).
std::optional<time_of_day> parse_daily_maintenance(std::string_view body, std::string& error);

/// Health text for a 403 to the maintenance call: the roles Oracle documents.
std::string maintenance_forbidden_message(const config::epm_server& server);

/// Exponential backoff: `initial` * 2^failures, capped at `cap`
/// (failures = 0 gives `initial`).
std::chrono::milliseconds backoff_delay(std::chrono::milliseconds initial, unsigned failures,
                                        std::chrono::milliseconds cap);

/// Seconds as a (possibly fractional) config value to milliseconds, at least 1 ms.
std::chrono::milliseconds seconds_to_ms(double seconds);

} // namespace epmpulse
