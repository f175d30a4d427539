#include "tests/fakes/fake_epm.hpp"

#include <thread>

#include "actors/pull/token_cache.hpp"
#include "tests/support/log_secrets.hpp"
#include "tests/support/wait.hpp"

namespace epmpulse::test {

namespace {

using nlohmann::json;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(const std::string& s, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.rfind(prefix, 0) == 0;
}

/// The job families a pod answers, told apart by the request's path.
enum class family { planning, arcs, arcs_tm, data_integration, edm };

/// A job-status request: which family, which job, and whether it asks for
/// an EDM run's result.
struct job_request {
  family kind = family::planning;
  std::string id;
  bool result = false;
};

/// The job of a job-status path, else nullopt.
std::optional<job_request> job_of(const std::string& path) {
  static const std::string planning = "/HyperionPlanning/rest/v3/applications/";
  static const std::pair<std::string, family> others[] = {
    {"/armARCS/rest/v1/jobs/", family::arcs},
    {"/arm/rest/v1/jobs/", family::arcs_tm},
    {"/aif/rest/V1/jobs/", family::data_integration},
    {"/epm/rest/v1/jobRuns/", family::edm}};
  std::string id;
  job_request out;
  if (starts_with(path, planning)) {
    auto rest = path.substr(planning.size()); // {app}/jobs/{id}
    auto slash = rest.find('/');
    if (slash == std::string::npos || rest.compare(slash, 6, "/jobs/") != 0)
      return std::nullopt;
    id = rest.substr(slash + 6);
  } else {
    bool matched = false;
    for (const auto& [prefix, kind] : others)
      if (!matched && starts_with(path, prefix)) {
        matched = true;
        out.kind = kind;
        id = path.substr(prefix.size());
      }
    if (!matched)
      return std::nullopt;
  }
  static const std::string result_suffix = "/result";
  if (out.kind == family::edm && id.size() > result_suffix.size()
      && id.compare(id.size() - result_suffix.size(), result_suffix.size(), result_suffix) == 0) {
    out.result = true;
    id.resize(id.size() - result_suffix.size());
  }
  if (id.empty() || id.find('/') != std::string::npos)
    return std::nullopt;
  out.id = percent_decode(id, false);
  return out;
}

json null_or(const std::string& text) {
  return text.empty() ? json(nullptr) : json(text);
}

json self_link(const std::string& path) {
  return json::array({{{"rel", "self"}, {"href", "https://epm.example.com" + path},
                       {"action", "GET"}}});
}

/// The EDM word for a Planning-style code (only COMPLETED is in Oracle's
/// examples; the failure words are the ones EPMPulse also accepts).
std::string edm_status_word(int code) {
  switch (code) {
    case -1: return "RUNNING";
    case 2: return "RUNNING";
    case 0: return "COMPLETED";
    case 3: return "CANCELLED";
    default: return "FAILED";
  }
}

/// Epoch milliseconds for EDM's created/lastModified (a fixed, plausible time).
constexpr long long edm_time_ms = 1771252200000LL;

json edm_job_run(const std::string& id, const epm_reply& reply) {
  bool failed = reply.code != 0 && reply.code != -1 && reply.code != 2;
  return {{"id", id},
          {"description", reply.details.empty() ? "Exporting dimension Account" : reply.details},
          {"origin", "EXPORT_DIMENSION"},
          {"status", edm_status_word(reply.code)},
          {"error", failed ? null_or(reply.details) : json(nullptr)},
          {"jobProgress", reply.code == -1 ? 40 : 100},
          {"jobSize", 100},
          {"created", edm_time_ms - 3000},
          {"lastModified", edm_time_ms},
          {"links", self_link(scripted_epm_pod::edm_path(id))}};
}

json edm_job_run_result(const std::string& id, const epm_reply& reply) {
  auto doc = edm_job_run(id, reply);
  json tasks = json::array();
  if (reply.edm_result_failure)
    tasks.push_back({{"taskName", "Transfer file to Financials Cloud"},
                     {"status", "ERROR"},
                     {"messages", json::array({*reply.edm_result_failure})}});
  doc["result"] = {{"success", !reply.edm_result_failure.has_value()},
                   {"dimensionName", "Account"},
                   {"failedViewpoints", json::array()},
                   {"recordCount", 418},
                   {"tasks", tasks},
                   {"messages", "Exported 418 records for viewpoint 'Account'.\n"}};
  doc["links"] = self_link(scripted_epm_pod::edm_result_path(id));
  return doc;
}

/// The job document `reply` stands for, as the family documents it.
json render(const job_request& req, const epm_reply& reply) {
  if (reply.body)
    return *reply.body;
  switch (req.kind) {
    case family::planning:
      return {{"status", reply.code},
              {"details", null_or(reply.details)},
              {"jobId", req.id},
              {"jobName", "fake job"},
              {"descriptiveStatus", reply.descriptive},
              {"links", self_link("/HyperionPlanning/rest/v3/applications/app/jobs/" + req.id)}};
    case family::arcs:
      return {{"type", "ARCS"},
              {"status", reply.code == 2 ? -1 : reply.code},
              {"details", null_or(reply.details)},
              {"links", self_link(scripted_epm_pod::arcs_path(req.id))},
              {"error", nullptr},
              {"items", nullptr},
              {"link", nullptr}};
    case family::arcs_tm:
      return {{"type", "TM"},
              {"status", reply.code == 2 ? -1 : reply.code},
              {"details", reply.code == -1 ? json("In Process") : null_or(reply.details)},
              {"links", self_link(scripted_epm_pod::arcs_tm_path(req.id))}};
    case family::data_integration: {
      const char* word = reply.code == 0 ? "SUCCESS" : reply.code == -1 ? "RUNNING" : "FAILED";
      return {{"status", std::to_string(reply.code)},
              {"details", reply.details.empty() ? std::string{"null"} : reply.details},
              {"jobId", req.id},
              {"jobStatus", word},
              {"logFileName", "outbox/logs/Vision_" + req.id + ".log"},
              {"outputFileName", ""},
              {"processType", "EXPORT_MAPPING"},
              {"executedBy", "admin"}};
    }
    case family::edm:
      return req.result ? edm_job_run_result(req.id, reply) : edm_job_run(req.id, reply);
  }
  return json::object();
}

scripted_response json_response(int status, const json& body) {
  scripted_response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

/// Serves a scripted fake's answers over HTTP: the latency it asks for is
/// spent on the server's thread, as a slow service would.
scripted_response answer_after_its_delay(const timed_response& answer) {
  if (answer.delay.count() > 0)
    std::this_thread::sleep_for(answer.delay); // the service's latency, not a test wait
  return answer.response;
}

} // namespace

// -- epm_reply ------------------------------------------------------------------------

epm_reply epm_reply::job(int code, const std::string& details, const std::string& descriptive) {
  epm_reply r;
  r.code = code;
  r.details = details;
  r.descriptive = descriptive;
  return r;
}

epm_reply epm_reply::edm_completed_but_failed(const std::string& task_message) {
  auto r = job(0, "Exporting dimension Account to connection Production", "Completed");
  r.edm_result_failure = task_message;
  return r;
}

epm_reply epm_reply::literal(json body, int status) {
  epm_reply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

epm_reply epm_reply::http(int status) {
  return literal({{"detail", "fake EPM error"}, {"status", status}}, status);
}

epm_reply epm_reply::daily_maintenance(const std::string& amw_time,
                                       const std::string& time_zone) {
  json item{{"buildVersion", "24.11.75"}, {"amwTime", amw_time}};
  if (!time_zone.empty())
    item["timeZone"] = time_zone;
  return literal({{"details", nullptr},
                  {"status", 0},
                  {"items", json::array({item})},
                  {"links", self_link(scripted_epm_pod::daily_maintenance_path())}});
}

// -- scripted_epm_pod -------------------------------------------------------------------

void scripted_epm_pod::script(const std::string& job_id, std::vector<epm_reply> replies) {
  std::lock_guard<std::mutex> guard(mtx_);
  jobs_[job_id].replies = std::move(replies);
}

void scripted_epm_pod::accept_authorizations(std::set<std::string> values) {
  std::lock_guard<std::mutex> guard(mtx_);
  accepted_ = std::move(values);
}

std::size_t scripted_epm_pod::calls(const std::string& job_id) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? 0 : it->second.calls;
}

std::size_t scripted_epm_pod::result_calls(const std::string& job_id) const {
  std::lock_guard<std::mutex> guard(mtx_);
  auto it = jobs_.find(job_id);
  return it == jobs_.end() ? 0 : it->second.result_calls;
}

void scripted_epm_pod::script_daily_maintenance(std::vector<epm_reply> replies) {
  std::lock_guard<std::mutex> guard(mtx_);
  maintenance_.replies = std::move(replies);
}

std::size_t scripted_epm_pod::daily_maintenance_calls() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return maintenance_.calls;
}

void scripted_epm_pod::deny_role(bool on) {
  std::lock_guard<std::mutex> guard(mtx_);
  deny_role_ = on;
}

std::size_t scripted_epm_pod::unauthorized() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return unauthorized_;
}

