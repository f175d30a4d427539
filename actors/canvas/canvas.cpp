#include "actors/canvas/canvas.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/canvas/canvas_steps.hpp"
#include "actors/canvas/update_rules.hpp"
#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"

namespace epmpulse::canvas_steps {

using canvas::attempt_outcome;
using canvas::rendered_canvas;
using canvas::send_plan;
using slack::api_result;
using canvas_steady_point = canvas_state::steady_point;

canvas_steady_point canvas_now(canvas_pointer self) {
  return self->clock().now();
}

std::chrono::milliseconds canvas_millis(double seconds) {
  return std::chrono::milliseconds{
    static_cast<std::int64_t>(std::llround(std::max(0.0, seconds) * 1000))};
}

bool canvas_blocked(canvas_pointer self) {
  const auto& until = self->state.blocked_until;
  return until && canvas_now(self) < *until;
}

void start_canvas_render(canvas_pointer self, std::size_t i);

// -- snapshot ------------------------------------------------------------------

/// Calls `k` with a snapshot at least as new as every change seen so far
/// (nullptr when the state actor did not answer). One request serves every
/// caller that arrives while it is out.
void with_canvas_snapshot(canvas_pointer self, std::function<void(snapshot_ptr)> k) {
  auto& st = self->state;
  if (st.snapshot && st.snapshot_seq == st.change_seq) {
    k(st.snapshot);
    return;
  }
  st.snapshot_waiters.push_back(std::move(k));
  if (st.snapshot_requested)
    return;
  st.snapshot_requested = true;
  auto asked_at = st.change_seq;
  self->request(st.opts.state, st.opts.state_timeout, snapshot_atom_v)
    .then(
      [self, asked_at](snapshot_ptr snap) {
        auto& st = self->state;
        st.snapshot_requested = false;
        st.snapshot = snap;
        st.snapshot_seq = asked_at;
        for (auto& w : std::exchange(st.snapshot_waiters, {}))
          w(snap);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.snapshot_requested = false;
        log::warn("canvas: state snapshot unavailable", {{"error", self->system().render(err)}});
        for (auto& w : std::exchange(st.snapshot_waiters, {}))
          w(nullptr);
      });
}

// -- sync bookkeeping ----------------------------------------------------------

void finish_sync(canvas_pointer self, std::uint64_t id) {
  auto it = self->state.syncs.find(id);
  if (it == self->state.syncs.end())
    return;
  sync_reply reply;
  reply.canvases = std::move(it->second.results);
  auto promise = std::move(it->second.promise);
  self->state.syncs.erase(it);
  promise.deliver(std::move(reply));
}

void report_sync(canvas_pointer self, std::uint64_t id, std::size_t i, const attempt_outcome& o) {
  auto it = self->state.syncs.find(id);
  if (it == self->state.syncs.end() || !it->second.waiting[i])
    return;
  auto& sync = it->second;
  auto& slot = self->state.slots[i];
  auto& r = sync.results[i];
  r.canvas_id = slot.channel.canvas_id;
  r.ok = o.in_step();
  if (r.ok)
    r.updated_at = slot.last_success;
  else
    r.error = o.error;
  sync.waiting[i] = false;
  if (--sync.open == 0)
    finish_sync(self, id);
}

// -- outcome handling ----------------------------------------------------------

void arm_resume(canvas_pointer self) {
  auto& st = self->state;
  if (!st.blocked_until)
    return;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*st.blocked_until
                                                                    - canvas_now(self));
  self->delayed_send(self, std::max(wait, std::chrono::milliseconds{0}), resume_due_atom_v,
                     ++st.resume_gen);
}

void arm_retry(canvas_pointer self, std::size_t i, std::chrono::milliseconds delay) {
  auto& slot = self->state.slots[i];
  slot.retry_armed = true;
  self->delayed_send(self, delay, retry_due_atom_v, std::uint64_t{i}, ++slot.retry_gen);
}

