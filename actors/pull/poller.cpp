#include "actors/pull/poller.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actors/pull/epm_status.hpp"
#include "actors/common/log.hpp"

namespace epmpulse {

namespace {

using poller_ptr = poller_actor::stateful_pointer<poller_state>;
using clock_point = caf::actor_clock::time_point;
using job = poller_state::job;

// Waits on other actors; each is longer than the work it guards, which has
// its own timeout (the token fetch, the HTTP transfer).
constexpr auto token_wait = std::chrono::seconds{30};

void dispatch(poller_ptr self);

std::string server_label(const poller_state& st) {
  return st.opts.server.id;
}

nlohmann::json domains_of(const std::vector<poller_state::target>& targets) {
  auto out = nlohmann::json::array();
  for (const auto& t : targets)
    out.push_back(t.app + "/" + t.domain);
  return out;
}

// -- timers -----------------------------------------------------------------------

void arm_wakeup(poller_ptr self, clock_point at) {
  auto& st = self->state;
  if (st.timer_at && *st.timer_at <= at)
    return; // an earlier wake-up is already on its way
  st.timer_at = at;
  auto gen = ++st.timer_generation;
  auto delay = std::max(at - self->clock().now(), caf::actor_clock::duration_type::zero());
  self->delayed_send(self, std::chrono::duration_cast<std::chrono::microseconds>(delay),
                     poll_due_atom_v, gen);
}

// -- bookkeeping --------------------------------------------------------------------

job* find_job(poller_ptr self, const std::string& id, std::uint64_t incarnation) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end() || it->second.incarnation != incarnation)
    return nullptr;
  return &it->second;
}

/// A poll's slot is free again; returns its job if it is still the one polled.
job* end_flight(poller_ptr self, const std::string& id, std::uint64_t incarnation) {
  auto& st = self->state;
  if (st.in_flight > 0)
    --st.in_flight;
  auto* j = find_job(self, id, incarnation);
  if (j)
    j->in_flight = false;
  return j;
}

void remove_target(poller_ptr self, const std::pair<std::string, std::string>& key) {
  auto& st = self->state;
  auto bd = st.by_domain.find(key);
  if (bd == st.by_domain.end())
    return;
  auto it = st.jobs.find(bd->second);
  st.by_domain.erase(bd);
  if (it == st.jobs.end())
    return;
  auto& targets = it->second.targets;
  targets.erase(std::remove_if(targets.begin(), targets.end(),
                               [&](const poller_state::target& t) {
                                 return t.app == key.first && t.domain == key.second;
                               }),
                targets.end());
  if (targets.empty())
    st.jobs.erase(it); // late answers find no job of that incarnation
}

// -- settling -----------------------------------------------------------------------

/// The job whose settlement of generation `gen` is still awaited, else null
/// (unwatched, or settled again meanwhile).
job* settling_job(poller_ptr self, const std::string& id, std::uint64_t gen) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end() || !it->second.settling
      || it->second.settle_generation != gen)
    return nullptr;
  return &it->second;
}

/// The state committed the result: its domains are no longer watched.
void settled(poller_ptr self, const std::string& id, std::uint64_t gen) {
  auto& st = self->state;
  auto* j = settling_job(self, id, gen);
  if (j == nullptr)
    return;
  ++st.counters.settled;
  log::info("epm job settled", {{"server", server_label(st)},
                                {"job_id", id},
                                {"result", j->settle_status},
                                {"domains", domains_of(j->targets)}});
  auto keys = std::move(j->settled_keys);
  for (const auto& key : keys)
    if (auto bd = st.by_domain.find(key); bd != st.by_domain.end() && bd->second == id)
      remove_target(self, key); // erases the job with its last domain
  if (auto rest = st.jobs.find(id); rest != st.jobs.end()) {
    // A domain joined this job while its result was on the way: poll for it.
    rest->second.settling = false;
    rest->second.next_due = self->clock().now();
    dispatch(self);
  }
}