std::string scripted_epm_pod::planning_path(const std::string& application,
                                            const std::string& job_id) {
  return "/HyperionPlanning/rest/v3/applications/" + application + "/jobs/" + job_id;
}
std::string scripted_epm_pod::arcs_path(const std::string& job_id) {
  return "/armARCS/rest/v1/jobs/" + job_id;
}
std::string scripted_epm_pod::arcs_tm_path(const std::string& job_id) {
  return "/arm/rest/v1/jobs/" + job_id;
}
std::string scripted_epm_pod::edm_result_path(const std::string& job_id) {
  return edm_path(job_id) + "/result";
}

std::string scripted_epm_pod::daily_maintenance_path() {
  return "/interop/rest/v2/maintenance/getdailymaintenancestarttime";
}
std::string scripted_epm_pod::data_integration_path(const std::string& job_id) {
  return "/aif/rest/V1/jobs/" + job_id;
}
std::string scripted_epm_pod::edm_path(const std::string& job_id) {
  return "/epm/rest/v1/jobRuns/" + job_id;
}

timed_response scripted_epm_pod::answer(const recorded_request& req) {
  std::lock_guard<std::mutex> guard(mtx_);
  if (!accepted_.empty()) {
    auto it = req.headers.find("authorization");
    if (it == req.headers.end() || accepted_.count(it->second) == 0) {
      ++unauthorized_;
      return {json_response(401, {{"detail", "Unauthorized"}})};
    }
  }
  if (req.method == "GET" && req.path == daily_maintenance_path()) {
    if (deny_role_)
      return {json_response(403, {{"detail", "The user does not have the required role"}})};
    if (maintenance_.replies.empty())
      return {json_response(404, {{"detail", "not scripted"}})};
    const auto& reply =
      maintenance_.replies[std::min(maintenance_.calls++, maintenance_.replies.size() - 1)];
    return {json_response(reply.status, reply.body.value_or(json::object())), reply.delay};
  }
  auto job = req.method == "GET" ? job_of(req.path) : std::nullopt;
  if (!job)
    return {json_response(400, {{"detail", "not a job-status request"}})};
  if (deny_role_)
    return {json_response(403, {{"detail", "The user does not have the required role"}})};
  auto it = jobs_.find(job->id);
  if (it == jobs_.end() || it->second.replies.empty())
    return {json_response(404, {{"detail", "Job " + job->id + " not found"}})};
  auto& js = it->second;
  if (job->result) {
    // A run's result reflects the reply that said it completed.
    ++js.result_calls;
    if (js.calls == 0)
      return {json_response(404, {{"detail", "Job run " + job->id + " has no result yet"}})};
    const auto& reply = js.replies[std::min(js.calls, js.replies.size()) - 1];
    return {json_response(reply.status, render(*job, reply)), reply.delay};
  }
  auto step = std::min(js.calls, js.replies.size() - 1);
  ++js.calls;
  const auto& reply = js.replies[step];
  return {json_response(reply.status, render(*job, reply)), reply.delay};
}

