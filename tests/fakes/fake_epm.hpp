#pragma once

// A fake Oracle EPM Cloud pod and a fake OAuth token endpoint for pull-mode
// tests. Each comes in two parts:
//
// - scripted_epm_pod / scripted_token_endpoint decide what EPM or the
//   identity domain would answer to one request (and how long it would take),
//   with no server behind them. Actor tests on simulated time answer from
//   them in process (tests/fakes/fake_http_client.hpp);
// - fake_epm / fake_token_endpoint serve the same answers as real HTTP
//   servers on loopback (fake_http_server), for the tests that run the
//   product's real HTTP client or binary.
//
// A pod answers the job-status routes the way Oracle documents them (REST
// APIs for Oracle Fusion Cloud EPM; REST API for Oracle Enterprise Data
// Management Cloud), each with its own body built from the same script:
//   Planning  /HyperionPlanning/rest/v3/applications/{app}/jobs/{id}
//             {"status": -1|0|1|2|3|4, "details", "jobId", "jobName",
//              "descriptiveStatus", "links"}            ("Retrieve Job Status")
//   ARCS RC   /armARCS/rest/v1/jobs/{id}  {"type": "ARCS", "status", "details",
//             "links", "error": null, "items": null, "link": null}
//   ARCS TM   /arm/rest/v1/jobs/{id}      {"type": "TM", "status", "details", "links"}
//             (both with the Migration Status Codes: 0, -1, positive = failed)
//   DI        /aif/rest/V1/jobs/{id}      {"status": "0" (a string), "details",
//             "jobId", "jobStatus": RUNNING|SUCCESS|FAILED, "logFileName", …}
//   EDM       /epm/rest/v1/jobRuns/{id}   a JobRun {"id", "description", "origin",
//             "status": RUNNING|COMPLETED|FAILED, "error", "created", "lastModified"}
//             /epm/rest/v1/jobRuns/{id}/result  a JobRunResult: the JobRun plus
//             "result": {"success", "tasks": [{"status": "ERROR", "messages"}], …}
//             (Oracle's example: a COMPLETED run whose result.success is false)
// and the daily maintenance time ("Get the Build Version and Daily
// Maintenance Window Time (v2)"):
//   any kind  /interop/rest/v2/maintenance/getdailymaintenancestarttime
//             {"details": null, "status": 0, "items": [{"buildVersion",
//              "amwTime": "HH:MM" (UTC), "timeZone"?}], "links"}
// from a script per job (a sequence of replies; the last one repeats), counts
// the calls per job, and checks the Authorization header: a request whose
// header is not accepted gets 401 and does not consume a scripted reply. A
// pod whose user lacks the role (deny_role) answers 403 to every job-status
// request, as EPM does for a user without the required role.
//
// The token endpoint answers like an OCI IAM identity domain (RFC 6749 5.2
// errors): refresh_token and client_credentials grants, "access-1",
// "access-2", … with a configurable expires_in; with rotation each refresh
// returns a new refresh token and the one used is consumed (using it again
// is 400 invalid_grant); a refresh token unused for longer than its lifetime
// (7 days by default, as OCI IAM's default) is 400 invalid_grant; a
// confidential client with the wrong secret is 401 invalid_client.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_http_server.hpp"

namespace epmpulse::test {

/// One scripted answer to a job poll: the job's state, rendered as the
/// job family of the request's path documents it.
struct epm_reply {
  int status = 200;           ///< HTTP status
  int code = 0;               ///< Planning code: -1 running, 0 ok, 1 error, 2 cancel pending, 3 cancelled, 4 invalid
  std::string details;        ///< the job's details ("" = null)
  std::string descriptive;    ///< Planning's descriptiveStatus
  /// EDM only: the run says COMPLETED but its result has success false, with
  /// this message on its failed task.
  std::optional<std::string> edm_result_failure;
  std::optional<nlohmann::json> body; ///< a literal body instead (error answers, oddities)
  std::chrono::milliseconds delay{0}; ///< simulated pod latency before answering

