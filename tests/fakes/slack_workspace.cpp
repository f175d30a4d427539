#include "tests/fakes/slack_workspace.hpp"

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
  canvases_[canvas_id] = split(markdown);
}

std::string slack_workspace::document(const std::string& canvas_id) const {
  auto it = canvases_.find(canvas_id);
  return it == canvases_.end() ? std::string{} : join(it->second);
}

// -- documents -------------------------------------------------------------------

std::vector<slack_workspace::section> slack_workspace::split(const std::string& markdown) {
  std::vector<section> out;
  std::istringstream in(markdown);
  std::string line;
  section current;
  bool any = false;
  auto flush = [&] {
    if (any)
      out.push_back(current);
  };
  while (std::getline(in, line)) {
    int level = 0;
    while (level < static_cast<int>(line.size()) && line[level] == '#')
      ++level;
    bool heading = level >= 1 && level <= 3 && static_cast<int>(line.size()) > level &&
                   line[level] == ' ';
    if (heading) {
      flush();
      current = section{};
      current.id = "temp:C:" + std::to_string(next_id_++);
      current.level = level;
      current.heading = line.substr(level + 1);
      any = true;
    } else if (!any) {
      current = section{};
      any = true;
    }
    current.markdown += line + "\n";
  }
  if (!markdown.empty() && markdown.back() != '\n' && !current.markdown.empty())
    current.markdown.pop_back();
  flush();
  return out;
}

std::string slack_workspace::join(const std::vector<section>& sections) {
  std::string out;
  for (const auto& s : sections)
    out += s.markdown;
  return out;
}

// -- answers ---------------------------------------------------------------------

scripted_response slack_workspace::answer(slack_call& c) {
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

  if (c.method == "conversations.canvases.create") {
    if (c.channel_id.empty()) {
      c.error = "channel_not_found";
      return slack_error(c.error);
    }
    if (created_.count(c.channel_id) != 0) {
      c.error = "channel_canvas_already_exists";
      return slack_error(c.error);
    }
    auto id = "F" + std::to_string(1000 + next_id_++);
    canvases_[id] = split(c.markdown);
    created_[c.channel_id] = id;
    c.canvas_id = id;
    c.applied = true;
    return slack_json({{"ok", true}, {"canvas_id", id}});
  }

  if (c.method == "canvases.sections.lookup") {
    auto it = canvases_.find(c.canvas_id);
    if (it == canvases_.end()) {
      c.error = "canvas_not_found";
      return slack_error(c.error);
    }
    const auto& criteria = c.body.contains("criteria") ? c.body["criteria"] : json::object();
    std::vector<std::string> types;
    if (criteria.contains("section_types") && criteria["section_types"].is_array())
      for (const auto& t : criteria["section_types"])
        if (t.is_string())
          types.push_back(t.get<std::string>());
    auto text = slack_json_string(criteria, "contains_text");
    json sections = json::array();
    for (const auto& s : it->second) {
      if (s.level == 0)
        continue;
      bool type_ok = types.empty();
      for (const auto& t : types)
        if (t == "any_header" || t == "h" + std::to_string(s.level))
          type_ok = true;
      if (!type_ok)
        continue;
      if (!text.empty() && s.markdown.find(text) == std::string::npos)
        continue;
      sections.push_back({{"id", s.id}});
    }
    return slack_json({{"ok", true}, {"sections", sections}});
  }

  if (c.method == "canvases.edit") {
    auto it = canvases_.find(c.canvas_id);
    if (it == canvases_.end()) {
      // Unknown ids are taken as existing empty canvases (a test starts
      // with canvases that exist); script canvas_not_found to test that.
      it = canvases_.emplace(c.canvas_id, std::vector<section>{}).first;
    }
    if (c.operation != "replace") {
      c.error = "invalid_arguments";
      return slack_error(c.error);
    }
    if (c.section_id.empty()) {
      it->second = split(c.markdown);
      c.applied = true;
      return slack_json({{"ok", true}});
    }
    for (auto s = it->second.begin(); s != it->second.end(); ++s) {
      if (s->id != c.section_id)
        continue;
      auto replacement = split(c.markdown);
      // The replaced heading keeps its id (the first new section takes it).
      if (!replacement.empty())
        replacement.front().id = s->id;
      auto pos = it->second.erase(s);
      it->second.insert(pos, replacement.begin(), replacement.end());
      c.applied = true;
      return slack_json({{"ok", true}});
    }
    c.error = "canvas_section_not_found"; // hypothetical code; any ok:false works
    return slack_error(c.error);
  }

  c.error = "unknown_method";
  return slack_error(c.error);
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
