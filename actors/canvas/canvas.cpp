#include "actors/canvas/canvas.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <fmt/format.h>

#include "actors/canvas/canvas_render.hpp"
#include "actors/common/durable_file.hpp"
#include "actors/common/log.hpp"
#include "actors/canvas/slack_api.hpp"

namespace epmpulse {

using nlohmann::json;

// -- reply JSON ----------------------------------------------------------------

namespace {

json time_or_null(const std::optional<time_point>& t) {
  return t ? json(format_time(*t)) : json(nullptr);
}

} // namespace

json sync_reply::to_json() const {
  json list = json::array();
  for (const auto& c : canvases) {
    json entry = {{"channel", c.channel},
                  {"canvas_id", c.canvas_id},
                  {"updated_at", time_or_null(c.updated_at)},
                  {"ok", c.ok}};
    if (!c.ok)
      entry["error"] = c.error;
    list.push_back(std::move(entry));
  }
  json out = {{"success", error == ec::none}};
  if (!canvases.empty()) {
    out["canvas_id"] = canvases.front().canvas_id;
    out["channel"] = canvases.front().channel;
    out["updated_at"] = time_or_null(canvases.front().updated_at);
  }
  out["canvases"] = std::move(list);
  return out;
}

json preview_reply::to_json() const {
  json list = json::array();
  for (const auto& c : canvases)
    list.push_back({{"channel", c.channel}, {"canvas_id", c.canvas_id}, {"markdown", c.markdown}});
  return {{"success", error == ec::none}, {"canvases", std::move(list)}};
}

json canvas_health::checks() const {
  json list = json::object();
  for (const auto& c : canvases)
    list[c.channel] = {{"canvas_id", c.canvas_id},
                       {"status", c.status},
                       {"last_success", time_or_null(c.last_success)},
                       {"dirty", c.dirty}};
  return {{"slack_api", slack_api}, {"canvases", std::move(list)}};
}

json canvas_metrics::to_json() const {
  return {{"renders", renders},         {"renders_unchanged", renders_unchanged},
          {"slack_calls", slack_calls}, {"edits", edits},
          {"lookups", lookups},         {"creates", creates},
          {"failures", failures},       {"retries", retries},
          {"rate_limited", rate_limited}, {"fallbacks", fallbacks},
          {"edits_by_channel", edits_by_channel}};
}

std::string canvas_metrics::prometheus() const {
  std::string out;
  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, v);
  };
  counter("epmpulse_canvas_renders_total", "Canvases rendered for sending.", renders);
  counter("epmpulse_canvas_renders_unchanged_total",
          "Renders identical to what Slack has, not sent.", renders_unchanged);
  counter("epmpulse_slack_calls_total", "Slack Web API calls.", slack_calls);
  counter("epmpulse_slack_failures_total", "Slack calls that failed.", failures);
  counter("epmpulse_slack_retries_total", "Retries after network errors or 5xx.", retries);
  counter("epmpulse_slack_rate_limited_total", "Slack 429 answers.", rate_limited);
  counter("epmpulse_canvas_fallbacks_total", "Section updates replaced by a full replace.",
          fallbacks);
  out += "# HELP epmpulse_canvas_edits_total canvases.edit calls per channel.\n"
         "# TYPE epmpulse_canvas_edits_total counter\n";
  for (const auto& [channel, n] : edits_by_channel)
    out += fmt::format("epmpulse_canvas_edits_total{{channel=\"{}\"}} {}\n", channel, n);
  return out;
}

// -- the actor -----------------------------------------------------------------

namespace {

using steady_point = caf::actor_clock::time_point;
using canvas::rendered_canvas;
using slack::api_result;

enum timer_kind : std::uint8_t {
  debounce_timer = 0, ///< trailing render of one canvas
  retry_timer = 1,    ///< backoff or periodic retry of one canvas
  resume_timer = 2,   ///< a workspace-wide Retry-After is over
  sync_timer = 3,     ///< a sync's deadline
};

/// One channel's canvas.
struct canvas_slot {
  config::channel_config channel;
  /// What Slack has, as far as we know: the last render it accepted (kept
  /// section by section in sections mode). None until the first success.
  std::optional<rendered_canvas> sent;
  std::map<std::string, std::string> section_ids; ///< anchor -> Slack section id

