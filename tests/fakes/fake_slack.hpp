#pragma once

// A fake Slack Web API over real HTTP on loopback (built on fake_http_server):
// the slack_contract's answers (auth.test, conversations.info, the token's
// scopes and documented error bodies), then the slack_workspace's answers to
// canvases.edit, canvases.sections.lookup and conversations.canvases.create
// (documents kept as markdown, so a test can
// compare what a channel would show with the preview; the Bearer token
// checked; 429, 5xx and "ok": false scriptable), every call recorded with the
// markdown it carried, and a network that can stop answering until told
// otherwise.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tests/fakes/fake_http_server.hpp"
#include "tests/fakes/slack_contract.hpp"
#include "tests/fakes/slack_workspace.hpp"

namespace epmpulse::test {

class fake_slack {
public:
  using call = slack_call;
  using failure = slack_failure;

  /// `token`: the bot token every call must carry ("" = accept any).
  explicit fake_slack(std::string token = "xoxb-fake-token");
  ~fake_slack();

  fake_slack(const fake_slack&) = delete;
  fake_slack& operator=(const fake_slack&) = delete;

  /// "http://127.0.0.1:<port>": the SLACK_API_URL to use.
  std::string api_url() const;

  // -- scripting --

  /// The next call matching `f.method` gets `f` instead of a real answer.
  void fail_next(failure f, int times = 1);
  void fail_next_with_429(double retry_after, int times = 1, const std::string& method = {});
  void fail_next_with_status(int status, int times = 1, const std::string& method = {});
  void fail_next_with_error(const std::string& code, int times = 1,
                            const std::string& method = {});
  /// Every call from now on answers "ok": false with `code` ("" = stop).
  void fail_always_with_error(const std::string& code);
  /// Changes what Slack documents about the token (scopes, identity,
  /// revocation, channel canvases, scripted error bodies) under the lock.
  void edit_contract(const std::function<void(slack_contract&)>& edit);

  /// Network down: calls get no answer (they hang until the client gives up)
  /// and change nothing, until `set_down(false)`.
  void set_down(bool down);

  /// Registers an existing canvas with `markdown` (a full document).
  void put_canvas(const std::string& canvas_id, const std::string& markdown);

  // -- inspection --

  std::vector<call> calls() const;
  std::vector<call> calls_to(const std::string& method) const;
  /// canvases.edit calls for `canvas_id` (all, including refused ones).
  std::vector<call> edits_of(const std::string& canvas_id) const;
  /// canvases.edit calls for `canvas_id` that changed the canvas.
  std::vector<call> applied_edits_of(const std::string& canvas_id) const;
  /// The canvas's current document ("" when unknown).
  std::string document(const std::string& canvas_id) const;
  /// Canvases created with conversations.canvases.create: channel -> id.
  std::map<std::string, std::string> created() const;
  void clear_calls();

  /// Waits (deadline, no bare sleep) until `pred(calls())` holds.
  bool wait_until(const std::function<bool(const std::vector<call>&)>& pred,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  /// The underlying server (raw requests).
  const fake_http_server& server() const { return *server_; }

private:
  scripted_response handle(const recorded_request& req);

  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  slack_workspace workspace_;
  slack_contract contract_;
  std::vector<call> calls_;
  bool down_ = false;
  bool closing_ = false;
  std::unique_ptr<fake_http_server> server_; ///< last: stops first
};

} // namespace epmpulse::test
