#include "tests/fakes/fake_epm.hpp"

#include <thread>

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

/// The job id of a job-status path of any of the four kinds, else nullopt.
std::optional<std::string> job_id_of(const std::string& path) {
  static const std::string planning = "/HyperionPlanning/rest/v3/applications/";
  static const std::string others[] = {"/armARCS/rest/v1/jobs/", "/aif/rest/V1/jobs/",
                                       "/epm/rest/v1/jobRuns/"};
  if (starts_with(path, planning)) {
    auto rest = path.substr(planning.size()); // {app}/jobs/{id}
    auto slash = rest.find('/');
    if (slash == std::string::npos || rest.compare(slash, 6, "/jobs/") != 0)
      return std::nullopt;
    auto id = rest.substr(slash + 6);
    if (id.empty() || id.find('/') != std::string::npos)
      return std::nullopt;
    return percent_decode(id, false);
  }
  for (const auto& prefix : others) {
    if (starts_with(path, prefix)) {
      auto id = path.substr(prefix.size());
      if (id.empty() || id.find('/') != std::string::npos)
        return std::nullopt;
      return percent_decode(id, false);
    }
  }
  return std::nullopt;
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
  r.body = {{"jobId", 0},
            {"jobName", "fake job"},
            {"status", code},
            {"descriptiveStatus", descriptive},
            {"details", details.empty() ? json(nullptr) : json(details)},
            {"links", json::array()}};
  return r;
}

epm_reply epm_reply::http(int status) {
  epm_reply r;
  r.status = status;
  r.body = {{"detail", "fake EPM error"}, {"status", status}};
  return r;
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
  auto id = req.method == "GET" ? job_id_of(req.path) : std::nullopt;
  if (!id)
    return {json_response(400, {{"detail", "not a job-status request"}})};
  auto it = jobs_.find(*id);
  if (it == jobs_.end() || it->second.replies.empty())
    return {json_response(404, {{"detail", "Job " + *id + " not found"}})};
  auto& js = it->second;
  auto step = std::min(js.calls, js.replies.size() - 1);
  ++js.calls;
  const auto& reply = js.replies[step];
  return {json_response(reply.status, reply.body), reply.delay};
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

void scripted_token_endpoint::accept_refresh_tokens(std::set<std::string> tokens) {
  std::lock_guard<std::mutex> guard(mtx_);
  accepted_refresh_ = std::move(tokens);
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
    if (failing_) {
      resp = json_response(failing_status_, {{"error", "temporarily_unavailable"}});
    } else if (scripted && scripted->status != 200) {
      resp = json_response(scripted->status, {{"error", scripted->error}});
    } else if (req.method != "POST" || (grant != "refresh_token" && grant != "client_credentials")) {
      resp = json_response(400, {{"error", "unsupported_grant_type"}});
    } else if (grant == "refresh_token" && !accepted_refresh_.empty()
               && accepted_refresh_.count(fields["refresh_token"]) == 0) {
      resp = json_response(400, {{"error", "invalid_grant"}});
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
        accepted_refresh_ = {next};
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
