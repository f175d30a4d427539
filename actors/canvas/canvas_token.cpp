// The canvas actor's dealings with the token and with channels that already
// have a canvas (declared in canvas_steps.hpp): auth.test at start-up and
// after Slack refused the token, the scope check, and conversations.info
// when a create finds the channel's canvas there.

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "actors/canvas/canvas_steps.hpp"
#include "actors/common/log.hpp"

namespace epmpulse::canvas_steps {

using canvas::attempt_outcome;
using canvas::rendered_canvas;
using slack::api_result;

/// The channel already has a canvas (Slack refused a create): its id is in
/// conversations.info's channel.properties.canvas. Found, it is kept like a
/// created one and replaced with `r`; not found, the channel waits for the
/// operator (health says how) instead of trying to create again.
void adopt_channel_canvas(canvas_pointer self, std::size_t i, rendered_canvas r) {
  auto& st = self->state;
  call_slack(self, slack::conversation_info(st.api, st.slots[i].channel.id),
             [self, i, r](api_result res) mutable {
               auto& slot = self->state.slots[i];
               auto id = res.ok() ? slack::channel_canvas_id(res.body) : std::string{};
               if (id.empty()) {
                 slot.create_blocked = true;
                 auto why = canvas::outcome_of(res);
                 finish_attempt(self, i,
                                {attempt_outcome::kind::refused, "channel_canvas_already_exists", 0,
                                 res.ok() ? "conversations.info shows no canvas"
                                          : fmt::format("conversations.info: {} {}", why.error,
                                                        why.detail)});
                 return;
               }
               slot.channel.canvas_id = id;
               log::info("canvas: using the channel's existing canvas",
                         {{"channel", slot.channel.id}, {"canvas_id", id}});
               keep_created_ids(self);
               send_full(self, i, std::move(r));
             });
}

// -- the token (auth.test) -------------------------------------------------------

void arm_token_check(canvas_pointer self, std::chrono::milliseconds delay) {
  self->delayed_send(self, delay, auth_check_due_atom_v, ++self->state.auth_gen);
}

/// Answers every sync still waiting for a canvas with `o`.
void answer_waiting_syncs(canvas_pointer self, const attempt_outcome& o) {
  auto& st = self->state;
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    st.slots[i].force = false;
    for (auto id : std::exchange(st.slots[i].waiting_syncs, {}))
      report_sync(self, id, i, o);
  }
}

/// Slack refused the token: no canvas calls Slack until a re-check passes
/// (every `auth_recheck`, and on a sync).
void refuse_token(canvas_pointer self, const std::string& code, const std::string& detail) {
  auto& st = self->state;
  auto status = "error: " + code;
  auto fix = canvas::token_fix(code, detail);
  if (st.auth.status != status || st.auth.fix != fix)
    log::error("canvas: Slack refused the bot token; no canvas is updated until it is fixed",
               {{"error", code}, {"detail", detail}, {"fix", fix}});
  st.auth.status = std::move(status);
  st.auth.fix = std::move(fix);
  answer_waiting_syncs(self, {attempt_outcome::kind::unauthorized, code, 0, detail});
  arm_token_check(self, st.opts.auth_recheck);
}

void read_token_answer(canvas_pointer self, const api_result& res) {
  auto& st = self->state;
  st.auth_checking = false;
  bool first = !std::exchange(st.auth_answered, true);
  if (res.outcome == api_result::kind::unauthorized) {
    refuse_token(self, res.error, canvas::outcome_of(res).detail);
    return;
  }
  if (!res.ok()) {
    // Slack did not say: canvases go ahead (their own calls retry) unless
    // the token is known to be refused; the check is tried again.
    ++st.auth_attempts;
    auto retry = canvas::plan_retry(st.auth_attempts, st.cfg->settings.slack.max_retries,
                                    st.opts.backoff_base, st.opts.auth_recheck);
    auto delay = res.outcome == api_result::kind::rate_limited
                   ? canvas_millis(res.retry_after_sec)
                   : retry.delay;
    log::warn("canvas: auth.test failed, will check again",
              {{"error", res.error}, {"retry_in_ms", delay.count()}});
    if (token_refused(st))
      answer_waiting_syncs(self, {attempt_outcome::kind::unauthorized,
                                  st.auth.status.substr(7), 0, ""});
    else
      st.auth.status = "unverified: " + res.error;
    arm_token_check(self, delay);
    if (!token_refused(st) && first)
      for (std::size_t i = 0; i < st.slots.size(); ++i)
        schedule_canvas(self, i);
    return;
  }
  st.auth_attempts = 0;
  auto who = slack::read_identity(res.body);
  auto& a = st.auth;
  if (a.team_id != who.team_id || a.bot_id != who.bot_id || a.bot_user_id != who.user_id)
    log::info("canvas: Slack workspace and bot",
              {{"workspace", who.team}, {"team_id", who.team_id}, {"url", who.url},
               {"bot_user", who.user}, {"bot_user_id", who.user_id}, {"bot_id", who.bot_id},
               {"scopes", res.scopes_known ? fmt::format("{}", fmt::join(res.scopes, ","))
                                           : std::string{"(not given)"}}});
  a.team = who.team;
  a.team_id = who.team_id;
  a.url = who.url;
  a.bot_user = who.user;
  a.bot_user_id = who.user_id;
  a.bot_id = who.bot_id;
  a.scopes = res.scopes;
  // conversations.info is needed only while some channel's canvas may be created.
  bool creates = st.cfg->settings.slack.create_missing_canvases
                 && std::any_of(st.slots.begin(), st.slots.end(),
                                [](const auto& s) { return s.channel.canvas_id.empty(); });
  canvas::scope_check scopes;
  if (res.scopes_known)
    scopes = canvas::check_scopes(res.scopes, creates);
  a.missing_scopes = scopes.missing_required;
  a.missing_scopes.insert(a.missing_scopes.end(), scopes.missing_optional.begin(),
                          scopes.missing_optional.end());
  if (!scopes.missing_required.empty()) {
    refuse_token(self, "missing_scope",
                 fmt::format("needed: {}; provided: {}", fmt::join(scopes.missing_required, ","),
                             fmt::join(res.scopes, ",")));
    return;
  }
  bool was_refused = token_refused(st);
  ++st.auth_gen; // no re-check is due any more
  a.status = "ok";
  a.fix = scopes.fix;
  if (was_refused)
    log::info("canvas: Slack accepts the bot token again, resuming the canvases");
  if (!scopes.missing_optional.empty())
    log::warn("canvas: the bot token lacks scopes a feature needs",
              {{"missing", fmt::format("{}", fmt::join(scopes.missing_optional, ","))},
               {"fix", scopes.fix}});
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    schedule_canvas(self, i);
}

/// Asks auth.test who the token is (one check at a time).
void check_token(canvas_pointer self) {
  auto& st = self->state;
  if (st.auth_checking)
    return;
  st.auth_checking = true;
  call_slack(self, slack::auth_test(st.api),
             [self](api_result res) { read_token_answer(self, res); });
}

void on_token_check_due(canvas_pointer self, std::uint64_t gen) {
  if (gen == self->state.auth_gen)
    check_token(self);
}

} // namespace epmpulse::canvas_steps