  bool dirty = false;       ///< a change not yet taken by a render
  bool busy = false;        ///< a render and its calls are in progress
  bool force = false;       ///< the next render is sent even if unchanged (sync)
  std::optional<steady_point> last_start; ///< when the last render started
  std::uint64_t debounce_gen = 0;
  bool debounce_armed = false;
  std::uint64_t retry_gen = 0;
  bool retry_armed = false;
  int attempts = 0; ///< consecutive network/5xx failures

  std::string status = "pending";
  std::optional<time_point> last_success;
  std::vector<std::uint64_t> waiting_syncs; ///< syncs waiting for the next forced render
  std::vector<std::uint64_t> current_syncs; ///< syncs the render in progress answers
};

struct sync_op {
  sync_callback callback;
  std::vector<canvas_sync_result> results;
  std::vector<bool> pending;
  std::size_t open = 0;
};

/// How one render attempt ended.
struct attempt_outcome {
  enum class kind { sent, unchanged, refused, rate_limited, failed } result = kind::sent;
  std::string error;
  double retry_after_sec = 0;
};

struct canvas_state {
  std::shared_ptr<const config::service_config> cfg;
  state_store_actor state;
  http_client_actor http;
  std::string data_dir;
  canvas_options knobs;
  slack::api_settings api;
  canvas::render_options render;
  bool enabled = false;
  bool sections_mode = false;
  std::chrono::milliseconds interval{2000};

  std::vector<canvas_slot> slots;
  std::map<std::string, std::vector<std::size_t>> slots_by_app;

  // Snapshot cache: valid until the next change notification.
  snapshot_ptr snapshot;
  std::uint64_t change_seq = 0;    ///< bumped by every change notification
  std::uint64_t snapshot_seq = 0;  ///< change_seq the cached snapshot is at least as new as
  bool snapshot_requested = false;
  std::vector<std::function<void(snapshot_ptr)>> snapshot_waiters;

  // Workspace-wide Retry-After.
  std::optional<steady_point> blocked_until;
  std::uint64_t resume_gen = 0;

  std::map<std::uint64_t, sync_op> syncs;
  std::uint64_t next_sync_id = 1;

  canvas_metrics metrics;

