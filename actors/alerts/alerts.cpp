#include "actors/alerts/alerts.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/alerts/alert_messages.hpp"
#include "actors/alerts/alert_record.hpp"
#include "actors/canvas/slack_api.hpp"
#include "actors/common/durable_file.hpp"
#include "actors/common/errors.hpp"
#include "actors/common/log.hpp"
#include "actors/common/wall_clock.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace epmpulse {

namespace {

using alerting::add_event;
using alerting::alert_record;
using alerting::parse_store;
using alerting::slack_text;
using alerting::to_json;

constexpr std::size_t closed_alerts_kept = 100;
constexpr double max_backoff_sec = 300;
constexpr auto write_timeout = std::chrono::seconds(30);
constexpr const char* store_name = "alerts"; ///< its document in the leader store

/// One message to one target.
struct delivery {
  std::uint64_t id = 0;
  std::string alert_id;
  std::string target;  ///< "slack" | "webhook"
  std::string channel; ///< Slack only
  std::string what;    ///< opened, changed, reminded, acknowledged, recovered
  int attempt = 0;
};

struct alerts_state {
  static inline constexpr const char* name = "alerts";

  alert_options opts;
  slack::api_settings slack;
  bool slack_on = false;
  bool webhook_on = false;
  time_point wall_origin{};
  caf::actor_clock::time_point clock_origin{};
  std::uint64_t next_id = 1;
  std::vector<alert_record> alerts; ///< open ones and the recent closed ones
  // One queue per target, one delivery in flight each: follow-ups go after
  // the opening message whose thread they need.
  std::map<std::string, std::deque<delivery>> queues;
  std::map<std::string, bool> busy;
  std::uint64_t next_delivery = 1;
  std::map<std::string, std::uint64_t> counters;
  /// PostgreSQL storage: the election's word, and whether this instance has
  /// taken the alerts over (only then does it hold, open and send them).
  bool clustered = false;
  bool want_lead = false;
  bool taking_over = false;
  bool leading = true;
};

using alerts_pointer = alert_actor::stateful_pointer<alerts_state>;

// -- the store -----------------------------------------------------------------------

void save(alerts_pointer self) {
  auto& st = self->state;
  if (!st.leading)
    return; // the leader's alerts are the ones stored
  auto text = alerting::store_text(st.alerts, st.next_id);
  auto on_result = [self](bool ok) {
    if (!ok)
      ++self->state.counters["store_failures"];
  };
  auto on_error = [self](caf::error&) { ++self->state.counters["store_failures"]; };
  if (st.clustered)
    self->request(st.opts.store, write_timeout, write_atom_v, std::string{store_name},
                  std::move(text))
      .then(on_result, on_error);
  else
    self->request(st.opts.writer, write_timeout, write_atom_v, std::move(text))
      .then(on_result, on_error);
}

// The event, and a copy to the history (deliveries with their target).
void add_event(alerts_pointer self, alert_record& a, time_point at, std::string what,
               std::string detail = {}, const delivery* d = nullptr) {
  if (const auto& history = self->state.opts.history) {
    alert_history_entry e;
    e.at = at;
    e.alert_id = a.id;
    e.app = a.app;
    e.domain = a.domain;
    e.kind = a.kind;
    e.event = what;
    if (d) {
      e.target = d->target;
      if (!d->channel.empty())
        e.channel = d->channel;
      e.message = d->what;
    }
    e.detail = detail;
    self->send(history, alert_atom_v, std::move(e));
  }
  add_event(a, at, std::move(what), std::move(detail));
}

alert_record* find_alert(alerts_pointer self, const std::string& id) {
  for (auto& a : self->state.alerts)
    if (a.id == id)
      return &a;
  return nullptr;
}

alert_record* open_alert_of(alerts_pointer self, const std::string& app,
                            const std::string& domain) {
  for (auto& a : self->state.alerts)
    if (a.is_open() && a.app == app && a.domain == domain)
      return &a;
  return nullptr;
}

void drop_old_closed(alerts_state& st) {
  std::size_t closed = 0;
  for (const auto& a : st.alerts)
    closed += a.is_open() ? 0 : 1;
  for (auto it = st.alerts.begin(); closed > closed_alerts_kept && it != st.alerts.end();) {
    if (!it->is_open()) {
      it = st.alerts.erase(it);
      --closed;
    } else {
      ++it;
    }
  }
}

// -- deliveries -----------------------------------------------------------------------

std::vector<std::string> alert_channels(const alerts_state& st, const std::string& app) {
  const auto* cfg = st.opts.config->find_app(app);
  if (cfg == nullptr)
    return {};
  if (!cfg->alert_channel.empty())
    return {cfg->alert_channel};
  return cfg->channels;
}

void pump(alerts_pointer self, const std::string& target);

void enqueue(alerts_pointer self, const alert_record& a, const std::string& what) {
  auto& st = self->state;
  if (st.slack_on)
    for (const auto& channel : alert_channels(st, a.app)) {
      st.queues["slack"].push_back({st.next_delivery++, a.id, "slack", channel, what, 0});
      pump(self, "slack");
    }
  if (st.webhook_on) {
    st.queues["webhook"].push_back({st.next_delivery++, a.id, "webhook", "", what, 0});
    pump(self, "webhook");
  }
}

void finish(alerts_pointer self, const std::string& target, const std::string& result,
            const std::string& detail) {
  auto& st = self->state;
  auto d = st.queues[target].front();
  st.queues[target].pop_front();
  st.busy[target] = false;
  ++st.counters[target + "_" + result];
  if (auto* a = find_alert(self, d.alert_id)) {
    add_event(self, *a, wall_now(self), result,
              target + (d.channel.empty() ? "" : " " + d.channel) + " " + d.what
                + (detail.empty() ? "" : ": " + detail), &d);
    save(self);
  }
  if (result == "failed")
    log::warn("alert delivery failed", {{"target", target},
                                        {"alert", d.alert_id},
                                        {"message", d.what},
                                        {"reason", detail}});
  pump(self, target);
}

/// Schedules the front delivery of `target` again, or gives it up.
void retry_or_fail(alerts_pointer self, const std::string& target, int max_retries,
                   double wait_sec, const std::string& reason) {
  auto& st = self->state;
  auto& d = st.queues[target].front();
  if (d.attempt > max_retries) {
    finish(self, target, "failed", reason + fmt::format(" after {} attempts", d.attempt));
    return;
  }
  ++st.counters[target + "_retried"];
  if (auto* a = find_alert(self, d.alert_id))
    add_event(self, *a, wall_now(self), "retried",
              fmt::format("{} {}: {} (retry in {:.0f} s)", target, d.what, reason, wait_sec), &d);
  auto delay = std::chrono::milliseconds{static_cast<std::int64_t>(wait_sec * 1000)};
  self->delayed_send(self, delay, delivery_due_atom_v, d.id);
}

double backoff_sec(int attempt) {
  return std::min(max_backoff_sec, std::pow(2.0, std::max(0, attempt - 1)));
}

void on_slack_answer(alerts_pointer self, const http_response& res) {
  auto& st = self->state;
  auto& d = st.queues["slack"].front();
  auto result = slack::classify(res);
  using kind = slack::api_result::kind;
  switch (result.outcome) {
  case kind::ok: {
    if (auto* a = find_alert(self, d.alert_id); a && d.what == "opened"
                                                && result.body.contains("ts")
                                                && result.body["ts"].is_string())
      a->threads[d.channel] = result.body["ts"].get<std::string>();
    finish(self, "slack", "sent", "");
    return;
  }
  case kind::rate_limited:
    retry_or_fail(self, "slack", st.opts.config->settings.slack.max_retries,
                  result.retry_after_sec, "ratelimited");
    return;
  case kind::unreachable:
  case kind::server_error:
    retry_or_fail(self, "slack", st.opts.config->settings.slack.max_retries,
                  backoff_sec(d.attempt), result.error);
    return;
  case kind::unauthorized:
  case kind::refused:
  default:
    // channel_not_found, not_in_channel, a bad token: the same call fails again.
    finish(self, "slack", "failed", result.error);
    return;
  }
}

void on_webhook_answer(alerts_pointer self, const http_response& res) {
  auto& st = self->state;
  auto& d = st.queues["webhook"].front();
  const auto& w = st.opts.config->settings.alerts.webhook;
  if (res.ok()) {
    finish(self, "webhook", "sent", "");
    return;
  }
  auto reason = res.status == 0 ? std::string{"unreachable"} : fmt::format("http_{}", res.status);
  if (res.status == 0 || res.status == 408 || res.status == 429 || res.status >= 500) {
    double wait = res.status == 429 ? slack::parse_retry_after(res, backoff_sec(d.attempt))
                                    : backoff_sec(d.attempt);
    retry_or_fail(self, "webhook", w.max_retries, wait, reason);
    return;
  }
  finish(self, "webhook", "failed", reason);
}

http_request webhook_request(alerts_pointer self, const delivery& d, const alert_record& a) {
  return alerting::webhook_request(self->state.opts.config->settings.alerts.webhook, a, d.what,
                                   d.id, wall_now(self));
}

void pump(alerts_pointer self, const std::string& target) {
  auto& st = self->state;
  auto& queue = st.queues[target];
  if (st.busy[target] || queue.empty())
    return;
  auto& d = queue.front();
  auto* a = find_alert(self, d.alert_id);
  if (a == nullptr) {
    queue.pop_front();
    pump(self, target);
    return;
  }
  st.busy[target] = true;
  ++d.attempt;
  http_request req;
  if (target == "slack") {
    std::string thread;
    if (d.what != "opened") {
      auto t = a->threads.find(d.channel);
      if (t == a->threads.end()) {
        // The opening message never went out: post the follow-up on its own.
        thread.clear();
      } else {
        thread = t->second;
      }
    }
    req = slack::chat_post_message(st.slack, d.channel, slack_text(*a, d.what, wall_now(self)),
                                   thread);
  } else {
    req = webhook_request(self, d, *a);
  }
  auto id = d.id;
  auto timeout = std::chrono::milliseconds{
    static_cast<std::int64_t>((req.timeout_sec + req.connect_timeout_sec + 5) * 1000)};
  self->request(st.opts.http, timeout, fetch_atom_v, std::move(req))
    .then(
      [self, target, id](http_response& res) {
        auto& q = self->state.queues[target];
        if (q.empty() || q.front().id != id)
          return;
        if (target == "slack")
          on_slack_answer(self, res);
        else
          on_webhook_answer(self, res);
      },
      [self, target, id](caf::error& err) {
        auto& q = self->state.queues[target];
        if (q.empty() || q.front().id != id)
          return;
        http_response res;
        res.transport_error = describe_error(err);
        if (target == "slack")
          on_slack_answer(self, res);
        else
          on_webhook_answer(self, res);
      });
}

// -- alerts ------------------------------------------------------------------------------

void open_alert(alerts_pointer self, const alert_condition& c, time_point now) {
  auto& st = self->state;
  alert_record a;
  a.id = fmt::format("a-{}", st.next_id++);
  a.app = c.app;
  a.domain = c.domain;
  a.kind = c.kind;
  a.cause = c.cause;
  a.holds = c.holds;
  a.opened = now;
  a.last_notice = now;
  a.reminder_hours = c.reminder_hours;
  add_event(self, a, now, "opened", c.kind + ": " + c.cause);
  ++st.counters["opened"];
  log::warn("alert opened",
            {{"id", a.id}, {"app", a.app}, {"domain", a.domain}, {"kind", a.kind}});
  st.alerts.push_back(std::move(a));
  enqueue(self, st.alerts.back(), "opened");
}

void on_conditions(alerts_pointer self, const std::vector<alert_condition>& conditions) {
  auto& st = self->state;
  auto now = wall_now(self);
  bool changed = false;
  std::map<std::string, const alert_condition*> bad;
  for (const auto& c : conditions)
    bad[c.app + "/" + c.domain] = &c;
  for (auto& a : st.alerts) {
    if (!a.is_open())
      continue;
    auto it = bad.find(a.app + "/" + a.domain);
    if (it == bad.end()) {
      a.status = "recovered";
      a.recovered = now;
      add_event(self, a, now, "recovered");
      ++st.counters["recovered"];
      log::info("alert recovered", {{"id", a.id}, {"app", a.app}, {"domain", a.domain}});
      enqueue(self, a, "recovered");
      changed = true;
      continue;
    }
    const auto& c = *it->second;
    if (c.quiet)
      continue;
    a.reminder_hours = c.reminder_hours;
    if (c.kind != a.kind) {
      a.kind = c.kind;
      a.cause = c.cause;
      a.holds = c.holds;
      add_event(self, a, now, "changed", c.kind + ": " + c.cause);
      enqueue(self, a, "changed");
      changed = true;
    } else if (c.holds != a.holds || c.cause != a.cause) {
      a.holds = c.holds;
      a.cause = c.cause;
      changed = true;
    }
    if (a.status == "open" && a.reminder_hours > 0
        && now - a.last_notice >= std::chrono::milliseconds{static_cast<std::int64_t>(
             a.reminder_hours * 3600 * 1000)}) {
      a.last_notice = now;
      add_event(self, a, now, "reminded");
      ++st.counters["reminded"];
      enqueue(self, a, "reminded");
      changed = true;
    }
  }
  for (const auto& c : conditions)
    if (!c.quiet && open_alert_of(self, c.app, c.domain) == nullptr) {
      open_alert(self, c, now);
      changed = true;
    }
  if (changed) {
    drop_old_closed(st);
    save(self);
  }
}

/// Silences an open alert until it recovers; false when `id` is not open.
bool acknowledge(alerts_pointer self, const std::string& id) {
  auto* a = find_alert(self, id);
  if (a == nullptr || !a->is_open())
    return false;
  if (a->status == "open") {
    a->status = "acknowledged";
    add_event(self, *a, wall_now(self), "acknowledged");
    ++self->state.counters["acknowledged"];
    enqueue(self, *a, "acknowledged");
    save(self);
  }
  return true;
}

/// An alert opened just before a crash or a takeover may not have reached
/// Slack: its opening message goes out now (at most once more, never a
/// second alert).
void resend_unsent_openings(alerts_pointer self) {
  auto& st = self->state;
  if (!st.slack_on)
    return;
  for (const auto& a : st.alerts)
    if (a.is_open())
      for (const auto& channel : alert_channels(st, a.app))
        if (!a.threads.contains(channel)) {
          st.queues["slack"].push_back({st.next_delivery++, a.id, "slack", channel, "opened", 0});
          pump(self, "slack");
        }
}

caf::timespan ack_poll_interval(const alerts_state& st) {
  return std::chrono::milliseconds{
    static_cast<std::int64_t>(st.opts.config->settings.alerts.evaluate_interval_sec * 1000)};
}

/// Elected: the alerts the last leader stored become this instance's.
/// Retried every poll interval while the store fails.
void take_over(alerts_pointer self) {
  auto& st = self->state;
  if (!st.want_lead || st.leading || st.taking_over)
    return;
  st.taking_over = true;
  self->request(st.opts.store, write_timeout, load_atom_v, std::string{store_name})
    .then(
      [self](const std::string& text) {
        auto& st = self->state;
        st.taking_over = false;
        if (!st.want_lead)
          return;
        std::vector<alert_record> loaded;
        std::uint64_t next_id = 1;
        if (!text.empty() && !parse_store(text, loaded, next_id))
          log::warn("alerts in the database are not all readable: the unreadable ones may be "
                    "sent again");
        st.alerts = std::move(loaded);
        st.next_id = std::max(st.next_id, next_id);
        st.leading = true;
        std::size_t open = 0;
        for (const auto& a : st.alerts)
          open += a.is_open() ? 1 : 0;
        log::info("alerts sent from here (leader)", {{"open", open}});
        resend_unsent_openings(self);
        self->delayed_send(self, ack_poll_interval(st), ack_poll_due_atom_v);
      },
      [self](caf::error& err) {
        auto& st = self->state;
        st.taking_over = false;
        log::warn("alerts not loaded from the database: retried shortly",
                  {{"reason", describe_error(err)}});
        self->delayed_send(self, ack_poll_interval(st), ack_poll_due_atom_v);
      });
}

void step_down(alerts_pointer self) {
  auto& st = self->state;
  st.want_lead = false;
  if (!st.leading)
    return;
  // What was in flight is the next leader's: it reads the stored alerts.
  st.leading = false;
  st.alerts.clear();
  st.queues.clear();
  st.busy.clear();
  log::info("alerts no longer sent from here (follower)");
}

/// The leader's stored alerts, read by a follower.
void with_stored_alerts(alerts_pointer self,
                        std::function<void(std::vector<alert_record>)> then,
                        std::function<void(caf::error)> failed) {
  self->request(self->state.opts.store, write_timeout, get_atom_v, std::string{store_name})
    .then(
      [then](const std::string& text) {
        std::vector<alert_record> stored;
        std::uint64_t next_id = 1;
        parse_store(text, stored, next_id); // what is readable
        then(std::move(stored));
      },
      [failed](caf::error& err) { failed(std::move(err)); });
}

std::string list_json(const std::vector<alert_record>& alerts) {
  json list = json::array();
  for (const auto& a : alerts)
    if (a.is_open())
      list.push_back(to_json(a, true));
  return json{{"alerts", std::move(list)}}.dump();
}

std::string metrics_text(const alerts_state& st) {
  std::string out;
  auto count = [&](const char* key) {
    auto it = st.counters.find(key);
    return it == st.counters.end() ? std::uint64_t{0} : it->second;
  };
  out += "# HELP epmpulse_alerts_total Alert events by kind.\n"
         "# TYPE epmpulse_alerts_total counter\n";
  for (const char* e : {"opened", "reminded", "acknowledged", "recovered"})
    out += fmt::format("epmpulse_alerts_total{{event=\"{}\"}} {}\n", e, count(e));
  out += "# HELP epmpulse_alert_deliveries_total Alert messages by target and result.\n"
         "# TYPE epmpulse_alert_deliveries_total counter\n";
  for (const char* target : {"slack", "webhook"})
    for (const char* result : {"sent", "retried", "failed"})
      out += fmt::format("epmpulse_alert_deliveries_total{{target=\"{}\",result=\"{}\"}} {}\n",
                         target, result, count(fmt::format("{}_{}", target, result).c_str()));
  std::size_t open = 0;
  for (const auto& a : st.alerts)
    open += a.is_open() ? 1 : 0;
  out += "# HELP epmpulse_alerts_open Open alerts (acknowledged included).\n"
         "# TYPE epmpulse_alerts_open gauge\n";
  out += fmt::format("epmpulse_alerts_open {}\n", open);
  out += "# HELP epmpulse_alert_store_failures_total Failed writes of alerts.json.\n"
         "# TYPE epmpulse_alert_store_failures_total counter\n";
  out += fmt::format("epmpulse_alert_store_failures_total {}\n", count("store_failures"));
  return out;
}

alert_actor::behavior_type alerts(alerts_pointer self, alert_options opts,
                                  std::vector<alert_record> loaded, std::uint64_t next_id) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.wall_origin = st.opts.wall_origin.value_or(now_ms());
  st.clock_origin = self->clock().now();
  const auto& s = st.opts.config->settings;
  st.slack.api_url = s.slack.api_url;
  st.slack.token = s.slack.bot_token;
  st.slack.timeout_sec = s.slack.request_timeout_sec;
  st.slack_on = !s.slack.bot_token.empty();
  st.webhook_on = !s.alerts.webhook.url.empty();
  st.alerts = std::move(loaded);
  st.next_id = next_id;
  st.clustered = static_cast<bool>(st.opts.store);
  st.leading = !st.clustered;
  resend_unsent_openings(self);
  return {
    [self](alert_atom, const alert_conditions& conditions) {
      if (conditions && self->state.leading)
        on_conditions(self, *conditions);
    },
    [self](alert_atom) -> caf::result<std::string> {
      auto& st = self->state;
      if (st.leading || !st.clustered)
        return list_json(st.alerts);
      auto promise = self->make_response_promise<std::string>();
      with_stored_alerts(
        self, [promise](std::vector<alert_record> stored) mutable {
          promise.deliver(list_json(stored));
        },
        [promise](caf::error err) mutable { promise.deliver(std::move(err)); });
      return promise;
    },
    [self](ack_atom, const std::string& id) -> caf::result<std::string> {
      auto& st = self->state;
      auto unknown = [id] { return caf::make_error(ec::not_found, "No open alert '" + id + "'."); };
      if (st.leading || !st.clustered) {
        if (!acknowledge(self, id))
          return unknown();
        return to_json(*find_alert(self, id), true).dump();
      }
      // A follower stores the ack; the leader applies it at its next poll.
      auto promise = self->make_response_promise<std::string>();
      with_stored_alerts(
        self,
        [self, id, promise, unknown](std::vector<alert_record> stored) mutable {
          auto it = std::find_if(stored.begin(), stored.end(),
                                 [&](const auto& a) { return a.id == id && a.is_open(); });
          if (it == stored.end()) {
            promise.deliver(unknown());
            return;
          }
          auto alert = *it;
          self->request(self->state.opts.store, write_timeout, ack_atom_v, id)
            .then(
              [promise, alert](bool) mutable {
                auto shown = alert;
                shown.status = "acknowledged";
                promise.deliver(to_json(shown, true).dump());
              },
              [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
        },
        [promise](caf::error err) mutable { promise.deliver(std::move(err)); });
      return promise;
    },
    [self](delivery_due_atom, std::uint64_t id) {
      auto& st = self->state;
      for (const auto& target : {std::string{"slack"}, std::string{"webhook"}}) {
        auto& q = st.queues[target];
        if (!q.empty() && q.front().id == id) {
          st.busy[target] = false;
          pump(self, target);
        }
      }
    },
    [self](leader_atom, bool leader) {
      auto& st = self->state;
      if (!st.clustered)
        return;
      if (leader) {
        st.want_lead = true;
        take_over(self);
      } else {
        step_down(self);
      }
    },
    [self](ack_poll_due_atom) {
      auto& st = self->state;
      if (!st.clustered)
        return;
      if (!st.leading) {
        take_over(self); // a takeover that failed, tried again
        return;
      }
      self->request(st.opts.store, write_timeout, ack_atom_v)
        .then(
          [self](const std::vector<std::string>& ids) {
            for (const auto& id : ids)
              if (self->state.leading)
                acknowledge(self, id);
          },
          [](caf::error&) {});
      self->delayed_send(self, ack_poll_interval(st), ack_poll_due_atom_v);
    },
    [self](metrics_atom) -> alert_metrics { return {metrics_text(self->state)}; },
  };
}

} // namespace

caf::expected<alert_actor> spawn_alerts(caf::actor_system& sys, alert_options opts) {
  if (opts.store) // the cluster's alerts: read when this instance takes the lead
    return sys.spawn(alerts, std::move(opts), std::vector<alert_record>{}, std::uint64_t{1});
  auto path = (fs::path(opts.data_dir) / alerts_file_name).string();
  std::vector<alert_record> loaded;
  std::uint64_t next_id = 1;
  std::error_code err;
  if (fs::exists(path, err)) {
    auto text = read_file(path);
    if (!text)
      return caf::make_error(ec::state_error, "cannot read " + path);
    if (!parse_store(*text, loaded, next_id)) {
      auto aside = path + ".corrupt";
      fs::rename(path, aside, err);
      log::warn("alert store invalid: moved aside, its open alerts may be sent again",
                {{"path", path}, {"moved_to", aside}});
    }
  }
  std::size_t open = 0;
  for (const auto& a : loaded)
    open += a.is_open() ? 1 : 0;
  if (!loaded.empty())
    log::info("alerts loaded", {{"path", path}, {"open", open}});
  if (!opts.writer)
    opts.writer = spawn_text_file_writer(sys, path, "the alert store");
  return sys.spawn(alerts, std::move(opts), std::move(loaded), next_id);
}

} // namespace epmpulse