/// A render attempt of canvas `i` ended: update health, arrange retries,
/// answer syncs, and look for more work.
void finish_attempt(canvas_pointer self, std::size_t i, attempt_outcome o) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  slot.busy = false;
  const auto& channel = slot.channel.id;
  switch (o.result) {
    case attempt_outcome::kind::sent:
      // Wall-clock time: it is shown to people, not used for waiting.
      slot.last_success = now_ms();
      [[fallthrough]];
    case attempt_outcome::kind::unchanged:
      if (slot.attempts > 0 || slot.status != "ok")
        log::info("canvas: in step with the state", {{"channel", channel}});
      slot.attempts = 0;
      slot.status = "ok";
      slot.fix.clear();
      break;
    case attempt_outcome::kind::refused:
      // No blind retry: the same request would be refused again; the next
      // change tries again.
      slot.status = "error: " + o.error;
      slot.fix = canvas::channel_fix(o, channel, slot.channel.canvas_id);
      log::warn("canvas: Slack refused the update",
                {{"channel", channel}, {"canvas_id", slot.channel.canvas_id}, {"error", o.error},
                 {"detail", o.detail}, {"fix", slot.fix}});
      break;
    case attempt_outcome::kind::unauthorized:
      // Kept dirty: sent once the token passes a re-check.
      slot.dirty = true;
      slot.status = "error: " + o.error;
      slot.fix.clear(); // the token's fix is shown once, under slack_auth
      refuse_token(self, o.error, o.detail);
      break;
    case attempt_outcome::kind::rate_limited: {
      auto until = canvas_now(self) + canvas_millis(o.retry_after_sec);
      if (!st.blocked_until || until > *st.blocked_until)
        st.blocked_until = until;
      slot.dirty = true;
      log::warn("canvas: rate limited by Slack",
                {{"channel", channel}, {"retry_after_sec", o.retry_after_sec}});
      arm_resume(self);
      break;
    }
    case attempt_outcome::kind::failed: {
      slot.dirty = true;
      ++slot.attempts;
      auto retry = canvas::plan_retry(slot.attempts, st.cfg->settings.slack.max_retries,
                                      st.opts.backoff_base, st.opts.dirty_retry);
      if (retry.backoff_used_up)
        slot.status = "error: " + o.error;
      log::warn("canvas: Slack unreachable, will retry",
                {{"channel", channel}, {"error", o.error}, {"attempt", slot.attempts},
                 {"retry_in_ms", retry.delay.count()}});
      arm_retry(self, i, retry.delay);
      break;
    }
  }
  for (auto id : std::exchange(slot.current_syncs, {}))
    report_sync(self, id, i, o);
  schedule_canvas(self, i);
}

// -- Slack calls ---------------------------------------------------------------

/// Sends `req` and hands the classified answer to `k`.
void call_slack(canvas_pointer self, http_request req, std::function<void(api_result)> k) {
  ++self->state.metrics.slack_calls;
  // The client answers a transfer that timed out itself (status 0); this
  // timeout only covers a client that does not answer at all.
  auto timeout = canvas_millis(req.timeout_sec + req.connect_timeout_sec + 10);
  self->request(self->state.opts.http, timeout, fetch_atom_v, std::move(req))
    .then(
      [self, k](http_response& res) {
        auto r = slack::classify(res);
        if (!r.ok()) {
          ++self->state.metrics.failures;
          if (r.outcome == api_result::kind::rate_limited)
            ++self->state.metrics.rate_limited;
        }
        k(std::move(r));
      },
      [self, k](caf::error&) {
        ++self->state.metrics.failures;
        api_result r;
        r.outcome = api_result::kind::unreachable;
        r.error = "unreachable";
        k(std::move(r));
      });
}

void count_edit(canvas_pointer self, std::size_t i) {
  auto& m = self->state.metrics;
  ++m.edits;
  ++m.edits_by_channel[self->state.slots[i].channel.id];
}

/// Hands every created canvas id the config does not name to the writer.
void keep_created_ids(canvas_pointer self) {
  auto& st = self->state;
  if (!st.opts.ids_writer)
    return;
  std::map<std::string, std::string> current;
  for (const auto& s : st.slots)
    current[s.channel.id] = s.channel.canvas_id;
  self->send(st.opts.ids_writer, write_atom_v,
             canvas::canvas_ids_text(canvas::ids_to_keep(*st.cfg, current)));
}

