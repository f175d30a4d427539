#include "actors/pull/epm_router.hpp"

#include <caf/all.hpp>
#include <fmt/format.h>

#include "actors/common/log.hpp"

namespace epmpulse {

namespace {

using router_ptr = epm_router_actor::stateful_pointer<epm_router_state>;

constexpr auto snapshot_timeout = std::chrono::seconds{10};
constexpr auto snapshot_retry_delay = std::chrono::seconds{5};

poller_actor* poller_for(router_ptr self, const std::string& app) {
  auto& st = self->state;
  auto s = st.app_server.find(app);
  if (s == st.app_server.end())
    return nullptr;
  auto p = st.pollers.find(s->second);
  return p == st.pollers.end() ? nullptr : &p->second;
}

void route(router_ptr self, const domain_change& change) {
  if (!self->state.leading)
    return;
  bool unwatch = false;
  auto watch = watch_decision(change, unwatch);
  if (!watch && !unwatch)
    return;
  auto* p = poller_for(self, change.app);
  if (p == nullptr)
    return; // the app has no EPM server: pushes only
  if (watch)
    self->send(*p, watch_atom_v, std::move(*watch));
  else
    self->send(*p, unwatch_atom_v, change.app, change.domain);
}

/// Start-up: every domain still Loading with a job_id is watched again.
void request_snapshot(router_ptr self) {
  auto gen = ++self->state.snapshot_generation;
  self->request(self->state.opts.state, snapshot_timeout, snapshot_atom_v)
    .then(
      [self](const snapshot_ptr& snap) {
        auto& st = self->state;
        if (st.recovered || !snap)
          return;
        st.recovered = true;
        std::size_t watched = 0;
        for (const auto& [app, a] : snap->apps) {
          auto* p = poller_for(self, app);
          if (p == nullptr)
            continue;
          for (const auto& [domain, d] : a.domains) {
            if (d.status != job_status::loading || !d.job_id || d.job_id->empty())
              continue;
            watch_request w;
            w.app = app;
            w.domain = domain;
            w.job_id = *d.job_id;
            w.loading_since = d.started ? d.started : d.updated;
            w.loading_updated = d.updated;
            w.recovered = true;
            self->send(*p, watch_atom_v, std::move(w));
            ++watched;
          }
        }
        log::info("epm pull mode started", {{"servers", st.pollers.size()},
                                            {"recovered_jobs", watched}});
      },
      [self, gen](const caf::error& err) {
        log::warn("epm pull mode cannot read the state snapshot; retrying",
                  {{"reason", describe_error(err)},
                   {"retry_in_sec",
                    std::chrono::duration<double>(snapshot_retry_delay).count()}});
        self->delayed_send(self, snapshot_retry_delay, snapshot_retry_atom_v, gen);
      });
}

// -- health and metrics ---------------------------------------------------------------

/// One answer put together from the token actor's and every poller's; the
/// caller gets it when the last part is in. Every part is asked with
/// answer_timeout, so the last one is in by then at the latest.
template <class Result>
struct gathered_answer {
  Result result;
  std::size_t parts_left = 0;
  caf::typed_response_promise<Result> promise;

