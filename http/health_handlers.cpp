#include "http/health_handlers.hpp"

#include <chrono>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/edge.hpp"
#include "http/metrics_text.hpp"

namespace epmpulse::http {

using nlohmann::json;

namespace {

// GET /health asks the parts one after the other (health is not a hot path,
// and a chain needs no shared mutable aggregate). Only a change log that
// cannot be written answers 503: then no push can be confirmed and a load
// balancer should stop sending them here. A Slack or EPM outage makes the
// service "degraded" with 200: pushes are still safe, and taking the service
// out of rotation would lose them. A part that does not answer is a
// degraded check, not a failed request.
struct health_answer {
  json checks = json::object();
  bool state_ok = true;
  bool degraded = false;
};

using health_ptr = std::shared_ptr<health_answer>;

void send_health(responder& out, const health_answer& answer) {
  json body = {{"status", answer.degraded ? "degraded" : "healthy"},
               {"version", EPMPULSE_VERSION},
               {"uptime_sec", process_uptime().count()},
               {"checks", answer.checks}};
  out.send(answer.state_ok ? 200 : 503, body.dump());
}

void merge_checks(health_answer& answer, const json& checks, bool degraded) {
  for (const auto& [key, value] : checks.items())
    answer.checks[key] = value;
  answer.degraded = answer.degraded || degraded;
}

bool degraded(const canvas_health& h) {
  return h.degraded;
}

bool degraded(const epm_health& h) {
  return h.degraded();
}

bool degraded(const cluster_health& h) {
  return h.degraded();
}

// Asks one part (when it runs) for its health, merges it, then goes on with
// `next`. A part that does not answer is the check `silent_check` in error.
template <class Health, class Handle, class Next>
void ask_part_health(edge_self self, const Handle& part, const char* silent_check,
                     health_ptr answer, Next next) {
  if (!part) {
    next();
    return;
  }
  self->request(part, caf::infinite, health_atom_v)
    .then(
      [answer, next](Health& h) {
        merge_checks(*answer, h.checks(), degraded(h));
        next();
      },
      [answer, next, silent_check](caf::error& err) {
        merge_checks(*answer,
                     {{silent_check, "error: no answer (" + describe_error(err) + ")"}}, true);
        next();
      });
}

// The same for a part's Prometheus lines; a part that does not answer adds
// none.
template <class Metrics, class Handle, class Next>
void ask_part_metrics(edge_self self, const Handle& part, std::shared_ptr<std::string> text,
                      Next next) {
  if (!part) {
    next();
    return;
  }
  self->request(part, caf::infinite, metrics_atom_v)
    .then(
      [text, next](Metrics& m) {
        *text += m.prometheus();
        next();
      },
      [next](caf::error&) { next(); });
}

// The per-domain gauges, from the state actor's all-apps GET body (the one
// it keeps serialised for readers: no extra copy of the state).
template <class Next>
void ask_domain_metrics(edge_self self, const state_store_actor& state,
                        std::shared_ptr<std::string> text, Next next) {
  self->request(state, caf::infinite, get_atom_v, status_query{})
    .then(
      [text, next](status_representation& body) {
        if (body.bytes)
          *text += domain_metrics(*body.bytes, now_ms());
        next();
      },
      [next](caf::error&) { next(); });
}

void metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

std::string server_and_state_metrics(const server_counters& c, const state_health& h) {
  std::string text;
  metric(text, "epmpulse_http_requests_total", "counter", "HTTP requests received.",
         static_cast<double>(c.requests.load()));
  text += "# HELP epmpulse_http_responses_total HTTP responses by status class.\n"
          "# TYPE epmpulse_http_responses_total counter\n";
  text += fmt::format("epmpulse_http_responses_total{{class=\"2xx\"}} {}\n", c.responses_2xx.load());
  text += fmt::format("epmpulse_http_responses_total{{class=\"3xx\"}} {}\n", c.responses_3xx.load());
  text += fmt::format("epmpulse_http_responses_total{{class=\"4xx\"}} {}\n", c.responses_4xx.load());
  text += fmt::format("epmpulse_http_responses_total{{class=\"5xx\"}} {}\n", c.responses_5xx.load());
  metric(text, "epmpulse_http_in_flight", "gauge", "Requests accepted and not yet answered.",
         static_cast<double>(c.in_flight.load()));
  metric(text, "epmpulse_state_commits_total", "counter",
         "Durable (fdatasync'd) appends to the change log.", static_cast<double>(h.commits));
  metric(text, "epmpulse_state_committed_requests_total", "counter",
         "Update requests confirmed by those appends (their ratio is the group-commit size).",
         static_cast<double>(h.committed_updates));
  metric(text, "epmpulse_state_version", "gauge", "State version (change log position).",
         static_cast<double>(h.version));
  text += "# HELP epmpulse_state_last_update_timestamp_seconds When the state last changed "
          "(Unix time; absent before the first update).\n"
          "# TYPE epmpulse_state_last_update_timestamp_seconds gauge\n";
  if (h.last_update)
    text += fmt::format("epmpulse_state_last_update_timestamp_seconds {}\n",
                        std::chrono::duration<double>(h.last_update->time_since_epoch()).count());
  metric(text, "epmpulse_state_log_ok", "gauge", "1 when the last change log append succeeded.",
         h.file_ok ? 1.0 : 0.0);
  metric(text, "epmpulse_state_snapshots_total", "counter",
         "Rewrites of the JSON state file from the change log.", static_cast<double>(h.snapshots));
  metric(text, "epmpulse_state_snapshot_lag", "gauge",
         "State versions not yet in the JSON state file.", static_cast<double>(h.snapshot_lag));
  metric(text, "epmpulse_state_file_ok", "gauge",
         "1 when the last JSON state file rewrite succeeded.", h.snapshot_ok ? 1.0 : 0.0);
  return text;
}

} // namespace

void handle_health(request_scope& scope) {
  const http_services& services = scope.services;
  auto out = scope.out;
  services.edge.ask<state_health>(
    out, services.state,
    [&services, out](edge_self self, state_health& h) {
      auto answer = std::make_shared<health_answer>();
      // Only a change log that cannot be appended to stops confirmations;
      // a state file that cannot be rewritten loses nothing (the log
      // holds it).
      if (h.database) {
        // The database check itself comes from the leader election's session.
        answer->checks["commits"] =
          h.file_ok ? "ok" : "error: the database does not confirm commits";
      } else {
        answer->checks["change_log"] =
          h.file_ok ? "ok" : "error: the change log cannot be written";
        answer->checks["state_file"] =
          h.snapshot_ok ? "ok"
                        : "error: the state file cannot be rewritten (changes are safe in the log)";
      }
      answer->checks["last_update"] =
        h.last_update ? json(format_time(*h.last_update)) : json(nullptr);
      answer->state_ok = h.file_ok;
      answer->degraded = !h.file_ok || !h.snapshot_ok;
      ask_part_health<canvas_health>(self, services.canvas, "slack_api", answer, [=, &services] {
        ask_part_health<epm_health>(self, services.epm, "epm_auth", answer, [=, &services] {
          ask_part_health<cluster_health>(self, services.elector, "database", answer,
                                          [out, answer] {
                                            // No database, no confirmed push: 503.
                                            if (answer->checks.contains("database")
                                                && answer->checks["database"] != "ok")
                                              answer->state_ok = false;
                                            send_health(*out, *answer);
                                          });
        });
      });
    },
    health_atom_v);
}

void handle_metrics(request_scope& scope) {
  const http_services& services = scope.services;
  auto out = scope.out;
  services.edge.ask<state_health>(
    out, services.state,
    [&services, out](edge_self self, state_health& h) {
      auto text =
        std::make_shared<std::string>(server_and_state_metrics(*services.counters, h));
      *text += route_metrics(*services.counters);
      *text += process_metrics(*services.counters);
      *text += key_metrics(*services.keys);
      ask_part_metrics<canvas_metrics>(self, services.canvas, text, [=, &services] {
        ask_part_metrics<epm_metrics>(self, services.epm, text, [=, &services] {
          ask_part_metrics<alert_metrics>(self, services.evaluator, text, [=, &services] {
            ask_part_metrics<alert_metrics>(self, services.alerts, text, [=, &services] {
              ask_domain_metrics(self, services.state, text, [out, text] {
                out->set_content_type("text/plain; version=0.0.4");
                out->send(200, std::move(*text));
              });
            });
          });
        });
      });
    },
    health_atom_v);
}

} // namespace epmpulse::http