  static inline constexpr const char* name = "canvas";
};

using canvas_pointer = canvas_actor::stateful_pointer<canvas_state>;

steady_point now(canvas_pointer self) {
  return self->clock().now();
}

std::chrono::milliseconds from_seconds(double s) {
  return std::chrono::milliseconds{static_cast<std::int64_t>(std::llround(std::max(0.0, s) * 1000))};
}

void schedule(canvas_pointer self, std::size_t i);
void start_render(canvas_pointer self, std::size_t i);

// -- snapshot ------------------------------------------------------------------

/// Calls `k` with a snapshot at least as new as every change seen so far
/// (nullptr when the state actor did not answer).
void with_snapshot(canvas_pointer self, std::function<void(snapshot_ptr)> k) {
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
  self->request(st.state, st.knobs.state_timeout, snapshot_atom_v)
    .then(
      [self, asked_at](snapshot_ptr snap) {
        auto& st = self->state;
        st.snapshot_requested = false;
        st.snapshot = snap;
        st.snapshot_seq = asked_at;
        auto waiters = std::exchange(st.snapshot_waiters, {});
        for (auto& w : waiters)
          w(snap);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.snapshot_requested = false;
        log::warn("canvas: state snapshot unavailable", {{"error", self->system().render(err)}});
        auto waiters = std::exchange(st.snapshot_waiters, {});
        for (auto& w : waiters)
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
  for (const auto& r : reply.canvases)
    if (!r.ok)
      reply.error = ec::slack_error;
  auto cb = std::move(it->second.callback);
  self->state.syncs.erase(it);
  cb(std::move(reply));
}

void report_sync(canvas_pointer self, std::uint64_t id, std::size_t i, const attempt_outcome& o) {
  auto it = self->state.syncs.find(id);
  if (it == self->state.syncs.end() || !it->second.pending[i])
    return;
  auto& op = it->second;
  auto& slot = self->state.slots[i];
  auto& r = op.results[i];
  r.canvas_id = slot.channel.canvas_id;
  r.ok = o.result == attempt_outcome::kind::sent || o.result == attempt_outcome::kind::unchanged;
  if (r.ok)
    r.updated_at = slot.last_success;
  else
    r.error = o.error;
  op.pending[i] = false;
  if (--op.open == 0)
    finish_sync(self, id);
}

// -- outcome handling ----------------------------------------------------------

void arm_resume(canvas_pointer self) {
  auto& st = self->state;
  if (!st.blocked_until)
    return;
  auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(*st.blocked_until - now(self));
  self->delayed_send(self, std::max(wait, std::chrono::milliseconds{0}), tick_atom_v,
                     std::uint8_t{resume_timer}, std::uint64_t{0}, ++st.resume_gen);
}

void arm_retry(canvas_pointer self, std::size_t i, std::chrono::milliseconds delay) {
  auto& slot = self->state.slots[i];
  slot.retry_armed = true;
  self->delayed_send(self, delay, tick_atom_v, std::uint8_t{retry_timer},
                     std::uint64_t{i}, ++slot.retry_gen);
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
      slot.last_success = now_ms();
      [[fallthrough]];
    case attempt_outcome::kind::unchanged:
      if (slot.attempts > 0 || slot.status != "ok")
        log::info("canvas: in step with the state", {{"channel", channel}});
      slot.attempts = 0;
      slot.status = "ok";
      break;
    case attempt_outcome::kind::refused:
      // No blind retry: the next change tries again.
      log::warn("canvas: Slack refused the update",
                {{"channel", channel}, {"canvas_id", slot.channel.canvas_id}, {"error", o.error}});
      slot.status = "error: " + o.error;
      break;
    case attempt_outcome::kind::rate_limited: {
      auto until = now(self) + from_seconds(o.retry_after_sec);
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
      std::chrono::milliseconds delay;
      if (slot.attempts <= st.cfg->settings.slack.max_retries) {
        delay = st.knobs.backoff_base * (1 << std::min(slot.attempts - 1, 16));
      } else {
        delay = st.knobs.dirty_retry;
        slot.status = "error: " + o.error;
      }
      log::warn("canvas: Slack unreachable, will retry",
                {{"channel", channel}, {"error", o.error}, {"attempt", slot.attempts},
                 {"retry_in_ms", delay.count()}});
      arm_retry(self, i, delay);
      break;
    }
  }
  for (auto id : std::exchange(slot.current_syncs, {}))
    report_sync(self, id, i, o);
  schedule(self, i);
}

// -- Slack calls ---------------------------------------------------------------

/// Sends `req` and hands the classified answer to `k`.
void call_slack(canvas_pointer self, http_request req, std::function<void(api_result)> k) {
  ++self->state.metrics.slack_calls;
  self->request(self->state.http, from_seconds(req.timeout_sec + req.connect_timeout_sec + 10),
                fetch_atom_v, std::move(req))
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
      [self, k](caf::error& err) {
        ++self->state.metrics.failures;
        api_result r;
        r.outcome = api_result::kind::unreachable;
        r.error = "unreachable";
        k(std::move(r));
      });
}

attempt_outcome outcome_of(const api_result& r) {
  attempt_outcome o;
  o.error = r.error;
  switch (r.outcome) {
    case api_result::kind::ok: o.result = attempt_outcome::kind::sent; break;
    case api_result::kind::rate_limited:
      o.result = attempt_outcome::kind::rate_limited;
      o.retry_after_sec = r.retry_after_sec;
      break;
    case api_result::kind::refused: o.result = attempt_outcome::kind::refused; break;
    case api_result::kind::unreachable:
    case api_result::kind::server_error: o.result = attempt_outcome::kind::failed; break;
  }
  return o;
}

void count_edit(canvas_pointer self, std::size_t i) {
  auto& m = self->state.metrics;
  ++m.edits;
  ++m.edits_by_channel[self->state.slots[i].channel.id];
}

/// Creates the channel's canvas with `r` as its content and keeps the id.
void send_create(canvas_pointer self, std::size_t i, rendered_canvas r) {
  auto& st = self->state;
  ++st.metrics.creates;
  auto channel = st.slots[i].channel.id;
  call_slack(self, slack::create_channel_canvas(st.api, channel, r.markdown()),
             [self, i, r](api_result res) mutable {
               auto& st = self->state;
               auto& slot = st.slots[i];
               auto id = res.ok() ? slack::created_canvas_id(res.body) : std::string{};
               if (res.ok() && id.empty()) {
                 res.outcome = api_result::kind::refused;
                 res.error = "bad_response";
               }
               if (!res.ok()) {
                 finish_attempt(self, i, outcome_of(res));
                 return;
               }
               slot.channel.canvas_id = id;
               slot.sent = std::move(r);
               slot.section_ids.clear();
               log::info("canvas: created", {{"channel", slot.channel.id}, {"canvas_id", id}});
               // Keep every created id; the write blocks, so a short-lived
               // blocking actor does it off the shared workers.
               json ids = json::object();
               for (const auto& s : st.slots)
                 if (!s.channel.canvas_id.empty() && st.cfg->find_channel(s.channel.id) != nullptr &&
                     st.cfg->find_channel(s.channel.id)->canvas_id.empty())
                   ids[s.channel.id] = s.channel.canvas_id;
               auto path = st.data_dir + "/" + canvas_ids_file_name;
               auto text = json{{"canvases", ids}}.dump(2) + "\n";
               self->spawn([path, text](caf::blocking_actor*) {
                 if (auto err = write_file_atomically(path, text, 0600))
                   log::error("canvas: cannot keep created canvas ids", {{"error", *err}});
               });
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
               if (res.ok()) {
                 slot.sent = std::move(r);
                 // A whole replace may give the headings new ids.
                 slot.section_ids.clear();
               }
               finish_attempt(self, i, outcome_of(res));
             });
}

void send_sections(canvas_pointer self, std::size_t i, rendered_canvas r,
                   std::vector<std::size_t> changed, std::size_t pos);

/// Sections mode gave up on a section: replace the whole canvas instead.
void fall_back_to_full(canvas_pointer self, std::size_t i, rendered_canvas r,
                       const std::string& why) {
  auto& slot = self->state.slots[i];
  ++self->state.metrics.fallbacks;
  log::info("canvas: section update not possible, replacing the whole canvas",
            {{"channel", slot.channel.id}, {"reason", why}});
  slot.section_ids.clear();
  send_full(self, i, std::move(r));
}

/// Replaces section changed[pos] (looking its id up first when not cached),
/// then the next one.
void send_sections(canvas_pointer self, std::size_t i, rendered_canvas r,
                   std::vector<std::size_t> changed, std::size_t pos) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  if (pos == changed.size()) {
    finish_attempt(self, i, attempt_outcome{});
    return;
  }
  const auto& section = r.sections[changed[pos]];
  auto cached = slot.section_ids.find(section.anchor);
  if (cached == slot.section_ids.end()) {
    ++st.metrics.lookups;
    call_slack(self,
               slack::lookup_heading(st.api, slot.channel.canvas_id, section.level, section.heading),
               [self, i, r, changed, pos](api_result res) mutable {
                 auto& slot = self->state.slots[i];
                 const auto& section = r.sections[changed[pos]];
                 if (res.outcome == api_result::kind::refused) {
                   fall_back_to_full(self, i, std::move(r), "lookup refused: " + res.error);
                   return;
                 }
                 if (!res.ok()) {
                   finish_attempt(self, i, outcome_of(res));
                   return;
                 }
                 auto ids = slack::section_ids(res.body);
                 if (ids.size() != 1) {
                   fall_back_to_full(self, i, std::move(r),
                                     fmt::format("{} headings match '{}'", ids.size(),
                                                 section.anchor));
                   return;
                 }
                 slot.section_ids[section.anchor] = ids.front();
                 send_sections(self, i, std::move(r), std::move(changed), pos);
               });
    return;
  }
  count_edit(self, i);
  call_slack(self,
             slack::edit_replace(st.api, slot.channel.canvas_id, section.markdown, cached->second),
             [self, i, r, changed, pos](api_result res) mutable {
               auto& slot = self->state.slots[i];
               auto k = changed[pos];
               if (res.ok()) {
                 // Slack now has this section: keep track section by section,
                 // so a failure later in the list resends only the rest.
                 slot.sent->sections[k] = r.sections[k];
                 send_sections(self, i, std::move(r), std::move(changed), pos + 1);
                 return;
               }
               if (res.outcome == api_result::kind::refused) {
                 fall_back_to_full(self, i, std::move(r), "section replace refused: " + res.error);
                 return;
               }
               finish_attempt(self, i, outcome_of(res));
             });
}