/// The state did not commit the result. The job stays watched: a failed
/// write (ec::state_error) is polled again after a backoff, as a failed poll
/// would be; an answer that never came, at once.
void not_settled(poller_ptr self, const std::string& id, std::uint64_t gen,
                 const caf::error& err) {
  auto& st = self->state;
  auto* j = settling_job(self, id, gen);
  if (j == nullptr)
    return;
  j->settling = false;
  if (err == caf::sec::request_timeout) {
    log::warn("epm job result not confirmed by the state; polling again",
              {{"server", server_label(st)}, {"job_id", id}});
    j->next_due = self->clock().now();
  } else {
    ++j->failures;
    j->next_due = self->clock().now()
                  + backoff_delay(st.interval, j->failures,
                                  std::max(st.opts.backoff_cap, st.interval));
    log::warn("epm job result not committed by the state; polling again",
              {{"server", server_label(st)}, {"job_id", id}, {"reason", describe_error(err)}});
  }
  dispatch(self);
}

/// Sends the job's result for all its domains to the state actor; the job is
/// forgotten when the state actor confirms the commit.
void settle(poller_ptr self, job& j, job_status status, const std::string& message,
            std::optional<time_point> epm_time, const char* label) {
  auto& st = self->state;
  j.settling = true;
  j.settle_generation = st.next_settlement++;
  j.settle_status = label;
  auto wall = now_ms();
  std::vector<status_update> updates;
  updates.reserve(j.targets.size());
  j.settled_keys.clear();
  for (const auto& t : j.targets) {
    j.settled_keys.emplace_back(t.app, t.domain);
    status_update u;
    u.app = t.app;
    u.domain = t.domain;
    u.status = status;
    u.job_id = j.id;
    u.message = message;
    u.source = update_source::poll;
    // EPM's time when it gave one, else when we saw the result; never older
    // than the Loading it settles (a pusher's clock running ahead must not
    // make the result look stale), while a newer push still wins.
    auto when = epm_time.value_or(wall);
    if (t.loading_updated && when <= *t.loading_updated)
      when = *t.loading_updated + std::chrono::milliseconds{1};
    u.event_time = when;
    updates.push_back(std::move(u));
  }
  log::info("epm job finished; settling its domains",
            {{"server", server_label(st)},
             {"job_id", j.id},
             {"result", label},
             {"status", to_string(status)},
             {"domains", domains_of(j.targets)}});
  auto id = j.id;
  auto gen = j.settle_generation;
  self->request(st.opts.state, st.opts.settle_timeout, apply_atom_v, std::move(updates))
    .then([self, id, gen](const apply_result&) { settled(self, id, gen); },
          [self, id, gen](const caf::error& err) { not_settled(self, id, gen, err); });
}

void settle_timed_out(poller_ptr self, job& j) {
  auto& st = self->state;
  ++st.counters.timeouts;
  settle(self, j, job_status::warning,
         timeout_message(st.opts.pull.max_poll_duration_minutes, j.last_state), std::nullopt,
         "timeout");
}

/// Past the deadline with EPM refusing the status (403): nobody knows how
/// the job ended, so its domains are left as they are and the job dropped.
void give_up_unsettled(poller_ptr self, const std::string& id) {
  auto& st = self->state;
  auto it = st.jobs.find(id);
  if (it == st.jobs.end())
    return;
  ++st.counters.timeouts;
  log::warn("epm job given up without settling: EPM refused its status (403) until the timeout",
            {{"server", server_label(st)},
             {"job_id", id},
             {"domains", domains_of(it->second.targets)},
             {"fix", st.last_error}});
  std::vector<std::pair<std::string, std::string>> keys;
  for (const auto& t : it->second.targets)
    keys.emplace_back(t.app, t.domain);
  for (const auto& key : keys)
    remove_target(self, key); // erases the job with its last domain
}

/// The job's deadline passed: settle it as timed out, or drop it unsettled
/// after a 403.
void deadline_passed(poller_ptr self, job& j) {
  if (j.forbidden)
    give_up_unsettled(self, j.id);
  else
    settle_timed_out(self, j);
}

// -- polling ------------------------------------------------------------------------

