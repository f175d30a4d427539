#pragma once

// A fake Slack Web API over real HTTP on loopback (built on fake_http_server):
// canvases.edit, canvases.sections.lookup and conversations.canvases.create.
// It keeps each canvas's document as markdown (so a test can compare what a
// channel would show with the preview), records every call with the markdown
// it carried, checks the Bearer token, and can be scripted to answer 429 with
// Retry-After, 5xx, "ok": false with an error code, or to stop answering
// (network down) until told otherwise.
//
// Sections: a section is a heading line and everything up to the next
// heading. Ids are handed out per heading and survive section replaces; a
// whole-canvas replace gives every heading a new id (the canvas actor must not
// rely on ids across a full replace).

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_http_server.hpp"

namespace epmpulse::test {

class fake_slack {
public:
  /// One call as Slack saw it.
  struct call {
    std::string method;        ///< "canvases.edit", "canvases.sections.lookup", ...
    std::string authorization; ///< the raw Authorization header
    nlohmann::json body;       ///< the parsed JSON body (discarded when not JSON)
    std::string canvas_id;     ///< edit and lookup
    std::string channel_id;    ///< create
    std::string operation;     ///< edit: "replace", ...
    std::string section_id;    ///< edit: "" = whole canvas
    std::string markdown;      ///< edit and create: the document_content markdown
    int status = 200;          ///< what the fake answered
    std::string error;         ///< Slack error code answered, "" when ok
    bool applied = false;      ///< the call changed a canvas
    std::chrono::steady_clock::time_point received;
  };

  /// A scripted answer for the next matching call.
  struct failure {
    std::string method;      ///< only calls to this method ("" = any)
    int status = 200;        ///< 429, 5xx, or 200 for "ok": false
    std::string error;       ///< "ok": false code (status 200)
    double retry_after = 0;  ///< Retry-After for 429 (fractions allowed)
  };

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
  struct section {
    std::string id;
    int level = 0;        ///< 1..3, 0 = text before the first heading
    std::string heading;  ///< heading text without the #s
    std::string markdown; ///< heading line and body
  };

  scripted_response handle(const recorded_request& req);
  scripted_response answer(call& c);
  std::vector<section> split(const std::string& markdown);
  static std::string join(const std::vector<section>& sections);

  std::string token_;
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  std::vector<call> calls_;
  std::deque<failure> failures_;
  std::string always_error_;
  bool down_ = false;
  bool closing_ = false;
  std::map<std::string, std::vector<section>> canvases_;
  std::map<std::string, std::string> created_;
  int next_id_ = 1;
  std::unique_ptr<fake_http_server> server_; ///< last: stops first
};

} // namespace epmpulse::test