bool same_layout(const rendered_canvas& a, const rendered_canvas& b) {
  if (a.sections.size() != b.sections.size())
    return false;
  for (std::size_t k = 0; k < a.sections.size(); ++k)
    if (a.sections[k].anchor != b.sections[k].anchor ||
        a.sections[k].heading != b.sections[k].heading ||
        a.sections[k].level != b.sections[k].level)
      return false;
  return true;
}

/// Renders canvas `i` from `snap` and sends what differs from Slack's copy.
void render_and_send(canvas_pointer self, std::size_t i, bool force, snapshot_ptr snap) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  if (!snap) {
    attempt_outcome o;
    o.result = attempt_outcome::kind::failed;
    o.error = "state_unavailable";
    finish_attempt(self, i, o);
    return;
  }
  ++st.metrics.renders;
  auto r = canvas::render_canvas(*snap, *st.cfg, slot.channel.id, st.render);
  if (!force && slot.sent && slot.sent->sections == r.sections) {
    ++st.metrics.renders_unchanged;
    attempt_outcome o;
    o.result = attempt_outcome::kind::unchanged;
    finish_attempt(self, i, o);
    return;
  }
  if (slot.channel.canvas_id.empty()) {
    send_create(self, i, std::move(r));
    return;
  }
  if (!st.sections_mode || force || !slot.sent || !same_layout(*slot.sent, r)) {
    send_full(self, i, std::move(r));
    return;
  }
  std::vector<std::size_t> changed;
  for (std::size_t k = 0; k < r.sections.size(); ++k)
    if (r.sections[k].markdown != slot.sent->sections[k].markdown)
      changed.push_back(k);
  send_sections(self, i, std::move(r), std::move(changed), 0);
}