/// Creates the channel's canvas with `r` as its content and keeps the id.
void send_create(canvas_pointer self, std::size_t i, rendered_canvas r) {
  auto& st = self->state;
  ++st.metrics.creates;
  auto channel = st.slots[i].channel.id;
  call_slack(self, slack::create_channel_canvas(st.api, channel, r.markdown()),
             [self, i, r](api_result res) mutable {
               auto created = canvas::read_create_answer(res);
               if (created.already_exists) {
                 adopt_channel_canvas(self, i, std::move(r));
                 return;
               }
               if (created.canvas_id.empty()) {
                 finish_attempt(self, i, created.failure);
                 return;
               }
               auto& slot = self->state.slots[i];
               slot.channel.canvas_id = created.canvas_id;
               slot.sent = std::move(r);
               log::info("canvas: created",
                         {{"channel", slot.channel.id}, {"canvas_id", created.canvas_id}});
               keep_created_ids(self);
               finish_attempt(self, i, attempt_outcome{});
             });
}

/// Replaces the whole canvas.
void send_full(canvas_pointer self, std::size_t i, rendered_canvas r) {
  auto& st = self->state;
  count_edit(self, i);
  call_slack(self, slack::edit_replace(st.api, st.slots[i].channel.canvas_id, r.markdown()),
             [self, i, r](api_result res) mutable {
               auto& slot = self->state.slots[i];
               if (res.ok())
                 slot.sent = std::move(r);
               finish_attempt(self, i, canvas::outcome_of(res));
             });
}

/// Renders canvas `i` from `snap` and sends what differs from Slack's copy.
void render_and_send(canvas_pointer self, std::size_t i, bool force, snapshot_ptr snap) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  if (!snap) {
    finish_attempt(self, i, {attempt_outcome::kind::failed, "state_unavailable", 0, ""});
    return;
  }
  ++st.metrics.renders;
  auto r = canvas::render_canvas(*snap, st.marks.get(), *st.cfg, slot.channel.id, st.render);
  switch (canvas::plan_send(slot.sent, r, !slot.channel.canvas_id.empty(), force)) {
    case send_plan::unchanged:
      ++st.metrics.renders_unchanged;
      finish_attempt(self, i, {attempt_outcome::kind::unchanged, "", 0, ""});
      return;
    case send_plan::create: send_create(self, i, std::move(r)); return;
    case send_plan::full: send_full(self, i, std::move(r)); return;
  }
}

// -- scheduling ----------------------------------------------------------------

bool creatable(canvas_pointer self, const canvas_state::slot& slot) {
  return !slot.channel.canvas_id.empty()
         || (self->state.cfg->settings.slack.create_missing_canvases && !slot.create_blocked);
}

void start_canvas_render(canvas_pointer self, std::size_t i) {
  auto& slot = self->state.slots[i];
  slot.busy = true;
  slot.dirty = false;
  slot.last_start = canvas_now(self);
  slot.debounce_armed = false;
  ++slot.debounce_gen;
  bool force = std::exchange(slot.force, false);
  if (force)
    slot.current_syncs = std::exchange(slot.waiting_syncs, {});
  with_canvas_snapshot(self, [self, i, force](snapshot_ptr snap) {
    render_and_send(self, i, force, snap);
  });
}

/// Starts a render of canvas `i` now, or arms its trailing timer, or leaves
/// it to the event it already waits for (a call in flight, a retry, a
/// Retry-After).
void schedule_canvas(canvas_pointer self, std::size_t i) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  if (!st.enabled || !st.leading || (!slot.dirty && !slot.force) || slot.busy)
    return;
  if (!st.auth_answered || token_refused(st))
    return; // the token check resumes every canvas
  if (!creatable(self, slot)) {
    if (!slot.create_blocked)
      slot.status = "error: no_canvas_id";
    slot.dirty = false;
    for (auto id : std::exchange(slot.waiting_syncs, {}))
      report_sync(self, id, i, {attempt_outcome::kind::refused, "no_canvas_id", 0, ""});
    slot.force = false;
    return;
  }
  if (canvas_blocked(self))
    return; // the resume timer renders the newest state
  if (slot.retry_armed && !slot.force)
    return; // the retry renders the newest state
  auto t = canvas_now(self);
  if (slot.force || !slot.last_start || t >= *slot.last_start + st.interval) {
    slot.retry_armed = false;
    ++slot.retry_gen;
    start_canvas_render(self, i);
    return;
  }
  if (!slot.debounce_armed) {
    slot.debounce_armed = true;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*slot.last_start
                                                                      + st.interval - t);
    // One millisecond late rather than early: the handler then finds the
    // interval over instead of arming a zero wait.
    self->delayed_send(self, wait + std::chrono::milliseconds{1}, debounce_due_atom_v,
                       std::uint64_t{i}, ++slot.debounce_gen);
  }
}

