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
// A pod answers the four job-status routes
//   Planning          /HyperionPlanning/rest/v3/applications/{app}/jobs/{id}
//   ARCS              /armARCS/rest/v1/jobs/{id}
//   Data Integration  /aif/rest/V1/jobs/{id}
//   EDM               /epm/rest/v1/jobRuns/{id}
// from a script per job (a sequence of replies; the last one repeats), counts
// the calls per job, and checks the Authorization header: a request whose
// header is not accepted gets 401 and does not consume a scripted reply.
//
// The token endpoint answers refresh_token and client_credentials grants,
// issuing "access-1", "access-2", … with a configurable expires_in, can
// rotate the refresh token (the old one then stops working, as with OCI IAM),
// and can be made to fail.

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

/// One scripted answer to a job poll.
struct epm_reply {
  int status = 200;           ///< HTTP status
  nlohmann::json body;        ///< the job document (or an error body)
  std::chrono::milliseconds delay{0}; ///< simulated pod latency before answering

  /// Planning-style job document with `code` (-1 running, 0 ok, 1 error, 3 cancelled…).
  static epm_reply job(int code, const std::string& details = {},
                       const std::string& descriptive = {});
  static epm_reply in_progress() { return job(-1, "", "Processing"); }
  static epm_reply success(const std::string& details) { return job(0, details, "Completed"); }
  static epm_reply error(const std::string& details) { return job(1, details, "Error"); }
  static epm_reply cancelled(const std::string& details) { return job(3, details, "Cancelled"); }
  /// An HTTP error with a small JSON body.
  static epm_reply http(int status);

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

  /// Requests answered 401 because of the Authorization header.
  std::size_t unauthorized() const;

  /// The answer to `req`; counts it.
  timed_response answer(const recorded_request& req);

  /// The path a poller uses for `job_id` on a server of this kind.
  static std::string planning_path(const std::string& application, const std::string& job_id);
  static std::string arcs_path(const std::string& job_id);
  static std::string data_integration_path(const std::string& job_id);
  static std::string edm_path(const std::string& job_id);

private:
  struct job_script {
    std::vector<epm_reply> replies;
    std::size_t calls = 0;
  };

  mutable std::mutex mtx_;
  std::map<std::string, job_script> jobs_;
  std::set<std::string> accepted_;
  std::size_t unauthorized_ = 0;
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
  std::string error = "server_error";       ///< for status != 200
  std::chrono::milliseconds delay{0};
};

/// What an OAuth token endpoint answers, without a server. Thread-safe.
class scripted_token_endpoint {
public:
  /// The refresh tokens that work; a refresh grant with another one gets 400
  /// invalid_grant. Empty set: any refresh token works.
  void accept_refresh_tokens(std::set<std::string> tokens);

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
  mutable std::mutex mtx_;
  std::set<std::string> accepted_refresh_;
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