  /// A job in state `code` (-1 running, 0 ok, 1 error, 3 cancelled…).
  static epm_reply job(int code, const std::string& details = {},
                       const std::string& descriptive = {});
  /// EDM: a run that completed and whose result says it failed (Oracle's
  /// example: a dimension export whose file transfer failed).
  static epm_reply edm_completed_but_failed(const std::string& task_message);
  /// Answers exactly `body` with HTTP `status`.
  static epm_reply literal(nlohmann::json body, int status = 200);
  static epm_reply in_progress() { return job(-1, "", "Processing"); }
  static epm_reply success(const std::string& details) { return job(0, details, "Completed"); }
  static epm_reply error(const std::string& details) { return job(1, details, "Error"); }
  static epm_reply cancelled(const std::string& details) { return job(3, details, "Cancelled"); }
  /// An HTTP error with a small JSON body.
  static epm_reply http(int status);
  /// The daily maintenance call's documented answer: the start `amw_time`
  /// ("19:00", in UTC unless `time_zone` is given, as with showTimeZone).
  static epm_reply daily_maintenance(const std::string& amw_time,
                                     const std::string& time_zone = {});

  epm_reply& after(std::chrono::milliseconds d) { delay = d; return *this; }
};

/// A fake's answer to one request and how long the real service would take
/// to give it (the HTTP fakes sleep that long before answering; the
/// in-process one answers that much later on the actor clock).
struct timed_response {
  scripted_response response;
  std::chrono::milliseconds delay{0};
};

/// What an EPM pod answers, without a server. Thread-safe.
class scripted_epm_pod {
public:
  /// Scripts job `id`: replies in order, the last one repeating. Unscripted
  /// jobs answer 404.
  void script(const std::string& job_id, std::vector<epm_reply> replies);

  /// Only these Authorization values are accepted (empty set: any, even none).
  void accept_authorizations(std::set<std::string> values);

  /// Calls that reached job `id`'s script (401s excluded).
  std::size_t calls(const std::string& job_id) const;

  /// EDM result requests for job `id` (they do not consume a reply).
  std::size_t result_calls(const std::string& job_id) const;

  /// Scripts the daily maintenance call: replies in order, the last one
  /// repeating. Unscripted, it answers 404.
  void script_daily_maintenance(std::vector<epm_reply> replies);

  /// Calls that reached the daily maintenance script (401s excluded).
  std::size_t daily_maintenance_calls() const;

  /// While on, every job-status request is answered 403 Forbidden: the EPM
  /// user lacks the role the call needs.
  void deny_role(bool on);

  /// Requests answered 401 because of the Authorization header.
  std::size_t unauthorized() const;

  /// The answer to `req`; counts it.
  timed_response answer(const recorded_request& req);

  /// The path a poller uses for `job_id` on a server of this kind.
  static std::string planning_path(const std::string& application, const std::string& job_id);
  static std::string arcs_path(const std::string& job_id);
  static std::string arcs_tm_path(const std::string& job_id);
  static std::string data_integration_path(const std::string& job_id);
  static std::string edm_path(const std::string& job_id);
  static std::string edm_result_path(const std::string& job_id);
  static std::string daily_maintenance_path();

private:
  struct job_script {
    std::vector<epm_reply> replies;
    std::size_t calls = 0;
    std::size_t result_calls = 0;
  };

  mutable std::mutex mtx_;
  std::map<std::string, job_script> jobs_;
  job_script maintenance_;
  std::set<std::string> accepted_;
  std::size_t unauthorized_ = 0;
  bool deny_role_ = false;
};

/// A scripted pod served over HTTP on loopback.
class fake_epm : public scripted_epm_pod {
public:
  fake_epm();
  ~fake_epm();

  fake_epm(const fake_epm&) = delete;
  fake_epm& operator=(const fake_epm&) = delete;

  /// "http://127.0.0.1:<port>"
  std::string base_url() const;

  /// Every request so far (recorded by the underlying server).
  std::vector<recorded_request> requests() const;

  /// Every Authorization header value seen, in order ("" when absent).
  std::vector<std::string> authorizations() const;