// -- timers --------------------------------------------------------------------

void on_debounce_due(canvas_pointer self, std::uint64_t i, std::uint64_t gen) {
  auto& st = self->state;
  if (i >= st.slots.size())
    return;
  auto& slot = st.slots[i];
  if (gen != slot.debounce_gen || !slot.debounce_armed)
    return;
  slot.debounce_armed = false;
  schedule_canvas(self, i);
}

void on_retry_due(canvas_pointer self, std::uint64_t i, std::uint64_t gen) {
  auto& st = self->state;
  if (i >= st.slots.size())
    return;
  auto& slot = st.slots[i];
  if (gen != slot.retry_gen || !slot.retry_armed)
    return;
  slot.retry_armed = false;
  if (slot.busy)
    return;
  if (canvas_blocked(self) || token_refused(st))
    return; // resumes with the others
  ++st.metrics.retries;
  start_canvas_render(self, i);
}

void on_resume_due(canvas_pointer self, std::uint64_t gen) {
  auto& st = self->state;
  if (gen != st.resume_gen || !st.blocked_until)
    return;
  if (canvas_blocked(self)) {
    // Early: the wait was cut to whole milliseconds when it was armed.
    arm_resume(self);
    return;
  }
  st.blocked_until.reset();
  if (token_refused(st))
    return; // the token check resumes every canvas
  // Send the newest state at once: the wait was long enough.
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& slot = st.slots[i];
    if ((slot.dirty || slot.force) && !slot.busy && !slot.retry_armed && creatable(self, slot))
      start_canvas_render(self, i);
  }
}

void on_sync_deadline(canvas_pointer self, std::uint64_t id) {
  auto it = self->state.syncs.find(id);
  if (it == self->state.syncs.end())
    return;
  auto& sync = it->second;
  for (std::size_t i = 0; i < sync.results.size(); ++i)
    if (sync.waiting[i]) {
      sync.results[i].ok = false;
      sync.results[i].error = "timeout";
    }
  finish_sync(self, id);
}

// -- requests from the HTTP side -------------------------------------------------

caf::result<sync_reply> on_sync(canvas_pointer self) {
  auto& st = self->state;
  if (!st.enabled)
    return caf::make_error(ec::slack_disabled,
                           std::string{"Slack is not configured: set SLACK_BOT_TOKEN (or "
                                       "settings.slack.bot_token) to enable canvas updates."});
  auto id = st.next_sync_id++;
  auto& sync = st.syncs[id];
  sync.promise = self->make_response_promise<sync_reply>();
  sync.results.resize(st.slots.size());
  sync.waiting.assign(st.slots.size(), false);
  bool blocked = canvas_blocked(self);
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& slot = st.slots[i];
    auto& r = sync.results[i];
    r.channel = slot.channel.id;
    r.canvas_id = slot.channel.canvas_id;
    slot.create_blocked = false; // a sync looks for the channel's canvas once more
    if (!creatable(self, slot)) {
      r.error = "no_canvas_id";
      continue;
    }
    if (blocked) {
      // Not before Slack's Retry-After; it is sent when that ends.
      r.error = "ratelimited";
      slot.force = true;
      continue;
    }
    sync.waiting[i] = true;
    ++sync.open;
    slot.force = true;
    slot.waiting_syncs.push_back(id);
  }
  // A copy: answering below may already remove the entry.
  auto promise = sync.promise;
  if (sync.open == 0) {
    finish_sync(self, id);
    return promise;
  }
  self->delayed_send(self, st.opts.sync_timeout, sync_deadline_atom_v, id);
  if (token_refused(st))
    check_token(self); // a sync is the operator's way to say "fixed"
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    schedule_canvas(self, i);
  return promise;
}