void record_failure(poller_ptr self, job& j, const std::string& reason) {
  auto& st = self->state;
  auto now = self->clock().now();
  ++st.counters.poll_failures;
  ++j.failures;
  st.last_error = reason;
  if (!j.forbidden)
    j.last_state = "last poll failed: " + reason;
  auto delay = backoff_delay(st.interval, j.failures, std::max(st.opts.backoff_cap, st.interval));
  j.next_due = now + delay;
  log::warn("epm job poll failed; backing off",
            {{"server", server_label(st)},
             {"job_id", j.id},
             {"reason", reason},
             {"failures", j.failures},
             {"retry_in_sec", std::chrono::duration<double>(delay).count()}});
  if (now >= j.deadline)
    deadline_passed(self, j); // may erase the job
}

void poll_failed(poller_ptr self, const std::string& id, std::uint64_t incarnation,
                 const std::string& reason) {
  if (auto* j = end_flight(self, id, incarnation))
    record_failure(self, *j, reason);
  dispatch(self);
}

void on_response(poller_ptr self, const std::string& id, std::uint64_t incarnation,
                 const access_token& token, bool may_retry, const http_response& resp);

http_request job_request(const poller_state& st, std::string url, const access_token& token) {
  http_request req;
  req.method = "GET";
  req.url = std::move(url);
  if (!token.header.empty())
    req.headers.emplace_back("Authorization", token.header);
  req.headers.emplace_back("Accept", "application/json");
  req.timeout_sec = st.opts.request_timeout_sec;
  req.connect_timeout_sec = st.opts.connect_timeout_sec;
  return req;
}

std::chrono::milliseconds request_guard(const poller_state& st) {
  return seconds_to_ms(st.opts.request_timeout_sec + st.opts.connect_timeout_sec + 5);
}

void send_get(poller_ptr self, const std::string& id, std::uint64_t incarnation,
              const access_token& token, bool may_retry) {
  auto& st = self->state;
  auto req = job_request(st, job_status_url(st.opts.server, id), token);
  self->request(st.opts.http, request_guard(st), fetch_atom_v, std::move(req))
    .then(
      [self, id, incarnation, token, may_retry](const http_response& resp) {
        on_response(self, id, incarnation, token, may_retry, resp);
      },
      [self, id, incarnation](const caf::error& err) {
        poll_failed(self, id, incarnation, "request failed: " + describe_error(err));
      });
}

/// EDM's answer to GET .../jobRuns/{id}/result: settles the job, or backs off.
void on_result_response(poller_ptr self, const std::string& id, std::uint64_t incarnation,
                        const http_response& resp) {
  auto& st = self->state;
  auto* j = end_flight(self, id, incarnation);
  if (j == nullptr) {
    dispatch(self);
    return;
  }
  std::string error;
  std::optional<epm_job_result> result;
  if (resp.status == 0)
    error = "network error reading the job run result: " + resp.transport_error;
  else if (!resp.ok())
    error = fmt::format("EPM answered HTTP {} for the job run result", resp.status);
  else if (!(result = map_edm_result_body(resp.body, error)))
    error = "unreadable job run result: " + error;
  if (!result || result->phase == epm_job_phase::running) {
    record_failure(self, *j, error.empty() ? "job run result still in progress" : error);
  } else {
    st.last_error.clear();
    j->failures = 0;
    settle(self, *j, result->status, result->message, result->event_time,
           result->phase == epm_job_phase::succeeded ? "succeeded" : "failed");
  }
  dispatch(self);
}

/// The job run says it finished; its result says whether it worked. The
/// poll's slot stays taken until that answer.
void fetch_result(poller_ptr self, const std::string& id, std::uint64_t incarnation,
                  const access_token& token) {
  auto& st = self->state;
  auto req = job_request(st, job_result_url(st.opts.server, id), token);
  self->request(st.opts.http, request_guard(st), fetch_atom_v, std::move(req))
    .then(
      [self, id, incarnation](const http_response& resp) {
        on_result_response(self, id, incarnation, resp);
      },
      [self, id, incarnation](const caf::error& err) {
        poll_failed(self, id, incarnation,
                    "job run result request failed: " + describe_error(err));
      });
}