  /// Waits (deadline) until job `id` has had at least `n` scripted calls.
  bool wait_calls(const std::string& job_id, std::size_t n,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

private:
  std::unique_ptr<fake_http_server> server_;
};

/// One scripted token-endpoint answer (consumed before the default behaviour).
struct token_reply {
  int status = 200;
  std::string access_token;        ///< "" = the next "access-<n>"
  long expires_in = 3600;
  std::optional<std::string> refresh_token; ///< a rotated refresh token
  std::string error = "server_error";       ///< for status != 200 (RFC 6749 5.2 code)
  std::chrono::milliseconds delay{0};
};

/// What an OAuth token endpoint answers, without a server. Thread-safe.
class scripted_token_endpoint {
public:
  /// The refresh tokens that work; a refresh grant with another one gets 400
  /// invalid_grant. Empty set: any refresh token works. `issued_at` (the
  /// request clock: the actor clock in process) starts their lifetime;
  /// without it the first request does.
  void accept_refresh_tokens(std::set<std::string> tokens,
                             std::optional<std::chrono::steady_clock::time_point> issued_at = {});

  /// How long a refresh token works after it was issued (OCI IAM's default
  /// is 7 days); past it, 400 invalid_grant.
  void set_refresh_token_lifetime(std::chrono::milliseconds lifetime);

  /// A confidential client: requests must authenticate with HTTP Basic
  /// `client_id:secret`, else 401 invalid_client.
  void require_client_secret(std::string client_id, std::string secret);

  /// Each successful refresh grant returns a new refresh token
  /// ("rotated-<n>"), which becomes the only one that works.
  void set_rotation(bool on);

  void set_expires_in(long seconds);

  /// Simulated latency of every answer.
  void set_delay(std::chrono::milliseconds d);

  /// While failing, every request is answered `status` (0 < status) with
  /// {"error": "temporarily_unavailable"}.
  void set_failing(bool failing, int status = 503);

  /// Replies used (in order) before the default behaviour.
  void script(std::vector<token_reply> replies);

  /// Requests received (failing ones included).
  std::size_t calls() const;

  /// Successful token answers given.
  std::size_t issued() const;

  /// The access token issued last ("" before the first).
  std::string last_access_token() const;

  /// The refresh token that works now (after rotations).
  std::string current_refresh_token() const;

  /// The answer to `req`; counts it.
  timed_response answer(const recorded_request& req);

  /// Decodes an application/x-www-form-urlencoded body.
  static std::map<std::string, std::string> form(const std::string& body);

private:
  bool refresh_token_works(const std::string& token,
                           std::chrono::steady_clock::time_point at);

  mutable std::mutex mtx_;
  std::set<std::string> accepted_refresh_;
  std::map<std::string, std::chrono::steady_clock::time_point> issued_at_; ///< per working token
  std::optional<std::chrono::steady_clock::time_point> initial_issue_;
  std::chrono::milliseconds lifetime_{std::chrono::hours{24 * 7}};
  std::string client_id_;
  std::string client_secret_;
  bool rotation_ = false;
  long expires_in_ = 3600;
  std::chrono::milliseconds delay_{0};
  bool failing_ = false;
  int failing_status_ = 503;
  std::vector<token_reply> script_;
  std::size_t calls_ = 0;
  std::size_t issued_ = 0;
  std::size_t rotations_ = 0;
  std::string last_access_;
};

/// A scripted token endpoint served over HTTP on loopback.
class fake_token_endpoint : public scripted_token_endpoint {
public:
  fake_token_endpoint();
  ~fake_token_endpoint();

  fake_token_endpoint(const fake_token_endpoint&) = delete;
  fake_token_endpoint& operator=(const fake_token_endpoint&) = delete;

  /// The token URL: "<base>/oauth2/v1/token".
  std::string url() const;

  std::vector<recorded_request> requests() const;

  bool wait_calls(std::size_t n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

private:
  std::unique_ptr<fake_http_server> server_;
};

} // namespace epmpulse::test