  void part_done() {
    if (--parts_left == 0)
      promise.deliver(std::move(result));
  }
};

/// Asks every actor of `actors` (id -> handle) for its health within
/// answer_timeout; `take(result, id, answer)` or `missing(result, id, error)`
/// fills its part of the gathered answer.
template <class Answer, class Result, class Actors, class Take, class Missing>
void gather_health(router_ptr self, const std::shared_ptr<gathered_answer<Result>>& g,
                   Actors& actors, Take take, Missing missing) {
  for (auto& [id, actor] : actors)
    self->request(actor, self->state.opts.answer_timeout, health_atom_v)
      .then(
        [g, take, id = id](const Answer& answer) {
          take(g->result, id, answer);
          g->part_done();
        },
        [g, missing, id = id](const caf::error& err) {
          missing(g->result, id, err);
          g->part_done();
        });
}

caf::result<epm_health> answer_health(router_ptr self) {
  auto& st = self->state;
  auto g = std::make_shared<gathered_answer<epm_health>>();
  g->promise = self->make_response_promise<epm_health>();
  g->parts_left = st.pollers.size() + st.readers.size() + 1;
  self->request(st.tokens, st.opts.answer_timeout, health_atom_v)
    .then(
      [g](const token_health& h) {
        g->result.auth = h.status;
        g->part_done();
      },
      [g](const caf::error& err) {
        g->result.auth = "error: no answer from the token actor (" + describe_error(err) + ")";
        g->part_done();
      });
  gather_health<poller_health>(
    self, g, st.pollers,
    [](epm_health& r, const std::string& id, const poller_health& h) { r.servers[id] = h.status; },
    [](epm_health& r, const std::string& id, const caf::error& err) {
      r.servers[id] = "error: no answer from the poller (" + describe_error(err) + ")";
    });
  gather_health<maintenance_read_health>(
    self, g, st.readers,
    [](epm_health& r, const std::string& id, const maintenance_read_health& h) {
      r.maintenance[id] = h.status;
    },
    [](epm_health& r, const std::string& id, const caf::error& err) {
      r.maintenance[id] = "error: no answer from the maintenance reader (" + describe_error(err)
                          + ")";
    });
  return g->promise;
}

caf::result<epm_metrics> answer_metrics(router_ptr self) {
  auto& st = self->state;
  auto g = std::make_shared<gathered_answer<epm_metrics>>();
  g->promise = self->make_response_promise<epm_metrics>();
  g->parts_left = st.pollers.size() + st.readers.size() + 1;
  self->request(st.tokens, st.opts.answer_timeout, health_atom_v)
    .then(
      [g](const token_health& h) {
        g->result.auth = h;
        g->part_done();
      },
      [g](const caf::error&) {
        g->result.auth.status = "error: no answer";
        g->part_done();
      });
  gather_health<poller_health>(
    self, g, st.pollers,
    [](epm_metrics& r, const std::string&, const poller_health& h) { r.servers.push_back(h); },
    [](epm_metrics& r, const std::string& id, const caf::error&) {
      poller_health h;
      h.server_id = id;
      h.status = "error: no answer";
      r.servers.push_back(std::move(h));
    });
  gather_health<maintenance_read_health>(
    self, g, st.readers,
    [](epm_metrics& r, const std::string&, const maintenance_read_health& h) {
      r.maintenance.push_back(h);
    },
    [](epm_metrics& r, const std::string& id, const caf::error&) {
      maintenance_read_health h;
      h.server_id = id;
      h.status = "error: no answer";
      r.maintenance.push_back(std::move(h));
    });
  return g->promise;
}

// -- the actor ------------------------------------------------------------------------

epm_router_actor::behavior_type epm_router(router_ptr self, epm_router_options opts,
                                           std::vector<http_client_actor> clients) {
  auto& st = self->state;
  st.opts = std::move(opts);
  st.tokens = std::move(st.opts.tokens);
  st.pollers = std::move(st.opts.pollers);
  st.readers = std::move(st.opts.readers);
  for (const auto& app : st.opts.config->apps)
    if (!app.server.empty())
      st.app_server[app.name] = app.server;
  // Linked: they stop with the router.
  self->link_to(st.tokens);
  for (auto& [id, p] : st.pollers)
    self->link_to(p);
  for (auto& [id, r] : st.readers)
    self->link_to(r);
  for (auto& c : clients)
    self->link_to(c);
  self->send(st.opts.state, subscribe_atom_v, change_listener_actor{self});
  st.leading = !st.opts.follows_leader;
  if (st.leading)
    request_snapshot(self);
  return {
    [self](leader_atom, bool leading) {
      auto& st = self->state;
      if (leading == st.leading)
        return;
      st.leading = leading;
      if (leading) {
        st.recovered = false;
        request_snapshot(self);
        return;
      }
      // A follower's polls would only repeat the leader's.
      self->request(st.opts.state, snapshot_timeout, snapshot_atom_v)
        .then(
          [self](const snapshot_ptr& snap) {
            if (!snap || self->state.leading)
              return;
            for (const auto& [app, a] : snap->apps)
              if (auto* p = poller_for(self, app))
                for (const auto& [domain, d] : a.domains)
                  if (d.status == job_status::loading)
                    self->send(*p, unwatch_atom_v, app, domain);
          },
          [](const caf::error&) {});
    },
    [self](changed_atom, const change_set& changes) {
      if (!changes)
        return;
      for (const auto& c : *changes)
        route(self, c);
    },
    [self](health_atom) -> caf::result<epm_health> { return answer_health(self); },
    [self](metrics_atom) -> caf::result<epm_metrics> { return answer_metrics(self); },
    [self](snapshot_retry_atom, std::uint64_t generation) {
      if (generation == self->state.snapshot_generation && !self->state.recovered)
        request_snapshot(self);
    },
  };
}

} // namespace

// -- pure parts -----------------------------------------------------------------------

bool epm_health::degraded() const {
  if (auth != "ok")
    return true;
  for (const auto& [id, status] : servers)
    if (status != "ok")
      return true;
  return false;
}

nlohmann::json epm_health::checks() const {
  auto epm = nlohmann::json::object();
  for (const auto& [id, status] : servers)
    epm[id] = status;
  nlohmann::json out{{"epm", std::move(epm)}, {"epm_auth", auth}};
  if (!maintenance.empty())
    out["epm_maintenance"] = maintenance;
  return out;
}

std::string epm_metrics::prometheus() const {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, auto value_of) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& s : servers)
      out += fmt::format("{}{{server=\"{}\"}} {}\n", name, s.server_id, value_of(s));
  };
  family("epmpulse_epm_polls_total", "counter", "EPM job-status polls started.",
         [](const poller_health& s) { return s.polls; });
  family("epmpulse_epm_poll_failures_total", "counter",
         "Polls that failed (5xx, network, 401 after retry, unreadable answer).",
         [](const poller_health& s) { return s.poll_failures; });
  family("epmpulse_epm_unauthorized_retries_total", "counter",
         "Polls retried once with a fresh token after a 401.",
         [](const poller_health& s) { return s.unauthorized_retries; });
  family("epmpulse_epm_jobs_settled_total", "counter",
         "Job results committed to the state by pull mode.",
         [](const poller_health& s) { return s.settled; });
  family("epmpulse_epm_jobs_not_found_total", "counter", "Jobs EPM answered 404 for.",
         [](const poller_health& s) { return s.not_found; });
  family("epmpulse_epm_jobs_timed_out_total", "counter",
         "Jobs given up after max_poll_duration_minutes.",
         [](const poller_health& s) { return s.timeouts; });
  family("epmpulse_epm_watched_jobs", "gauge", "Jobs being watched.",
         [](const poller_health& s) { return s.watched_jobs; });
  family("epmpulse_epm_polls_in_flight", "gauge", "Polls in flight.",
         [](const poller_health& s) { return s.in_flight; });
  family("epmpulse_epm_server_ok", "gauge", "1 when the last exchange with the server went fine.",
         [](const poller_health& s) { return s.status == "ok" ? 1 : 0; });
  auto single = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, v);
  };
  single("epmpulse_epm_token_fetches_total", "counter", "Calls to the OAuth token endpoint.",
         auth.fetches);
  single("epmpulse_epm_token_fetch_failures_total", "counter",
         "Token-endpoint calls that failed.", auth.fetch_failures);
  single("epmpulse_epm_token_invalidations_total", "counter",
         "Tokens reported invalid (401) by pollers.", auth.invalidations);
  single("epmpulse_epm_refresh_token_rotations_total", "counter",
         "New refresh tokens received from the token endpoint.", auth.rotations);
  single("epmpulse_epm_auth_ok", "gauge", "1 when EPM authentication works.",
         auth.status == "ok" ? 1 : 0);
  if (maintenance.empty())
    return out;
  auto reader_family = [&](const char* name, const char* type, const char* help,
                           auto value_of) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    for (const auto& r : maintenance)
      out += fmt::format("{}{{server=\"{}\"}} {}\n", name, r.server_id, value_of(r));
  };
  reader_family("epmpulse_epm_maintenance_reads_total", "counter",
                "Calls reading the daily maintenance time from EPM.",
                [](const maintenance_read_health& r) { return r.reads; });
  reader_family("epmpulse_epm_maintenance_read_failures_total", "counter",
                "Those calls that gave no start (the configured one stands in).",
                [](const maintenance_read_health& r) { return r.failures; });
  reader_family("epmpulse_epm_maintenance_read_ok", "gauge",
                "1 when the last read of the daily maintenance time worked.",
                [](const maintenance_read_health& r) {
                  return r.status.rfind("read ", 0) == 0 ? 1 : 0;
                });
  return out;
}