// -- scheduling ----------------------------------------------------------------

bool creatable(canvas_pointer self, const canvas_slot& slot) {
  return !slot.channel.canvas_id.empty() || self->state.cfg->settings.slack.create_missing_canvases;
}

void start_render(canvas_pointer self, std::size_t i) {
  auto& slot = self->state.slots[i];
  slot.busy = true;
  slot.dirty = false;
  slot.last_start = now(self);
  slot.debounce_armed = false;
  ++slot.debounce_gen;
  bool force = std::exchange(slot.force, false);
  if (force)
    slot.current_syncs = std::exchange(slot.waiting_syncs, {});
  with_snapshot(self, [self, i, force](snapshot_ptr snap) { render_and_send(self, i, force, snap); });
}

/// Starts a render of canvas `i` now, or arms its trailing timer, or leaves
/// it to the event it already waits for (a call in flight, a retry, a
/// Retry-After).
void schedule(canvas_pointer self, std::size_t i) {
  auto& st = self->state;
  auto& slot = st.slots[i];
  if (!st.enabled || (!slot.dirty && !slot.force) || slot.busy)
    return;
  if (!creatable(self, slot)) {
    slot.status = "error: no_canvas_id";
    slot.dirty = false;
    for (auto id : std::exchange(slot.waiting_syncs, {}))
      report_sync(self, id, i, {attempt_outcome::kind::refused, "no_canvas_id", 0});
    slot.force = false;
    return;
  }
  if (st.blocked_until && now(self) < *st.blocked_until)
    return; // the resume timer renders the newest state
  if (slot.retry_armed && !slot.force)
    return; // the retry renders the newest state
  auto t = now(self);
  if (slot.force || !slot.last_start || t >= *slot.last_start + st.interval) {
    slot.retry_armed = false;
    ++slot.retry_gen;
    start_render(self, i);
    return;
  }
  if (!slot.debounce_armed) {
    slot.debounce_armed = true;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
      *slot.last_start + st.interval - t);
    self->delayed_send(self, wait + std::chrono::milliseconds{1}, tick_atom_v,
                       std::uint8_t{debounce_timer}, std::uint64_t{i}, ++slot.debounce_gen);
  }
}

