#include "actors/pull/maintenance_reader.hpp"

#include <algorithm>

#include <caf/all.hpp>
#include <fmt/format.h>

#include "actors/common/log.hpp"
#include "actors/pull/epm_status.hpp"

namespace epmpulse {

namespace {

struct maintenance_reader_state {
  static inline constexpr const char* name = "maintenance_reader";

  maintenance_reader_options opts;
  std::optional<time_of_day> last_read;
  unsigned failures_in_a_row = 0;
  std::uint64_t timer_generation = 0;
  maintenance_read_health health;
};

using reader_ptr = maintenance_reader_actor::stateful_pointer<maintenance_reader_state>;

// Longer than the token fetch it waits for, which has its own timeout.
constexpr auto token_wait = std::chrono::seconds{30};

std::string describe(const time_of_day& t) {
  return format_hh_mm(t.minute) + " " + t.time_zone;
}

/// What the evaluator goes by while this read failed.
std::string fallback_words(const maintenance_reader_state& st) {
  if (st.last_read)
    return "using the start read before, " + describe(*st.last_read);
  if (st.opts.configured)
    return "using the configured start " + describe(*st.opts.configured);
  return "no daily window until it is read (no \"start\" configured)";
}

void read_now(reader_ptr self, bool may_retry);

void arm(reader_ptr self, std::chrono::milliseconds delay) {
  auto generation = ++self->state.timer_generation;
  self->delayed_send(self, delay, refresh_due_atom_v, generation);
}

void read_failed(reader_ptr self, const std::string& reason) {
  auto& st = self->state;
  ++st.health.failures;
  st.health.status = "error: " + reason + "; " + fallback_words(st);
  auto delay = backoff_delay(st.opts.retry_initial, st.failures_in_a_row++, st.opts.refresh);
  log::warn("cannot read the daily maintenance time from EPM",
            {{"server", st.opts.server.id},
             {"reason", reason},
             {"fallback", fallback_words(st)},
             {"retry_in_sec", std::chrono::duration<double>(delay).count()}});
  arm(self, delay);
}

void read_succeeded(reader_ptr self, const time_of_day& start) {
  auto& st = self->state;
  bool changed = !st.last_read || st.last_read->minute != start.minute
                 || st.last_read->time_zone != start.time_zone;
  st.last_read = start;
  st.failures_in_a_row = 0;
  st.health.status = "read " + describe(start);
  if (changed)
    log::info("daily maintenance time read from EPM",
              {{"server", st.opts.server.id}, {"start", describe(start)}});
  // Every time, not only on a change: a listener that restarted learns it.
  self->send(st.opts.listener, maintenance_atom_v,
             epm_daily_maintenance{st.opts.server.id, start});
  arm(self, st.opts.refresh);
}

void on_response(reader_ptr self, const access_token& used, bool may_retry,
                 const http_response& resp) {
  auto& st = self->state;
  if (resp.status == 401 && may_retry) {
    self->request(st.opts.tokens, token_wait, invalid_atom_v, used.generation)
      .then([self](const access_token&) { read_now(self, false); },
            [self](const caf::error& err) {
              read_failed(self, "token renewal after a 401 failed: " + describe_error(err));
            });
    return;
  }
  if (resp.status == 0)
    return read_failed(self, "network error: " + resp.transport_error);
  if (resp.status == 401)
    return read_failed(self, "EPM rejected a fresh token (401 Unauthorized)");
  if (resp.status == 403)
    return read_failed(self, maintenance_forbidden_message(st.opts.server));
  if (!resp.ok())
    return read_failed(self, fmt::format("EPM answered HTTP {}", resp.status));
  std::string error;
  if (auto start = parse_daily_maintenance(resp.body, error))
    read_succeeded(self, *start);
  else
    read_failed(self, "unreadable answer: " + error);
}

void send_get(reader_ptr self, const access_token& token, bool may_retry) {
  auto& st = self->state;
  http_request req;
  req.url = daily_maintenance_url(st.opts.server);
  if (!token.header.empty())
    req.headers.emplace_back("Authorization", token.header);
  req.headers.emplace_back("Accept", "application/json");
  req.timeout_sec = st.opts.request_timeout_sec;
  req.connect_timeout_sec = st.opts.connect_timeout_sec;
  auto guard = seconds_to_ms(st.opts.request_timeout_sec + st.opts.connect_timeout_sec + 5);
  self->request(st.opts.http, guard, fetch_atom_v, std::move(req))
    .then(
      [self, token, may_retry](const http_response& resp) {
        on_response(self, token, may_retry, resp);
      },
      [self](const caf::error& err) {
        read_failed(self, "request failed: " + describe_error(err));
      });
}

void read_now(reader_ptr self, bool may_retry) {
  auto& st = self->state;
  ++st.health.reads;
  // No timer while a read is under way: its outcome arms the next one.
  ++st.timer_generation;
  self->request(st.opts.tokens, token_wait, token_atom_v)
    .then([self, may_retry](const access_token& token) { send_get(self, token, may_retry); },
          [self](const caf::error& err) { read_failed(self, describe_error(err)); });
}

maintenance_reader_actor::behavior_type maintenance_reader(reader_ptr self,
                                                           maintenance_reader_options opts) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.health.server_id = st.opts.server.id;
  st.health.status = "reading; " + fallback_words(st);
  read_now(self, true);
  return {
    [self](health_atom) { return self->state.health; },
    [self](refresh_due_atom, std::uint64_t generation) {
      if (generation == self->state.timer_generation)
        read_now(self, true);
    },
  };
}

} // namespace

caf::expected<maintenance_reader_actor> spawn_maintenance_reader(caf::actor_system& sys,
                                                                 maintenance_reader_options opts) {
  if (!opts.tokens || !opts.http || !opts.listener)
    return caf::make_error(ec::epm_error,
                           "epm.servers." + opts.server.id
                             + ": the maintenance reader needs a token actor, an HTTP client "
                               "and a listener");
  opts.refresh = std::max(opts.refresh, opts.retry_initial);
  return sys.spawn(maintenance_reader, std::move(opts));
}

} // namespace epmpulse
