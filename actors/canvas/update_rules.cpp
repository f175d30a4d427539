#include "actors/canvas/update_rules.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "actors/common/errors.hpp"

namespace epmpulse::canvas {

using slack::api_result;

// -- what to send ----------------------------------------------------------------

send_plan plan_send(const std::optional<rendered_canvas>& sent, const rendered_canvas& fresh,
                    bool has_canvas_id, bool force) {
  if (!force && sent && *sent == fresh)
    return send_plan::unchanged;
  return has_canvas_id ? send_plan::full : send_plan::create;
}

// -- what Slack's answers mean ---------------------------------------------------

attempt_outcome outcome_of(const api_result& r) {
  attempt_outcome o;
  o.error = r.error;
  if (!r.needed.empty() || !r.provided.empty())
    o.detail = fmt::format("needed: {}; provided: {}", r.needed.empty() ? "?" : r.needed,
                           r.provided.empty() ? "none" : r.provided);
  else
    o.detail = r.detail;
  switch (r.outcome) {
    case api_result::kind::ok: o.result = attempt_outcome::kind::sent; break;
    case api_result::kind::rate_limited:
      o.result = attempt_outcome::kind::rate_limited;
      o.retry_after_sec = r.retry_after_sec;
      break;
    case api_result::kind::refused: o.result = attempt_outcome::kind::refused; break;
    case api_result::kind::unauthorized: o.result = attempt_outcome::kind::unauthorized; break;
    case api_result::kind::unreachable:
    case api_result::kind::server_error: o.result = attempt_outcome::kind::failed; break;
  }
  return o;
}

created_canvas read_create_answer(const api_result& r) {
  created_canvas out;
  if (!r.ok()) {
    out.failure = outcome_of(r);
    out.already_exists = r.error == "channel_canvas_already_exists";
    return out;
  }
  out.canvas_id = slack::created_canvas_id(r.body);
  if (out.canvas_id.empty())
    out.failure = {attempt_outcome::kind::refused, "bad_response", 0, ""};
  return out;
}

// -- what the operator must do -------------------------------------------------------

std::string channel_fix(const attempt_outcome& o, const std::string& channel,
                        const std::string& canvas_id) {
  const auto& e = o.error;
  if (o.result == attempt_outcome::kind::unauthorized)
    return token_fix(e, o.detail);
  if (e == "canvas_not_found" || e == "canvas_deleted")
    return fmt::format("Canvas {} of channel {} is gone or the bot cannot see it: set "
                       "channels.{}.canvas_id to a canvas the bot can edit (or remove the id, "
                       "and its entry in <data_dir>/canvases.json, and set "
                       "settings.slack.create_missing_canvases to create one).",
                       canvas_id, channel, channel);
  if (e == "channel_canvas_already_exists")
    return fmt::format("Channel {} already has a canvas and its id could not be read ({}): set "
                       "channels.{}.canvas_id in the config to that canvas's id (the F... part "
                       "of its link), or give the app channels:read (groups:read for a private "
                       "channel) and run POST /api/v1/canvas/sync.",
                       channel, o.detail.empty() ? "conversations.info gave none" : o.detail,
                       channel);
  if (e == "restricted_action" || e == "not_in_channel" || e == "channel_not_found" ||
      e == "no_permission" || e == "access_denied")
    return fmt::format("The bot may not edit canvas {} of channel {}: invite the bot to the "
                       "channel (/invite @<bot name>) and give it edit access to the canvas; "
                       "check that channels.{} is the channel's id.",
                       canvas_id.empty() ? "(none yet)" : canvas_id, channel, channel);
  if (e == "canvas_disabled_user_team")
    return "Canvases are turned off for this workspace: a Slack admin must enable them.";
  if (e == "free_teams_cannot_edit_standalone_canvases" ||
      e == "team_tier_cannot_create_channel_canvases" ||
      e == "free_team_canvas_tab_already_exists")
    return fmt::format("The workspace's Slack plan does not allow this canvas: set "
                       "channels.{}.canvas_id to the channel's own canvas.",
                       channel);
  if (e == "canvas_editing_failed")
    return fmt::format("Slack could not apply the edit ({}); the next change or POST "
                       "/api/v1/canvas/sync tries again.",
                       o.detail.empty() ? "no detail given" : o.detail);
  return {};
}

std::string token_fix(const std::string& code, const std::string& detail) {
  if (code == "missing_scope")
    return fmt::format("The bot token lacks a scope ({}): add it under OAuth & Permissions -> "
                       "Bot Token Scopes and reinstall the app to the workspace; EPMPulse "
                       "re-checks every 5 minutes and on POST /api/v1/canvas/sync.",
                       detail.empty() ? "see docs/canvas.md" : detail);
  if (code == "token_revoked" || code == "token_expired" || code == "account_inactive")
    return "The bot token was revoked, expired or belongs to a removed app or deactivated "
           "workspace: reinstall the Slack app to the workspace, put its Bot User OAuth Token "
           "in SLACK_BOT_TOKEN (or settings.slack.bot_token) and restart.";
  if (code == "not_allowed_token_type")
    return "The token is not a bot token: use the app's Bot User OAuth Token (OAuth & "
           "Permissions page; bot tokens begin with xoxb) in SLACK_BOT_TOKEN and restart.";
  if (code == "team_access_not_granted")
    return "The token has no access to this workspace: install the app to the workspace and "
           "use that installation's Bot User OAuth Token.";
  return "Slack does not accept the bot token: set SLACK_BOT_TOKEN (or "
         "settings.slack.bot_token) to the app's Bot User OAuth Token (OAuth & Permissions "
         "page) and restart; EPMPulse re-checks every 5 minutes and on POST "
         "/api/v1/canvas/sync.";
}

scope_check check_scopes(const std::vector<std::string>& granted, bool creates_canvases) {
  auto has = [&](const char* scope) {
    return std::find(granted.begin(), granted.end(), scope) != granted.end();
  };
  scope_check out;
  if (!has("canvases:write"))
    out.missing_required.push_back("canvases:write");
  if (creates_canvases && !has("channels:read") && !has("groups:read"))
    out.missing_optional.push_back("channels:read");
  if (out.missing_required.empty() && out.missing_optional.empty())
    return out;
  std::vector<std::string> all = out.missing_required;
  all.insert(all.end(), out.missing_optional.begin(), out.missing_optional.end());
  out.fix = fmt::format(
    "Add the bot scope(s) {} under OAuth & Permissions -> Bot Token Scopes and reinstall the app "
    "to the workspace{}.",
    fmt::join(all, ", "),
    out.missing_required.empty() ? " (without it a channel's existing canvas cannot be found)"
                                 : " (without canvases:write no canvas can be updated)");
  return out;
}

// -- retries ----------------------------------------------------------------------

retry_plan plan_retry(int attempts, int max_retries, std::chrono::milliseconds backoff_base,
                      std::chrono::milliseconds periodic) {
  retry_plan plan;
  if (attempts <= max_retries) {
    // The shift is capped so a large max_retries cannot overflow it.
    plan.delay = backoff_base * (1 << std::clamp(attempts - 1, 0, 16));
  } else {
    plan.delay = periodic;
    plan.backoff_used_up = true;
  }
  return plan;
}

// -- the canvas ids file ------------------------------------------------------------

caf::expected<std::map<std::string, std::string>> parse_canvas_ids(const std::string& text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("canvases") ||
      !doc["canvases"].is_object())
    return caf::make_error(ec::invalid_request,
                           std::string{"not a {\"canvases\": {channel: canvas_id}} document"});
  std::map<std::string, std::string> ids;
  for (const auto& [channel, id] : doc["canvases"].items())
    if (id.is_string())
      ids[channel] = id.get<std::string>();
  return ids;
}

std::string canvas_ids_text(const std::map<std::string, std::string>& ids) {
  return nlohmann::json{{"canvases", ids}}.dump(2) + "\n";
}

std::map<std::string, std::string> ids_to_keep(const config::service_config& cfg,
                                               const std::map<std::string, std::string>& current) {
  std::map<std::string, std::string> keep;
  for (const auto& [channel, id] : current) {
    const auto* configured = cfg.find_channel(channel);
    if (!id.empty() && configured != nullptr && configured->canvas_id.empty())
      keep[channel] = id;
  }
  return keep;
}

} // namespace epmpulse::canvas