// -- fake_epm -------------------------------------------------------------------------

fake_epm::fake_epm() {
  server_ = std::make_unique<fake_http_server>(
    [this](const recorded_request& req) { return answer_after_its_delay(answer(req)); });
}

fake_epm::~fake_epm() = default;

std::string fake_epm::base_url() const {
  return server_->base_url();
}

std::vector<recorded_request> fake_epm::requests() const {
  return server_->requests();
}

std::vector<std::string> fake_epm::authorizations() const {
  std::vector<std::string> out;
  for (const auto& r : server_->requests()) {
    auto it = r.headers.find("authorization");
    out.push_back(it == r.headers.end() ? std::string{} : it->second);
  }
  return out;
}

bool fake_epm::wait_calls(const std::string& job_id, std::size_t n,
                          std::chrono::milliseconds timeout) const {
  return eventually([&] { return calls(job_id) >= n; }, timeout);
}

// -- scripted_token_endpoint ------------------------------------------------------------

void scripted_token_endpoint::accept_refresh_tokens(
  std::set<std::string> tokens, std::optional<std::chrono::steady_clock::time_point> issued_at) {
  std::lock_guard<std::mutex> guard(mtx_);
  accepted_refresh_ = std::move(tokens);
  issued_at_.clear();
  initial_issue_ = issued_at;
  if (issued_at)
    for (const auto& t : accepted_refresh_)
      issued_at_[t] = *issued_at;
}