std::optional<watch_request> watch_decision(const domain_change& change, bool& unwatch) {
  unwatch = false;
  const auto& before = change.before;
  const auto& after = change.after;
  bool was_watched = before.status == job_status::loading && before.job_id
                     && !before.job_id->empty();
  bool watch = after.status == job_status::loading && after.job_id && !after.job_id->empty();
  if (watch) {
    watch_request w;
    w.app = change.app;
    w.domain = change.domain;
    w.job_id = *after.job_id;
    w.loading_since = after.started ? after.started : after.updated;
    w.loading_updated = after.updated;
    return w; // new job, or the same one again (the poller treats that as a no-op)
  }
  unwatch = was_watched;
  return std::nullopt;
}

// -- spawning -------------------------------------------------------------------------

namespace {

/// A maintenance reader for `server` when a `maintenance` entry names it
/// (sharing the poller's HTTP client: one call every few hours); nullopt when
/// none does.
std::optional<caf::expected<maintenance_reader_actor>>
spawn_reader_for(caf::actor_system& sys, const epm_router_options& opts,
                 const config::epm_server& server, const token_cache_actor& tokens,
                 const http_client_actor& http) {
  if (!opts.maintenance_listener)
    return std::nullopt;
  maintenance_reader_options ropts;
  bool named = false;
  for (const auto& m : opts.config->maintenance) {
    if (m.server != server.id)
      continue;
    named = true;
    if (m.start_minute && !ropts.configured)
      ropts.configured = time_of_day{*m.start_minute, m.time_zone};
  }
  if (!named)
    return std::nullopt;
  ropts.server = server;
  ropts.tokens = tokens;
  ropts.http = http;
  ropts.listener = opts.maintenance_listener;
  return spawn_maintenance_reader(sys, std::move(ropts));
}

/// Spawns the token actor and one poller per server, each with its own HTTP
/// client, into `opts`. On failure stops what it spawned and returns why.
caf::error spawn_pull_parts(caf::actor_system& sys, epm_router_options& opts,
                            std::vector<http_client_actor>& clients) {
  const auto& cfg = *opts.config;
  auto stop_all = [&](auto&... more) {
    for (auto& c : clients)
      caf::anon_send_exit(c, caf::exit_reason::user_shutdown);
    clients.clear();
    (caf::anon_send_exit(more, caf::exit_reason::user_shutdown), ...);
  };
  // The token endpoint gets its own client: a slow pod cannot delay tokens.
  clients.push_back(spawn_http_client(sys, 2));
  token_cache_options topts;
  topts.auth = cfg.epm.auth;
  topts.data_dir = opts.data_dir;
  topts.http = clients.back();
  topts.min_remaining = opts.token_min_remaining;
  topts.refresh_before = opts.token_refresh_before;
  topts.backoff_initial = opts.token_backoff_initial;
  topts.backoff_max = opts.token_backoff_max;
  auto tokens = spawn_token_cache(sys, std::move(topts));
  if (!tokens) {
    stop_all();
    return tokens.error();
  }
  std::map<std::string, poller_actor> pollers;
  for (const auto& server : cfg.epm.servers) {
    poller_options popts;
    popts.server = server;
    popts.pull = cfg.settings.pull_mode;
    popts.tokens = *tokens;
    clients.push_back(spawn_http_client(sys, std::max(1, cfg.settings.pull_mode
                                                           .max_concurrent_polls_per_server)));
    popts.http = clients.back();
    popts.state = opts.state;
    auto p = spawn_poller(sys, std::move(popts));
    if (!p) {
      stop_all(*tokens);
      for (auto& [id, other] : pollers)
        caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
      return p.error();
    }
    pollers.emplace(server.id, *p);
    if (auto reader = spawn_reader_for(sys, opts, server, *tokens, clients.back())) {
      if (!*reader) {
        stop_all(*tokens);
        for (auto& [id, other] : pollers)
          caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
        for (auto& [id, other] : opts.readers)
          caf::anon_send_exit(other, caf::exit_reason::user_shutdown);
        return reader->error();
      }
      opts.readers.emplace(server.id, **reader);
    }
  }
  opts.tokens = *tokens;
  opts.pollers = std::move(pollers);
  return caf::none;
}

} // namespace

caf::expected<epm_router_actor> spawn_epm_router(caf::actor_system& sys,
                                                 epm_router_options opts) {
  if (!opts.config || !opts.state)
    return caf::make_error(ec::epm_error, "pull mode needs the config and the state actor");
  std::vector<http_client_actor> clients;
  if (!opts.tokens)
    if (auto err = spawn_pull_parts(sys, opts, clients))
      return err;
  for (const auto& app : opts.config->apps)
    if (!app.server.empty() && opts.pollers.count(app.server) == 0)
      log::warn("app names an EPM server that is not configured; it is not polled",
                {{"app", app.name}, {"server", app.server}});
  return sys.spawn(epm_router, std::move(opts), std::move(clients));
}

} // namespace epmpulse