caf::result<preview_reply> on_preview(canvas_pointer self, const std::string& channel) {
  auto& st = self->state;
  std::vector<std::size_t> chosen;
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    if (channel.empty() || st.slots[i].channel.id == channel)
      chosen.push_back(i);
  if (!channel.empty() && chosen.empty())
    return caf::make_error(ec::invalid_request, "No channel '" + channel + "' is configured.");
  auto promise = self->make_response_promise<preview_reply>();
  with_canvas_snapshot(self, [self, chosen, promise](snapshot_ptr snap) mutable {
    if (!snap) {
      promise.deliver(caf::make_error(ec::state_error, std::string{"The state did not answer."}));
      return;
    }
    auto& st = self->state;
    preview_reply reply;
    for (auto i : chosen) {
      const auto& slot = st.slots[i];
      auto r = canvas::render_canvas(*snap, st.marks.get(), *st.cfg, slot.channel.id, st.render);
      reply.canvases.push_back({slot.channel.id, slot.channel.canvas_id, r.markdown()});
    }
    promise.deliver(std::move(reply));
  });
  return promise;
}

void on_changes(canvas_pointer self, const change_set& changes) {
  auto& st = self->state;
  ++st.change_seq;
  if (!st.enabled || !changes)
    return;
  std::vector<bool> touched(st.slots.size(), false);
  for (const auto& c : *changes) {
    auto it = st.slots_by_app.find(c.app);
    if (it == st.slots_by_app.end())
      continue;
    for (auto i : it->second)
      touched[i] = true;
  }
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    if (touched[i]) {
      st.slots[i].dirty = true;
      schedule_canvas(self, i);
    }
}

void on_marks(canvas_pointer self, canvas::canvas_marks marks) {
  auto& st = self->state;
  static const canvas::domain_marks none;
  const auto& before = st.marks ? *st.marks : none;
  const auto& after = marks ? *marks : none;
  // Only the apps whose marks differ: other canvases stay as they are.
  std::vector<bool> touched(st.slots.size(), false);
  auto touch_if_changed = [&](const std::string& app) {
    auto b = before.find(app);
    auto a = after.find(app);
    bool same = (b == before.end() && a == after.end())
                || (b != before.end() && a != after.end() && b->second == a->second);
    if (same)
      return;
    if (auto it = st.slots_by_app.find(app); it != st.slots_by_app.end())
      for (auto i : it->second)
        touched[i] = true;
  };
  for (const auto& [app, _] : before)
    touch_if_changed(app);
  for (const auto& [app, _] : after)
    touch_if_changed(app);
  st.marks = std::move(marks);
  if (!st.enabled)
    return;
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    if (touched[i]) {
      st.slots[i].dirty = true;
      schedule_canvas(self, i);
    }
}

canvas_actor::behavior_type canvas_behavior(canvas_pointer self, canvas_state init) {
  self->state = std::move(init);
  auto& st = self->state;
  // The writer lives as long as this actor: it has no other user.
  if (st.opts.ids_writer)
    self->link_to(st.opts.ids_writer);
  // Subscribed even when disabled: notifications also keep previews fresh.
  self->send(st.opts.state, subscribe_atom_v, change_listener_actor{self});
  if (st.enabled) {
    // Start-up: who the token is, then every canvas once.
    for (auto& slot : st.slots)
      slot.dirty = true;
    check_token(self);
  }
  return {
    [self](changed_atom, const change_set& changes) { on_changes(self, changes); },
    [self](expectation_atom, canvas::canvas_marks& marks) { on_marks(self, std::move(marks)); },
    [self](leader_atom, bool leading) {
      auto& st = self->state;
      bool became = leading && !st.leading;
      st.leading = leading;
      if (!became || !st.enabled)
        return;
      // A new leader cannot know what the last one sent: every canvas once.
      for (std::size_t i = 0; i < st.slots.size(); ++i) {
        st.slots[i].dirty = true;
        schedule_canvas(self, i);
      }
    },
    [self](sync_atom) { return on_sync(self); },
    [self](preview_atom, const std::string& channel) { return on_preview(self, channel); },
    [self](health_atom) { return canvas_health_of(self->state); },
    [self](metrics_atom) { return self->state.metrics; },
    [self](debounce_due_atom, std::uint64_t i, std::uint64_t gen) {
      on_debounce_due(self, i, gen);
    },
    [self](retry_due_atom, std::uint64_t i, std::uint64_t gen) { on_retry_due(self, i, gen); },
    [self](resume_due_atom, std::uint64_t gen) { on_resume_due(self, gen); },
    [self](sync_deadline_atom, std::uint64_t id) { on_sync_deadline(self, id); },
    [self](auth_check_due_atom, std::uint64_t gen) { on_token_check_due(self, gen); },
  };
}

} // namespace epmpulse::canvas_steps