void scripted_token_endpoint::set_refresh_token_lifetime(std::chrono::milliseconds lifetime) {
  std::lock_guard<std::mutex> guard(mtx_);
  lifetime_ = lifetime;
}

void scripted_token_endpoint::require_client_secret(std::string client_id, std::string secret) {
  std::lock_guard<std::mutex> guard(mtx_);
  client_id_ = std::move(client_id);
  client_secret_ = std::move(secret);
}

bool scripted_token_endpoint::refresh_token_works(const std::string& token,
                                                  std::chrono::steady_clock::time_point at) {
  if (accepted_refresh_.empty())
    return true;
  if (accepted_refresh_.count(token) == 0)
    return false; // unknown, or consumed by a rotation
  auto issued = issued_at_.find(token);
  if (issued == issued_at_.end())
    issued = issued_at_.emplace(token, initial_issue_.value_or(at)).first;
  return at - issued->second <= lifetime_;
}

void scripted_token_endpoint::set_rotation(bool on) {
  std::lock_guard<std::mutex> guard(mtx_);
  rotation_ = on;
}

void scripted_token_endpoint::set_expires_in(long seconds) {
  std::lock_guard<std::mutex> guard(mtx_);
  expires_in_ = seconds;
}

void scripted_token_endpoint::set_delay(std::chrono::milliseconds d) {
  std::lock_guard<std::mutex> guard(mtx_);
  delay_ = d;
}

void scripted_token_endpoint::set_failing(bool failing, int status) {
  std::lock_guard<std::mutex> guard(mtx_);
  failing_ = failing;
  failing_status_ = status;
}

void scripted_token_endpoint::script(std::vector<token_reply> replies) {
  std::lock_guard<std::mutex> guard(mtx_);
  script_ = std::move(replies);
}

std::size_t scripted_token_endpoint::calls() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return calls_;
}

std::size_t scripted_token_endpoint::issued() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return issued_;
}

std::string scripted_token_endpoint::last_access_token() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return last_access_;
}