void on_response(poller_ptr self, const std::string& id, std::uint64_t incarnation,
                 const access_token& used_token, bool may_retry, const http_response& resp) {
  auto& st = self->state;
  auto token_generation = used_token.generation;
  if (resp.status == 401 && may_retry && find_job(self, id, incarnation) != nullptr) {
    // The slot stays taken: the retry is part of this poll.
    ++st.counters.unauthorized_retries;
    log::info("epm rejected the token (401); renewing it and retrying once",
              {{"server", server_label(st)}, {"job_id", id}});
    self->request(st.opts.tokens, token_wait, invalid_atom_v, token_generation)
      .then(
        [self, id, incarnation](const access_token& token) {
          send_get(self, id, incarnation, token, false);
        },
        [self, id, incarnation](const caf::error& err) {
          poll_failed(self, id, incarnation,
                      "token renewal after a 401 failed: " + describe_error(err));
        });
    return;
  }
  auto* j = end_flight(self, id, incarnation);
  if (j == nullptr) { // unwatched meanwhile
    dispatch(self);
    return;
  }
  if (resp.status == 0) {
    record_failure(self, *j, "network error: " + resp.transport_error);
  } else if (resp.status == 401) {
    record_failure(self, *j, "EPM rejected a fresh token (401 Unauthorized)");
  } else if (resp.status == 403) {
    j->forbidden = true;
    record_failure(self, *j, forbidden_message(st.opts.server)); // may erase the job
  } else if (resp.status == 404) {
    st.last_error.clear();
    ++st.counters.not_found;
    settle(self, *j, job_status::warning, not_found_message(st.opts.server), std::nullopt,
           "not_found");
  } else if (!resp.ok()) {
    record_failure(self, *j, fmt::format("EPM answered HTTP {}", resp.status));
  } else {
    std::string error;
    auto result = map_job_body(st.opts.server.kind, resp.body, error);
    if (!result) {
      record_failure(self, *j, "unreadable job status: " + error);
    } else {
      st.last_error.clear();
      j->failures = 0;
      j->forbidden = false;
      if (result->phase == epm_job_phase::running) {
        auto now = self->clock().now();
        j->next_due = now + st.interval;
        j->last_state = std::string{still_in_progress_text};
        log::debug("epm job still running", {{"server", server_label(st)},
                                             {"job_id", id},
                                             {"epm_status", result->code.value_or(-1)}});
        if (now >= j->deadline)
          settle_timed_out(self, *j);
      } else if (needs_result_check(st.opts.server.kind, *result)) {
        j->in_flight = true; // the result call is part of this poll
        ++st.in_flight;
        fetch_result(self, id, incarnation, used_token);
        return;
      } else {
        settle(self, *j, result->status, result->message, result->event_time,
               result->phase == epm_job_phase::succeeded ? "succeeded" : "failed");
      }
    }
  }
  dispatch(self);
}

void start_poll(poller_ptr self, job& j) {
  auto& st = self->state;
  j.in_flight = true;
  ++st.in_flight;
  ++st.counters.polls;
  auto id = j.id;
  auto incarnation = j.incarnation;
  self->request(st.opts.tokens, token_wait, token_atom_v)
    .then(
      [self, id, incarnation](const access_token& token) {
        send_get(self, id, incarnation, token, true);
      },
      [self, id, incarnation](const caf::error& err) {
        poll_failed(self, id, incarnation, describe_error(err));
      });
}

/// Times out overdue jobs, starts due polls up to the concurrency limit
/// (oldest due first), and arms the next wake-up.
void dispatch(poller_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  // A settling job waits for the state's answer (or its timeout) instead.
  std::vector<std::string> overdue;
  for (auto& [id, j] : st.jobs)
    if (!j.in_flight && !j.settling && j.deadline <= now)
      overdue.push_back(id);
  for (const auto& id : overdue)
    if (auto it = st.jobs.find(id); it != st.jobs.end())
      deadline_passed(self, it->second);
  std::vector<job*> due;
  for (auto& [id, j] : st.jobs)
    if (!j.in_flight && !j.settling && j.next_due <= now)
      due.push_back(&j);
  std::sort(due.begin(), due.end(),
            [](const job* a, const job* b) { return a->next_due < b->next_due; });
  auto limit = static_cast<std::size_t>(std::max(1, st.opts.pull.max_concurrent_polls_per_server));
  for (auto* j : due) {
    if (st.in_flight >= limit)
      break;
    start_poll(self, *j);
  }
  std::optional<clock_point> wake;
  for (const auto& [id, j] : st.jobs) {
    if (j.in_flight || j.settling)
      continue;
    auto t = std::min(j.next_due, j.deadline);
    if (t <= now)
      continue; // due but waiting for a free slot: a finishing poll dispatches again
    if (!wake || t < *wake)
      wake = t;
  }
  if (wake)
    arm_wakeup(self, *wake);
}

