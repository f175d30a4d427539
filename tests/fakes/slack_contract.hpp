#pragma once

// What Slack documents about the token and errors, for both Slack fakes
// (fake_slack over HTTP, fake_slack_client in process), in front of the
// slack_workspace's canvas documents:
// - every answer carries `x-oauth-scopes` with the token's scopes;
// - auth.test answers who the token is (workspace, bot user, bot id);
// - a method whose scope the token lacks answers HTTP 200
//   {"ok": false, "error": "missing_scope", "needed", "provided"}
//   (canvases.edit, conversations.canvases.create: canvases:write;
//   canvases.sections.lookup: canvases:read; conversations.info:
//   channels:read, groups:read for private channels);
// - a token that is no longer valid answers its code to every call;
// - conversations.info shows a channel's canvas in
//   channel.properties.canvas.file_id, and conversations.canvases.create on
//   such a channel answers channel_canvas_already_exists;
// - chat.postMessage (chat:write) posts to a channel the bot is in and
//   answers {"ok": true, "channel", "ts", "message"}; a reply names its
//   parent's ts as thread_ts (a reply's own ts is not a thread: the method
//   page says to use the parent's). channel_not_found for an unknown channel,
//   not_in_channel when the bot is not a member, thread_not_found for a
//   thread_ts that is no message of the channel; 429 with Retry-After comes
//   from the workspace's scripted failures like for any method;
// - any documented error body (with extra fields such as canvas_editing_failed's
//   `detail`) can be scripted for the next call of a method.
// Sources: docs/integrations.md, "Errors, rate limits and authentication".

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/fakes/fake_http_server.hpp"
#include "tests/fakes/slack_workspace.hpp"

namespace epmpulse::test {

struct slack_contract {
  explicit slack_contract(std::string bot_token) : token(std::move(bot_token)) {}

  std::string token; ///< "" = accept any
  // auth.test's answer
  std::string team = "EPM Operations";
  std::string team_id = "T0EPMOPS";
  std::string url = "https://epm-ops.slack.com/";
  std::string bot_user = "epmpulse";
  std::string bot_user_id = "U0EPMBOT";
  std::string bot_id = "B0EPMBOT";
  /// The token's scopes (x-oauth-scopes and missing_scope): all the canvas
  /// side can use, unless a test takes some away.
  std::vector<std::string> scopes = {"canvases:write", "canvases:read", "channels:read",
                                     "groups:read", "chat:write"};
  /// Set (e.g. "token_revoked"): every call, auth.test included, answers it.
  std::string token_error;
  /// Channels that have a channel canvas Slack knows of: channel -> canvas id.
  std::map<std::string, std::string> channel_canvases;
  std::set<std::string> private_channels;
  /// chat.postMessage: channels that do not exist, and channels without the bot.
  std::set<std::string> unknown_channels;
  std::set<std::string> channels_without_bot;

  /// One message chat.postMessage posted.
  struct posted_message {
    std::string channel;
    std::string ts;
    std::string thread_ts; ///< "" = a top-level message
    std::string text;
  };
  std::vector<posted_message> messages;
  long next_ts = 1;

  /// The messages posted in `channel` at the top level.
  std::vector<posted_message> top_level(const std::string& channel) const {
    std::vector<posted_message> out;
    for (const auto& m : messages)
      if (m.channel == channel && m.thread_ts.empty())
        out.push_back(m);
    return out;
  }
  /// The replies in the thread of `ts`.
  std::vector<posted_message> replies(const std::string& ts) const {
    std::vector<posted_message> out;
    for (const auto& m : messages)
      if (m.thread_ts == ts)
        out.push_back(m);
    return out;
  }

  /// The next call to the method ("" = any) answers this body (HTTP 200).
  std::deque<std::pair<std::string, nlohmann::json>> scripted;

  void fail_next_with_body(std::string method, nlohmann::json body) {
    scripted.emplace_back(std::move(method), std::move(body));
  }
};

/// A call as Slack reads it: slack_workspace::read_call, and the one
/// form-encoded method (conversations.info) read into `body` too.
slack_call read_slack_call(std::string method, std::string authorization, const std::string& body);

/// Answers `c` as Slack would: the contract first, then `workspace` (its
/// documents, created canvases and scripted failures); `x-oauth-scopes` on
/// every answer. Records in `c` what was answered.
scripted_response answer_as_slack(slack_contract& contract, slack_workspace& workspace,
                                  slack_call& c);

} // namespace epmpulse::test
