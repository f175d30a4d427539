#include "tests/fakes/slack_workspace.hpp"

#include <algorithm>
#include <iterator>
#include <sstream>

namespace epmpulse::test {

using nlohmann::json;

namespace {

scripted_response slack_json(const json& body, int status = 200) {
  scripted_response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

scripted_response slack_error(const std::string& code) {
  return slack_json({{"ok", false}, {"error", code}});
}

std::string slack_json_string(const json& j, const char* key) {
  return j.is_object() && j.contains(key) && j[key].is_string() ? j[key].get<std::string>()
                                                                 : std::string{};
}

} // namespace

slack_workspace::slack_workspace(std::string token) : token_(std::move(token)) {
}

slack_call slack_workspace::read_call(std::string method, std::string authorization,
                                      const std::string& body) {
  slack_call c;
  c.method = std::move(method);
  c.authorization = std::move(authorization);
  c.body = json::parse(body, nullptr, false);
  c.canvas_id = slack_json_string(c.body, "canvas_id");
  c.channel_id = slack_json_string(c.body, "channel_id");
  if (c.body.is_object() && c.body.contains("changes") && c.body["changes"].is_array() &&
      !c.body["changes"].empty()) {
    const auto& change = c.body["changes"][0];
    c.operation = slack_json_string(change, "operation");
    c.section_id = slack_json_string(change, "section_id");
    if (change.contains("document_content"))
      c.markdown = slack_json_string(change["document_content"], "markdown");
  } else if (c.body.is_object() && c.body.contains("document_content")) {
    c.markdown = slack_json_string(c.body["document_content"], "markdown");
  }
  return c;
}

// -- scripting -----------------------------------------------------------------

void slack_workspace::fail_next(slack_failure f, int times) {
  for (int i = 0; i < times; ++i)
    failures_.push_back(f);
}

void slack_workspace::fail_always_with_error(const std::string& code) {
  always_error_ = code;
}

void slack_workspace::put_canvas(const std::string& canvas_id, const std::string& markdown) {
  canvases_[canvas_id] = parse(markdown);
}

std::string slack_workspace::document(const std::string& canvas_id) const {
  auto it = canvases_.find(canvas_id);
  return it == canvases_.end() ? std::string{} : join(it->second);
}

std::vector<std::string> slack_workspace::outline(const std::string& canvas_id) const {
  std::vector<std::string> out;
  auto it = canvases_.find(canvas_id);
  if (it == canvases_.end())
    return out;
  for (const auto& s : it->second)
    switch (s.type) {
      case section::kind::heading:
        out.push_back("h" + std::to_string(s.level) + " " + s.text);
        break;
      case section::kind::paragraph: out.push_back("paragraph"); break;
      case section::kind::list: out.push_back("list"); break;
      case section::kind::table: out.push_back("table"); break;
    }
  return out;
}

// -- documents -------------------------------------------------------------------

slack_workspace::document_sections slack_workspace::parse(const std::string& markdown) {
  document_sections out;
  std::istringstream in(markdown);
  std::string line;
  bool open = false; // the last section may still take lines of its kind
  while (std::getline(in, line)) {
    if (line.empty()) {
      // A blank line ends a paragraph, list or table; it stays with the
      // section before it so the document reads back as it was written.
      if (out.empty())
        out.push_back(section{"", section::kind::paragraph, 0, "", ""});
      out.back().markdown += "\n";
      open = false;
      continue;
    }
    int level = 0;
    while (level < static_cast<int>(line.size()) && line[level] == '#')
      ++level;
    section s;
    if (level >= 1 && level <= 3 && static_cast<int>(line.size()) > level && line[level] == ' ') {
      s.type = section::kind::heading;
      s.level = level;
      s.text = line.substr(level + 1);
    } else if (line[0] == '|') {
      s.type = section::kind::table;
    } else if (line.rfind("- ", 0) == 0 || line.rfind("* ", 0) == 0) {
      s.type = section::kind::list;
    }
    if (open && s.type != section::kind::heading && out.back().type == s.type) {
      out.back().text += "\n" + line;
      out.back().markdown += line + "\n";
      continue;
    }
    if (s.type != section::kind::heading)
      s.text = line;
    s.markdown = line + "\n";
    out.push_back(std::move(s));
    // A heading is a section of one line: what follows is the next section.
    open = out.back().type != section::kind::heading;
  }
  if (!markdown.empty() && markdown.back() != '\n' && !out.empty())
    out.back().markdown.pop_back();
  renumber(out);
  return out;
}

std::string slack_workspace::join(const document_sections& sections) {
  std::string out;
  for (const auto& s : sections)
    out += s.markdown;
  return out;
}

void slack_workspace::renumber(document_sections& sections) {
  for (auto& s : sections)
    s.id = "temp:C:" + std::to_string(next_id_++);
}

// -- answers ---------------------------------------------------------------------

std::optional<scripted_response> slack_workspace::scripted_failure(slack_call& c) {
  for (auto it = failures_.begin(); it != failures_.end(); ++it) {
    if (!it->method.empty() && it->method != c.method)
      continue;
    auto f = *it;
    failures_.erase(it);
    c.status = f.status;
    if (f.status == 429) {
      c.error = "ratelimited";
      auto r = slack_json({{"ok", false}, {"error", "ratelimited"}}, 429);
      std::ostringstream ra;
      ra << f.retry_after;
      r.headers["Retry-After"] = ra.str();
      return r;
    }
    if (f.status != 200) {
      c.error = "http_" + std::to_string(f.status);
      return slack_json({{"ok", false}, {"error", "internal_error"}}, f.status);
    }
    c.error = f.error;
    return slack_error(f.error);
  }
  return std::nullopt;
}

scripted_response slack_workspace::answer(slack_call& c) {
  if (auto failure = scripted_failure(c))
    return *failure;
  if (!always_error_.empty()) {
    c.error = always_error_;
    return slack_error(always_error_);
  }
  if (!token_.empty() && c.authorization != "Bearer " + token_) {
    c.error = c.authorization.empty() ? "not_authed" : "invalid_auth";
    return slack_error(c.error);
  }
  if (c.body.is_discarded() || !c.body.is_object()) {
    c.error = "invalid_json";
    return slack_error(c.error);
  }

  if (c.method == "conversations.canvases.create")
    return create(c);
  if (c.method == "canvases.sections.lookup")
    return lookup(c);
  if (c.method == "canvases.edit")
    return edit(c);
  c.error = "unknown_method";
  return slack_error(c.error);
}

scripted_response slack_workspace::create(slack_call& c) {
  if (c.channel_id.empty()) {
    c.error = "channel_not_found";
    return slack_error(c.error);
  }
  if (created_.count(c.channel_id) != 0) {
    c.error = "channel_canvas_already_exists";
    return slack_error(c.error);
  }
  auto id = "F" + std::to_string(1000 + next_id_++);
  canvases_[id] = parse(c.markdown);
  created_[c.channel_id] = id;
  c.canvas_id = id;
  c.applied = true;
  return slack_json({{"ok", true}, {"canvas_id", id}});
}

scripted_response slack_workspace::lookup(slack_call& c) {
  auto it = canvases_.find(c.canvas_id);
  if (it == canvases_.end()) {
    c.error = "canvas_not_found";
    return slack_error(c.error);
  }
  // At least one of section_types (1 to 3 of h1, h2, h3, any_header) and
  // contains_text (the SDKs' Criteria type).
  const auto& criteria = c.body.contains("criteria") ? c.body["criteria"] : json{};
  bool has_types = criteria.is_object() && criteria.contains("section_types");
  bool has_text = criteria.is_object() && criteria.contains("contains_text");
  std::vector<std::string> types;
  if (has_types) {
    const auto& t = criteria["section_types"];
    bool valid = t.is_array() && !t.empty() && t.size() <= 3;
    for (const auto& v : valid ? t : json::array()) {
      auto name = v.is_string() ? v.get<std::string>() : std::string{};
      valid = valid && (name == "h1" || name == "h2" || name == "h3" || name == "any_header");
      types.push_back(name);
    }
    if (!valid)
      has_types = has_text = false;
  }
  auto text = slack_json_string(criteria, "contains_text");
  if ((!has_types && !has_text) || (has_text && text.empty())) {
    c.error = "invalid_arguments";
    return slack_error(c.error);
  }
  json found = json::array();
  for (const auto& s : it->second) {
    if (has_types) {
      bool type_ok = false;
      for (const auto& t : types)
        type_ok = type_ok || (s.type == section::kind::heading &&
                              (t == "any_header" || t == "h" + std::to_string(s.level)));
      if (!type_ok)
        continue;
    }
    if (has_text && s.text.find(text) == std::string::npos)
      continue;
    found.push_back({{"id", s.id}});
  }
  return slack_json({{"ok", true}, {"sections", found}});
}

scripted_response slack_workspace::edit(slack_call& c) {
  auto it = canvases_.find(c.canvas_id);
  if (it == canvases_.end()) {
    // Unknown ids are taken as existing empty canvases (a test starts
    // with canvases that exist); script canvas_not_found to test that.
    it = canvases_.emplace(c.canvas_id, document_sections{}).first;
  }
  auto& doc = it->second;
  const auto& changes = c.body.contains("changes") ? c.body["changes"] : json{};
  // "Only one operation per API call is currently supported."
  if (!changes.is_array() || changes.size() != 1 || !changes[0].is_object()) {
    c.error = "invalid_arguments";
    return slack_error(c.error);
  }
  const auto& change = changes[0];
  bool has_content = change.contains("document_content");
  bool needs_section = c.operation == "delete" || c.operation == "insert_after" ||
                       c.operation == "insert_before";
  bool needs_content = c.operation != "delete";
  bool known = needs_section || c.operation == "replace" || c.operation == "insert_at_start" ||
               c.operation == "insert_at_end";
  if (!known || (needs_section && c.section_id.empty()) || (needs_content && !has_content)) {
    c.error = "invalid_arguments";
    return slack_error(c.error);
  }
  auto target = doc.end();
  if (!c.section_id.empty()) {
    target = std::find_if(doc.begin(), doc.end(),
                          [&](const section& s) { return s.id == c.section_id; });
    if (target == doc.end()) {
      // A stale or unknown id: the documented "changes failed to be applied".
      c.error = "canvas_editing_failed";
      return slack_error(c.error);
    }
  }
  auto content = needs_content ? parse(c.markdown) : document_sections{};
  if (c.operation == "replace" && c.section_id.empty()) {
    doc = std::move(content);
  } else if (c.operation == "replace") {
    // The section alone is replaced: for a heading, the heading line; the
    // sections after it stay.
    auto pos = doc.erase(target);
    doc.insert(pos, content.begin(), content.end());
  } else if (c.operation == "delete") {
    doc.erase(target);
  } else if (c.operation == "insert_before") {
    doc.insert(target, content.begin(), content.end());
  } else if (c.operation == "insert_after") {
    doc.insert(std::next(target), content.begin(), content.end());
  } else if (c.operation == "insert_at_start") {
    doc.insert(doc.begin(), content.begin(), content.end());
  } else {
    doc.insert(doc.end(), content.begin(), content.end());
  }
  // Every edit hands out new ids: an id looked up before is stale now.
  renumber(doc);
  c.applied = true;
  return slack_json({{"ok", true}});
}

// -- call lists ----------------------------------------------------------------

std::vector<slack_call> slack_calls_to(const std::vector<slack_call>& calls,
                                       const std::string& method) {
  std::vector<slack_call> out;
  for (const auto& c : calls)
    if (c.method == method)
      out.push_back(c);
  return out;
}

std::vector<slack_call> slack_edits_of(const std::vector<slack_call>& calls,
                                       const std::string& canvas_id) {
  std::vector<slack_call> out;
  for (const auto& c : calls)
    if (c.method == "canvases.edit" && c.canvas_id == canvas_id)
      out.push_back(c);
  return out;
}

std::vector<slack_call> slack_applied_edits_of(const std::vector<slack_call>& calls,
                                               const std::string& canvas_id) {
  std::vector<slack_call> out;
  for (const auto& c : slack_edits_of(calls, canvas_id))
    if (c.applied)
      out.push_back(c);
  return out;
}

} // namespace epmpulse::test
