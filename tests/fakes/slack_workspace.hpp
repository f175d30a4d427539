#pragma once

// Slack's side of the three Web API methods the canvas actor calls
// (canvases.edit, canvases.sections.lookup, conversations.canvases.create),
// in memory and without transport: it keeps each canvas's document as
// markdown, checks the Bearer token, and can be scripted to answer 429 with
// Retry-After, 5xx, or "ok": false with an error code. Two fakes carry it:
// fake_slack over real HTTP, fake_slack_client in process (an
// http_client_actor for tests on the simulated system). Not thread-safe:
// its carrier locks.
//
// Sections: a section is a heading line and everything up to the next
// heading. Ids are handed out per heading and survive section replaces; a
// whole-canvas replace gives every heading a new id (the canvas actor must not
// rely on ids across a full replace).

#include <chrono>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_http_server.hpp"

namespace epmpulse::test {

/// One call as Slack saw it.
struct slack_call {
  std::string method;        ///< "canvases.edit", "canvases.sections.lookup", ...
  std::string authorization; ///< the raw Authorization header
  nlohmann::json body;       ///< the parsed JSON body (discarded when not JSON)
  std::string canvas_id;     ///< edit and lookup
  std::string channel_id;    ///< create
  std::string operation;     ///< edit: "replace", ...
  std::string section_id;    ///< edit: "" = whole canvas
  std::string markdown;      ///< edit and create: the document_content markdown
  int status = 200;          ///< what Slack answered
  std::string error;         ///< Slack error code answered, "" when ok
  bool applied = false;      ///< the call changed a canvas
  std::chrono::steady_clock::time_point received; ///< real or simulated, by the carrier
};

/// A scripted answer for the next matching call.
struct slack_failure {
  std::string method;      ///< only calls to this method ("" = any)
  int status = 200;        ///< 429, 5xx, or 200 for "ok": false
  std::string error;       ///< "ok": false code (status 200)
  double retry_after = 0;  ///< Retry-After for 429 (fractions allowed)
};

class slack_workspace {
public:
  /// `token`: the bot token every call must carry ("" = accept any).
  explicit slack_workspace(std::string token);

  /// A call to `method` (the last part of the URL's path) with its
  /// Authorization header and body, not yet answered.
  static slack_call read_call(std::string method, std::string authorization,
                              const std::string& body);

  /// Answers `c` as Slack would (a scripted failure first), recording in `c`
  /// what was answered and whether a canvas changed.
  scripted_response answer(slack_call& c);

  // -- scripting --

  /// The next `times` calls matching `f.method` get `f` instead of a real answer.
  void fail_next(slack_failure f, int times = 1);
  /// Every call from now on answers "ok": false with `code` ("" = stop).
  void fail_always_with_error(const std::string& code);
  /// Registers an existing canvas with `markdown` (a full document).
  void put_canvas(const std::string& canvas_id, const std::string& markdown);

  // -- inspection --

  /// The canvas's current document ("" when unknown).
  std::string document(const std::string& canvas_id) const;
  /// Canvases created with conversations.canvases.create: channel -> id.
  const std::map<std::string, std::string>& created() const { return created_; }

private:
  struct section {
    std::string id;
    int level = 0;        ///< 1..3, 0 = text before the first heading
    std::string heading;  ///< heading text without the #s
    std::string markdown; ///< heading line and body
  };

  std::vector<section> split(const std::string& markdown);
  static std::string join(const std::vector<section>& sections);

  std::string token_;
  std::deque<slack_failure> failures_;
  std::string always_error_;
  std::map<std::string, std::vector<section>> canvases_;
  std::map<std::string, std::string> created_;
  int next_id_ = 1;
};

/// The calls to `method`.
std::vector<slack_call> slack_calls_to(const std::vector<slack_call>& calls,
                                       const std::string& method);
/// canvases.edit calls for `canvas_id` (all, including refused ones).
std::vector<slack_call> slack_edits_of(const std::vector<slack_call>& calls,
                                       const std::string& canvas_id);
/// canvases.edit calls for `canvas_id` that changed the canvas.
std::vector<slack_call> slack_applied_edits_of(const std::vector<slack_call>& calls,
                                               const std::string& canvas_id);

} // namespace epmpulse::test