namespace epmpulse {

caf::expected<canvas_actor> spawn_canvas(caf::actor_system& sys, canvas_options opts) {
  // The config loader has checked the settings' ranges; what it cannot check
  // is how the actor is wired.
  if (!opts.config)
    return caf::make_error(ec::invalid_request, std::string{"canvas: no configuration"});
  if (!opts.state)
    return caf::make_error(ec::invalid_request, std::string{"canvas: no state actor"});
  const auto& cfg = *opts.config;
  const auto& slack_cfg = cfg.settings.slack;

  canvas_state st;
  st.cfg = opts.config;
  st.enabled = !slack_cfg.bot_token.empty();
  st.leading = !opts.follows_leader;
  st.interval = canvas_steps::canvas_millis(slack_cfg.min_update_interval_sec);
  st.api.api_url = slack_cfg.api_url;
  st.api.token = slack_cfg.bot_token;
  st.api.timeout_sec = slack_cfg.request_timeout_sec;
  st.api.connect_timeout_sec = std::min(5.0, slack_cfg.request_timeout_sec);
  st.render.title = slack_cfg.dashboard_title;
  st.render.layout = slack_cfg.layout;
  std::string tz_error;
  if (!canvas::display_zone::load(slack_cfg.display_timezone, st.render.zone, tz_error))
    log::warn("canvas: display time zone not usable, showing UTC",
              {{"field", "settings.slack.display_timezone"}, {"error", tz_error}});

  // Ids of canvases created by an earlier run.
  auto ids_path = opts.data_dir.empty() ? std::string{}
                                        : opts.data_dir + "/" + canvas_ids_file_name;
  std::map<std::string, std::string> kept;
  if (!ids_path.empty())
    if (auto text = read_file(ids_path)) {
      if (auto ids = canvas::parse_canvas_ids(*text))
        kept = std::move(*ids);
      else
        log::warn("canvas: ignoring unreadable canvas id file",
                  {{"path", ids_path}, {"error", sys.render(ids.error())}});
    }
  bool may_create = false;
  for (const auto& ch : cfg.channels) {
    canvas_state::slot slot;
    slot.channel = ch;
    if (auto it = kept.find(ch.id); slot.channel.canvas_id.empty() && it != kept.end())
      slot.channel.canvas_id = it->second;
    may_create = may_create || slot.channel.canvas_id.empty();
    st.slots.push_back(std::move(slot));
  }
  may_create = may_create && st.enabled && slack_cfg.create_missing_canvases;
  if (may_create && ids_path.empty())
    return caf::make_error(ec::invalid_request,
                           std::string{"canvas: settings.slack.create_missing_canvases needs a "
                                       "data directory to keep the created canvases' ids"});
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    for (const auto* app : canvas::channel_apps(cfg, st.slots[i].channel.id))
      st.slots_by_app[app->name].push_back(i);

  if (st.enabled && !opts.http)
    opts.http = spawn_http_client(sys, 4);
  if (may_create && !opts.ids_writer)
    opts.ids_writer = spawn_canvas_ids_writer(sys, ids_path);
  st.opts = std::move(opts);
  log::info("canvas: starting",
            {{"slack_api", st.enabled ? "enabled" : "disabled"},
             {"canvases", st.slots.size()},
             {"layout", slack_cfg.layout == config::canvas_layout::table ? "table" : "list"},
             {"min_update_interval_sec", slack_cfg.min_update_interval_sec}});
  return sys.spawn(canvas_steps::canvas_behavior, std::move(st));
}

} // namespace epmpulse
