#include "tests/fakes/fake_slack.hpp"

namespace epmpulse::test {

namespace {

std::string slack_method_of(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace

fake_slack::fake_slack(std::string token) : workspace_(token), contract_(token) {
  server_ = std::make_unique<fake_http_server>(
    [this](const recorded_request& req) { return handle(req); });
}

fake_slack::~fake_slack() {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    closing_ = true;
  }
  cv_.notify_all();
  server_.reset();
}

std::string fake_slack::api_url() const {
  return server_->base_url();
}

// -- scripting -----------------------------------------------------------------

void fake_slack::fail_next(failure f, int times) {
  std::lock_guard<std::mutex> guard(mtx_);
  workspace_.fail_next(std::move(f), times);
}

void fake_slack::fail_next_with_429(double retry_after, int times, const std::string& method) {
  fail_next({method, 429, "", retry_after}, times);
}

void fake_slack::fail_next_with_status(int status, int times, const std::string& method) {
  fail_next({method, status, "", 0}, times);
}

void fake_slack::fail_next_with_error(const std::string& code, int times,
                                      const std::string& method) {
  fail_next({method, 200, code, 0}, times);
}

void fake_slack::fail_always_with_error(const std::string& code) {
  std::lock_guard<std::mutex> guard(mtx_);
  workspace_.fail_always_with_error(code);
}

void fake_slack::edit_contract(const std::function<void(slack_contract&)>& edit) {
  std::lock_guard<std::mutex> guard(mtx_);
  edit(contract_);
}

void fake_slack::set_down(bool down) {
  {
    std::lock_guard<std::mutex> guard(mtx_);
    down_ = down;
  }
  cv_.notify_all();
}

void fake_slack::put_canvas(const std::string& canvas_id, const std::string& markdown) {
  std::lock_guard<std::mutex> guard(mtx_);
  workspace_.put_canvas(canvas_id, markdown);
}

// -- inspection ----------------------------------------------------------------

std::vector<fake_slack::call> fake_slack::calls() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return calls_;
}

std::vector<fake_slack::call> fake_slack::calls_to(const std::string& method) const {
  std::lock_guard<std::mutex> guard(mtx_);
  return slack_calls_to(calls_, method);
}

std::vector<fake_slack::call> fake_slack::edits_of(const std::string& canvas_id) const {
  std::lock_guard<std::mutex> guard(mtx_);
  return slack_edits_of(calls_, canvas_id);
}

std::vector<fake_slack::call> fake_slack::applied_edits_of(const std::string& canvas_id) const {
  std::lock_guard<std::mutex> guard(mtx_);
  return slack_applied_edits_of(calls_, canvas_id);
}

std::string fake_slack::document(const std::string& canvas_id) const {
  std::lock_guard<std::mutex> guard(mtx_);
  return workspace_.document(canvas_id);
}

std::map<std::string, std::string> fake_slack::created() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return workspace_.created();
}

void fake_slack::clear_calls() {
  std::lock_guard<std::mutex> guard(mtx_);
  calls_.clear();
}

bool fake_slack::wait_until(const std::function<bool(const std::vector<call>&)>& pred,
                            std::chrono::milliseconds timeout) const {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mtx_);
  while (!pred(calls_)) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      return false;
    // Re-check at least every 20 ms: the predicate may look at other state.
    cv_.wait_until(lock, std::min(deadline, now + std::chrono::milliseconds(20)));
  }
  return true;
}

// -- the server side -----------------------------------------------------------

scripted_response fake_slack::handle(const recorded_request& req) {
  std::unique_lock<std::mutex> lock(mtx_);
  auto auth = req.headers.find("authorization");
  auto c = read_slack_call(slack_method_of(req.path),
                           auth == req.headers.end() ? std::string{} : auth->second, req.body);
  c.received = std::chrono::steady_clock::now();

  if (down_) {
    // No answer while down: hold the connection (this blocks the fake's only
    // io thread, so later calls queue unanswered too), then drop the call.
    cv_.wait(lock, [this] { return !down_ || closing_; });
    c.status = 503;
    c.error = "network_down";
    calls_.push_back(c);
    cv_.notify_all();
    scripted_response r;
    r.status = 503;
    r.body = R"({"error":"network_down","ok":false})";
    return r;
  }

  auto r = answer_as_slack(contract_, workspace_, c);
  calls_.push_back(c);
  cv_.notify_all();
  return r;
}

} // namespace epmpulse::test