void on_tick(canvas_pointer self, std::uint8_t kind, std::uint64_t key, std::uint64_t gen) {
  auto& st = self->state;
  switch (kind) {
    case debounce_timer: {
      if (key >= st.slots.size())
        return;
      auto& slot = st.slots[key];
      if (gen != slot.debounce_gen || !slot.debounce_armed)
        return;
      slot.debounce_armed = false;
      schedule(self, key);
      return;
    }
    case retry_timer: {
      if (key >= st.slots.size())
        return;
      auto& slot = st.slots[key];
      if (gen != slot.retry_gen || !slot.retry_armed)
        return;
      slot.retry_armed = false;
      if (slot.busy)
        return;
      if (st.blocked_until && now(self) < *st.blocked_until)
        return; // resumes with the others
      ++st.metrics.retries;
      start_render(self, key);
      return;
    }
    case resume_timer: {
      if (gen != st.resume_gen || !st.blocked_until)
        return;
      if (now(self) < *st.blocked_until) {
        arm_resume(self);
        return;
      }
      st.blocked_until.reset();
      // Send the newest state at once: the wait was long enough.
      for (std::size_t i = 0; i < st.slots.size(); ++i) {
        auto& slot = st.slots[i];
        if ((slot.dirty || slot.force) && !slot.busy && !slot.retry_armed && creatable(self, slot))
          start_render(self, i);
      }
      return;
    }
    case sync_timer: {
      auto it = st.syncs.find(key);
      if (it == st.syncs.end())
        return;
      for (std::size_t i = 0; i < it->second.results.size(); ++i)
        if (it->second.pending[i]) {
          it->second.results[i].ok = false;
          it->second.results[i].error = "timeout";
        }
      finish_sync(self, key);
      return;
    }
    default: return;
  }
}

// -- requests from the HTTP side -------------------------------------------------

void on_sync(canvas_pointer self, sync_callback cb) {
  auto& st = self->state;
  if (!st.enabled) {
    sync_reply reply;
    reply.error = ec::slack_disabled;
    cb(std::move(reply));
    return;
  }
  auto id = st.next_sync_id++;
  auto& op = st.syncs[id];
  op.callback = std::move(cb);
  op.results.resize(st.slots.size());
  op.pending.assign(st.slots.size(), false);
  bool blocked = st.blocked_until && now(self) < *st.blocked_until;
  for (std::size_t i = 0; i < st.slots.size(); ++i) {
    auto& slot = st.slots[i];
    auto& r = op.results[i];
    r.channel = slot.channel.id;
    r.canvas_id = slot.channel.canvas_id;
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
    op.pending[i] = true;
    ++op.open;
    slot.force = true;
    slot.waiting_syncs.push_back(id);
  }
  if (op.open == 0) {
    finish_sync(self, id);
    return;
  }
  self->delayed_send(self, st.knobs.sync_timeout, tick_atom_v, std::uint8_t{sync_timer}, id,
                     std::uint64_t{0});
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    schedule(self, i);
}

void on_preview(canvas_pointer self, const std::string& channel, preview_callback cb) {
  auto& st = self->state;
  std::vector<std::size_t> chosen;
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    if (channel.empty() || st.slots[i].channel.id == channel)
      chosen.push_back(i);
  if (!channel.empty() && chosen.empty()) {
    preview_reply reply;
    reply.error = ec::invalid_request;
    reply.message = "No channel '" + channel + "' is configured.";
    cb(std::move(reply));
    return;
  }
  with_snapshot(self, [self, chosen, cb](snapshot_ptr snap) {
    auto& st = self->state;
    preview_reply reply;
    if (!snap) {
      reply.error = ec::state_error;
      reply.message = "The state did not answer.";
      cb(std::move(reply));
      return;
    }
    for (auto i : chosen) {
      const auto& slot = st.slots[i];
      auto r = canvas::render_canvas(*snap, *st.cfg, slot.channel.id, st.render);
      reply.canvases.push_back({slot.channel.id, slot.channel.canvas_id, r.markdown()});
    }
    cb(std::move(reply));
  });
}

canvas_health health_of(canvas_pointer self) {
  auto& st = self->state;
  canvas_health h;
  h.slack_api = st.enabled ? "ok" : "disabled";
  for (const auto& slot : st.slots) {
    canvas_status c;
    c.channel = slot.channel.id;
    c.canvas_id = slot.channel.canvas_id;
    c.status = st.enabled ? slot.status : "disabled";
    c.last_success = slot.last_success;
    c.dirty = slot.dirty || slot.busy;
    if (st.enabled && slot.status.rfind("error: ", 0) == 0) {
      if (h.slack_api == "ok")
        h.slack_api = slot.status;
      h.degraded = true;
    }
    if (st.enabled && slot.attempts > 0)
      h.degraded = true;
    h.canvases.push_back(std::move(c));
  }
  return h;
}