// -- the actor ----------------------------------------------------------------------

poller_actor::behavior_type poller(poller_ptr self, poller_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.interval = seconds_to_ms(st.opts.pull.poll_interval_seconds);
  st.max_duration = seconds_to_ms(st.opts.pull.max_poll_duration_minutes * 60.0);
  st.counters.server_id = st.opts.server.id;
  return {
    [self](watch_atom, const watch_request& w) {
      auto& st = self->state;
      if (w.job_id.empty())
        return;
      auto key = std::make_pair(w.app, w.domain);
      if (auto bd = st.by_domain.find(key); bd != st.by_domain.end()) {
        if (bd->second == w.job_id) {
          for (auto& t : st.jobs[w.job_id].targets)
            if (t.app == w.app && t.domain == w.domain)
              t.loading_updated = w.loading_updated;
          return; // already watched
        }
        remove_target(self, key); // the domain moved on to another job
      }
      auto& j = st.jobs[w.job_id];
      if (j.id.empty()) {
        auto now = self->clock().now();
        j.id = w.job_id;
        j.incarnation = st.next_incarnation++;
        j.next_due = w.recovered ? now : now + st.interval;
        // The timeout counts from when the Loading began, across restarts.
        auto elapsed = std::chrono::milliseconds{0};
        if (w.loading_since)
          elapsed = std::max(std::chrono::milliseconds{0},
                             std::chrono::duration_cast<std::chrono::milliseconds>(
                               now_ms() - *w.loading_since));
        auto left = std::max(std::chrono::milliseconds{0}, st.max_duration - elapsed);
        j.deadline = now + left;
      }
      j.targets.push_back({w.app, w.domain, w.loading_updated});
      st.by_domain[key] = w.job_id;
      log::info("epm watching job", {{"server", server_label(st)},
                                     {"job_id", w.job_id},
                                     {"app", w.app},
                                     {"domain", w.domain},
                                     {"recovered", w.recovered}});
      dispatch(self);
    },
    [self](unwatch_atom, const std::string& app, const std::string& domain) {
      auto& st = self->state;
      auto key = std::make_pair(app, domain);
      if (st.by_domain.count(key) == 0)
        return;
      log::debug("epm no longer watching", {{"server", server_label(st)},
                                             {"app", app},
                                             {"domain", domain}});
      remove_target(self, key);
    },
    [self](health_atom) -> poller_health {
      auto& st = self->state;
      auto h = st.counters;
      h.status = st.last_error.empty() ? "ok" : "error: " + st.last_error;
      h.watched_jobs = st.jobs.size();
      h.in_flight = st.in_flight;
      return h;
    },
    [self](poll_due_atom, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.timer_generation)
        return;
      st.timer_at.reset();
      dispatch(self);
    },
  };
}

bool has_http_scheme(const std::string& url) {
  return url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
}

} // namespace

caf::expected<poller_actor> spawn_poller(caf::actor_system& sys, poller_options opts) {
  auto fail = [&](const std::string& what) {
    return caf::make_error(ec::epm_error, "epm.servers." + opts.server.id + ": " + what);
  };
  if (!has_http_scheme(opts.server.base_url))
    return fail("base_url must be an http:// or https:// URL");
  if (opts.server.kind == config::epm_server_kind::planning && opts.server.application.empty())
    return fail("a planning server needs \"application\"");
  const auto& p = opts.pull;
  if (!(p.poll_interval_seconds > 0) || !(p.max_poll_duration_minutes > 0)
      || p.max_concurrent_polls_per_server < 1)
    return fail("settings.pull_mode needs a positive interval, duration and concurrency");
  if (!opts.tokens || !opts.http || !opts.state)
    return fail("the poller needs a token actor, an HTTP client and the state actor");
  return sys.spawn(poller, std::move(opts));
}

} // namespace epmpulse