std::string scripted_token_endpoint::current_refresh_token() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return accepted_refresh_.size() == 1 ? *accepted_refresh_.begin() : std::string{};
}

std::map<std::string, std::string> scripted_token_endpoint::form(const std::string& body) {
  std::map<std::string, std::string> out;
  std::size_t pos = 0;
  while (pos <= body.size()) {
    auto amp = body.find('&', pos);
    auto pair = body.substr(pos, amp == std::string::npos ? std::string::npos : amp - pos);
    if (!pair.empty()) {
      auto eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = eq == std::string::npos ? std::string{} : percent_decode(pair.substr(eq + 1), true);
      out[key] = value;
    }
    if (amp == std::string::npos)
      break;
    pos = amp + 1;
  }
  return out;
}

timed_response scripted_token_endpoint::answer(const recorded_request& req) {
  std::chrono::milliseconds delay;
  scripted_response resp;
  {
    std::lock_guard<std::mutex> guard(mtx_);
    ++calls_;
    delay = delay_;
    auto fields = form(req.body);
    auto grant = fields["grant_type"];
    std::optional<token_reply> scripted;
    if (!script_.empty()) {
      scripted = script_.front();
      script_.erase(script_.begin());
      delay = scripted->delay;
    }
    auto basic = req.headers.find("authorization");
    auto expected_basic =
      client_id_.empty() ? std::string{} : basic_auth_header(client_id_, client_secret_);
    if (failing_) {
      resp = json_response(failing_status_, {{"error", "temporarily_unavailable"}});
    } else if (scripted && scripted->status != 200) {
      resp = json_response(scripted->status,
                           {{"error", scripted->error}, {"error_description", "scripted failure"}});
    } else if (!expected_basic.empty()
               && (basic == req.headers.end() || basic->second != expected_basic)) {
      resp = json_response(401, {{"error", "invalid_client"},
                                 {"error_description", "Client authentication failed."}});
    } else if (req.method != "POST" || (grant != "refresh_token" && grant != "client_credentials")) {
      resp = json_response(400, {{"error", "unsupported_grant_type"}});
    } else if (grant == "refresh_token"
               && !refresh_token_works(fields["refresh_token"], req.received)) {
      resp = json_response(400, {{"error", "invalid_grant"},
                                 {"error_description", "Invalid refresh token."}});
    } else {
      ++issued_;
      json body = {{"token_type", "Bearer"}};
      body["access_token"] = scripted && !scripted->access_token.empty()
                               ? scripted->access_token
                               : "access-" + std::to_string(issued_);
      body["expires_in"] = scripted ? scripted->expires_in : expires_in_;
      if (scripted && scripted->refresh_token) {
        body["refresh_token"] = *scripted->refresh_token;
      } else if (rotation_ && grant == "refresh_token") {
        auto next = "rotated-" + std::to_string(++rotations_);
        accepted_refresh_ = {next}; // the one just used is consumed
        issued_at_ = {{next, req.received}};
        body["refresh_token"] = next;
      }
      last_access_ = body["access_token"].get<std::string>();
      register_secret(last_access_);
      if (body.contains("refresh_token"))
        register_secret(body["refresh_token"].get<std::string>());
      resp = json_response(200, body);
    }
  }
  return {std::move(resp), delay};
}

// -- fake_token_endpoint ----------------------------------------------------------------

fake_token_endpoint::fake_token_endpoint() {
  server_ = std::make_unique<fake_http_server>(
    [this](const recorded_request& req) { return answer_after_its_delay(answer(req)); });
}

fake_token_endpoint::~fake_token_endpoint() = default;

std::string fake_token_endpoint::url() const {
  return server_->base_url() + "/oauth2/v1/token";
}

std::vector<recorded_request> fake_token_endpoint::requests() const {
  return server_->requests();
}

bool fake_token_endpoint::wait_calls(std::size_t n, std::chrono::milliseconds timeout) const {
  return eventually([&] { return calls() >= n; }, timeout);
}

} // namespace epmpulse::test