canvas_actor::behavior_type canvas_behavior(canvas_pointer self, canvas_state init) {
  self->state = std::move(init);
  auto& st = self->state;
  // Subscribed even when disabled: notifications also keep previews fresh.
  self->send(st.state, subscribe_atom_v, change_listener_actor{self});
  if (st.enabled) {
    // Start-up: every canvas once.
    for (std::size_t i = 0; i < st.slots.size(); ++i) {
      st.slots[i].dirty = true;
      schedule(self, i);
    }
  }
  return {
    [self](changed_atom, const change_set& changes) {
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
          schedule(self, i);
        }
    },
    [self](sync_atom, sync_callback& cb) { on_sync(self, std::move(cb)); },
    [self](preview_atom, const std::string& channel, preview_callback& cb) {
      on_preview(self, channel, std::move(cb));
    },
    [self](health_atom, canvas_health_callback& cb) { cb(health_of(self)); },
    [self](metrics_atom, canvas_metrics_callback& cb) { cb(self->state.metrics); },
    [self](tick_atom, std::uint8_t kind, std::uint64_t key, std::uint64_t gen) {
      on_tick(self, kind, key, gen);
    },
  };
}

} // namespace

caf::expected<canvas_actor> spawn_canvas(caf::actor_system& sys, canvas_options opts) {
  if (!opts.config)
    return caf::make_error(ec::invalid_request, "canvas: no configuration");
  const auto& cfg = *opts.config;
  const auto& slack_cfg = cfg.settings.slack;
  if (!(slack_cfg.min_update_interval_sec >= 0) || slack_cfg.min_update_interval_sec > 3600)
    return caf::make_error(ec::invalid_request,
                           "settings.slack.min_update_interval_sec must be between 0 and 3600");
  if (slack_cfg.max_retries < 0 || slack_cfg.max_retries > 20)
    return caf::make_error(ec::invalid_request, "settings.slack.max_retries must be 0..20");

  canvas_state st;
  st.cfg = opts.config;
  st.state = opts.state;
  st.data_dir = opts.data_dir;
  st.enabled = !slack_cfg.bot_token.empty();
  st.sections_mode = slack_cfg.update_mode == config::canvas_update_mode::sections;
  st.interval = from_seconds(slack_cfg.min_update_interval_sec);
  st.api.api_url = slack_cfg.api_url;
  st.api.token = slack_cfg.bot_token;
  st.api.timeout_sec = slack_cfg.request_timeout_sec;
  st.api.connect_timeout_sec = std::min(5.0, slack_cfg.request_timeout_sec);
  st.render.title = slack_cfg.dashboard_title;
  std::string tz_error;
  if (!canvas::display_zone::load(slack_cfg.display_timezone, st.render.zone, tz_error))
    log::warn("canvas: display time zone not usable, showing UTC",
              {{"field", "settings.slack.display_timezone"}, {"error", tz_error}});

  // Ids of canvases created by an earlier run.
  json kept = json::object();
  if (!opts.data_dir.empty()) {
    auto path = opts.data_dir + "/" + canvas_ids_file_name;
    if (auto text = read_file(path)) {
      auto doc = json::parse(*text, nullptr, false);
      if (!doc.is_discarded() && doc.is_object() && doc.contains("canvases") &&
          doc["canvases"].is_object())
        kept = doc["canvases"];
      else
        log::warn("canvas: ignoring unreadable canvas id file", {{"path", path}});
    }
  }
  for (const auto& ch : cfg.channels) {
    canvas_slot slot;
    slot.channel = ch;
    if (slot.channel.canvas_id.empty() && kept.contains(ch.id) && kept[ch.id].is_string())
      slot.channel.canvas_id = kept[ch.id].get<std::string>();
    st.slots.push_back(std::move(slot));
  }
  for (std::size_t i = 0; i < st.slots.size(); ++i)
    for (const auto* app : canvas::channel_apps(cfg, st.slots[i].channel.id))
      st.slots_by_app[app->name].push_back(i);

  if (st.enabled)
    st.http = opts.http ? opts.http : spawn_http_client(sys, 4);
  st.knobs = std::move(opts);
  log::info("canvas: starting",
            {{"slack_api", st.enabled ? "enabled" : "disabled"},
             {"canvases", st.slots.size()},
             {"update_mode", st.sections_mode ? "sections" : "full"},
             {"min_update_interval_sec", slack_cfg.min_update_interval_sec}});
  return sys.spawn(canvas_behavior, std::move(st));
}

} // namespace epmpulse
