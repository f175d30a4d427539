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
// Documents, as Slack documents them (canvases.edit, canvases.sections.lookup,
// and the canvas HTML canvases.getContent returns): a canvas is a sequence
// of sections, and every heading, paragraph, list and table is a section of
// its own with its own id. A heading's section is the heading line alone:
// the list or table under it is the next section. sections.lookup with
// `section_types` finds headings only; with `contains_text` alone it may
// also find other sections (the method page: "other types of sections exist
// ... you may discover these when using a query with no section type
// provided"). canvases.edit takes one change per call and the documented
// operations replace (whole canvas or one section), delete, insert_before,
// insert_after, insert_at_start, insert_at_end. Ids are "temp:" ids: every
// edit hands out new ones, so an id is good only until the next edit.

#include <chrono>
#include <deque>
#include <map>
#include <optional>
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

  /// The scripted failure for `c`, if one is pending (and then consumed).
  std::optional<scripted_response> scripted_failure(slack_call& c);

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
  /// The canvas's sections as Slack would list them: "h2 Planning",
  /// "paragraph", "list", "table".
  std::vector<std::string> outline(const std::string& canvas_id) const;
  /// Canvases created with conversations.canvases.create: channel -> id.
  const std::map<std::string, std::string>& created() const { return created_; }

private:
  /// One section of a document.
  struct section {
    enum class kind { heading, paragraph, list, table };
    std::string id;
    kind type = kind::paragraph;
    int level = 0;        ///< headings: 1..3
    std::string text;     ///< what contains_text searches: a heading's text without the #s
    std::string markdown; ///< the section's lines, with the blank lines after it
  };
  using document_sections = std::vector<section>;

  document_sections parse(const std::string& markdown);
  static std::string join(const document_sections& sections);
  void renumber(document_sections& sections);

  scripted_response create(slack_call& c);
  scripted_response lookup(slack_call& c);
  scripted_response edit(slack_call& c);

  std::string token_;
  std::deque<slack_failure> failures_;
  std::string always_error_;
  std::map<std::string, document_sections> canvases_;
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
