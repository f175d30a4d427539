#include "tests/fakes/slack_contract.hpp"

#include <algorithm>

namespace epmpulse::test {

using nlohmann::json;

namespace {

scripted_response contract_json(const json& body) {
  scripted_response r;
  r.status = 200;
  r.body = body.dump();
  return r;
}

std::string joined_scopes(const std::vector<std::string>& scopes) {
  std::string out;
  for (const auto& s : scopes)
    out += (out.empty() ? "" : ",") + s;
  return out;
}

/// The bot scope a method needs ("" = none).
std::string needed_scope(const slack_contract& k, const slack_call& c) {
  if (c.method == "canvases.edit" || c.method == "conversations.canvases.create")
    return "canvases:write";
  if (c.method == "canvases.sections.lookup")
    return "canvases:read";
  if (c.method == "chat.postMessage")
    return "chat:write";
  if (c.method == "conversations.info")
    return k.private_channels.count(c.body.value("channel", std::string{})) != 0
             ? "groups:read"
             : "channels:read";
  return {};
}

json post_message(slack_contract& k, slack_call& c) {
  c.channel_id = c.body.value("channel", std::string{});
  auto text = c.body.value("text", std::string{});
  auto thread = c.body.value("thread_ts", std::string{});
  if (c.channel_id.empty() || k.unknown_channels.count(c.channel_id) != 0)
    return json{{"ok", false}, {"error", "channel_not_found"}};
  if (k.channels_without_bot.count(c.channel_id) != 0)
    return json{{"ok", false}, {"error", "not_in_channel"}};
  if (text.empty())
    return json{{"ok", false}, {"error", "no_text"}};
  if (!thread.empty()) {
    bool parent = std::any_of(k.messages.begin(), k.messages.end(), [&](const auto& m) {
      return m.channel == c.channel_id && m.ts == thread && m.thread_ts.empty();
    });
    if (!parent)
      return json{{"ok", false}, {"error", "thread_not_found"}};
  }
  auto ts = "1767225600." + std::to_string(1000000 + k.next_ts++).substr(1);
  k.messages.push_back({c.channel_id, ts, thread, text});
  json message = {{"type", "message"}, {"text", text}, {"ts", ts}, {"bot_id", k.bot_id}};
  if (!thread.empty())
    message["thread_ts"] = thread;
  return json{{"ok", true}, {"channel", c.channel_id}, {"ts", ts}, {"message", message}};
}

std::optional<json> contract_answer(slack_contract& k, const slack_workspace& ws, slack_call& c) {
  for (auto it = k.scripted.begin(); it != k.scripted.end(); ++it)
    if (it->first.empty() || it->first == c.method) {
      auto body = std::move(it->second);
      k.scripted.erase(it);
      return body;
    }
  if (!k.token.empty() && c.authorization != "Bearer " + k.token)
    return std::nullopt; // the workspace answers not_authed / invalid_auth
  if (!k.token_error.empty())
    return json{{"ok", false}, {"error", k.token_error}};
  auto needed = needed_scope(k, c);
  if (!needed.empty() && std::find(k.scopes.begin(), k.scopes.end(), needed) == k.scopes.end())
    return json{{"ok", false},
                {"error", "missing_scope"},
                {"needed", needed},
                {"provided", joined_scopes(k.scopes)}};
  if (c.method == "auth.test")
    return json{{"ok", true},          {"url", k.url},
                {"team", k.team},      {"user", k.bot_user},
                {"team_id", k.team_id}, {"user_id", k.bot_user_id},
                {"bot_id", k.bot_id},  {"is_enterprise_install", false}};
  if (c.method == "conversations.info") {
    // Form-encoded: channel=<id>.
    c.channel_id = c.body.value("channel", std::string{});
    json channel = {{"id", c.channel_id}, {"is_channel", true},
                    {"is_private", k.private_channels.count(c.channel_id) != 0}};
    auto known = k.channel_canvases.find(c.channel_id);
    auto created = ws.created().find(c.channel_id);
    std::string canvas = known != k.channel_canvases.end()   ? known->second
                         : created != ws.created().end() ? created->second
                                                         : std::string{};
    if (!canvas.empty())
      channel["properties"] = {
        {"canvas", {{"file_id", canvas}, {"is_empty", false}, {"quip_thread_id", "Q0"}}}};
    return json{{"ok", true}, {"channel", channel}};
  }
  if (c.method == "chat.postMessage")
    return post_message(k, c);
  if (c.method == "conversations.canvases.create" && k.channel_canvases.count(c.channel_id) != 0)
    return json{{"ok", false}, {"error", "channel_canvas_already_exists"}};
  return std::nullopt;
}

/// conversations.info is form-encoded: its one field as a JSON object.
void read_form_body(slack_call& c, const std::string& raw) {
  if (c.method != "conversations.info" || !c.body.is_discarded())
    return;
  auto eq = raw.find('=');
  c.body = json::object();
  if (eq != std::string::npos)
    c.body[raw.substr(0, eq)] = raw.substr(eq + 1);
}

} // namespace

slack_call read_slack_call(std::string method, std::string authorization,
                           const std::string& body) {
  auto c = slack_workspace::read_call(std::move(method), std::move(authorization), body);
  read_form_body(c, body);
  return c;
}

scripted_response answer_as_slack(slack_contract& contract, slack_workspace& workspace,
                                  slack_call& c) {
  scripted_response r;
  // Messages are the contract's, but their rate limits and outages are
  // scripted on the workspace like every other method's.
  if (c.method == "chat.postMessage")
    if (auto failure = workspace.scripted_failure(c)) {
      failure->headers["x-oauth-scopes"] = joined_scopes(contract.scopes);
      return *failure;
    }
  if (auto body = contract_answer(contract, workspace, c)) {
    c.status = 200;
    c.error = body->value("ok", false) ? std::string{} : body->value("error", std::string{});
    r = contract_json(*body);
  } else {
    r = workspace.answer(c);
  }
  r.headers["x-oauth-scopes"] = joined_scopes(contract.scopes);
  return r;
}

} // namespace epmpulse::test
