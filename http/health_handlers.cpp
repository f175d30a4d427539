#include "http/health_handlers.hpp"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace epmpulse::http {

using nlohmann::json;

namespace {

const auto process_start = std::chrono::steady_clock::now();

// Asks the registered probes one after the other (health is not a hot path,
// and a chain needs no shared mutable aggregate), then answers. Only a state
// that cannot be written answers 503: then no push can be confirmed and a
// load balancer should stop sending them here. A Slack or EPM outage makes the
// service "degraded" with 200: pushes are still safe, and taking the service
// out of rotation would lose them.
void collect_health(std::shared_ptr<json> checks, bool state_ok, bool degraded, std::size_t next,
                    request_scope scope) {
  const auto& probes = scope.services.health_probes;
  if (next == probes.size()) {
    json body = {{"status", degraded ? "degraded" : "healthy"},
                 {"version", EPMPULSE_VERSION},
                 {"uptime_sec", std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::steady_clock::now() - process_start)
                                  .count()},
                 {"checks", std::move(*checks)}};
    scope.out->send(state_ok ? 200 : 503, body.dump());
    return;
  }
  probes[next]([checks, state_ok, degraded, next, scope](health_report part) {
    for (auto& [key, value] : part.checks.items())
      (*checks)[key] = value;
    collect_health(checks, state_ok, degraded || part.degraded, next + 1, scope);
  });
}

void collect_metrics(std::shared_ptr<std::string> text, std::size_t next, request_scope scope) {
  const auto& probes = scope.services.metrics_probes;
  if (next == probes.size()) {
    scope.out->set_content_type("text/plain; version=0.0.4");
    scope.out->send(200, std::move(*text));
    return;
  }
  probes[next]([text, next, scope](std::string lines) {
    *text += lines;
    collect_metrics(text, next + 1, scope);
  });
}

void metric(std::string& out, const char* name, const char* type, const char* help, double value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

} // namespace

void handle_health(request_scope& scope) {
  scope.services.edge.ask<state_health>(
    scope.out, scope.services.state, [scope](state_health& h) {
      auto checks = std::make_shared<json>(json::object());
      // Only a change log that cannot be appended to stops confirmations; a
      // state file that cannot be rewritten loses nothing (the log holds it).
      (*checks)["change_log"] = h.file_ok ? "ok" : "error: the change log cannot be written";
      (*checks)["state_file"] =
        h.snapshot_ok ? "ok"
                      : "error: the state file cannot be rewritten (changes are safe in the log)";
      (*checks)["last_update"] = h.last_update ? json(format_time(*h.last_update)) : json(nullptr);
      collect_health(checks, h.file_ok, !h.file_ok || !h.snapshot_ok, 0, scope);
    }, health_atom_v);
}

void handle_metrics(request_scope& scope) {
  scope.services.edge.ask<state_health>(
    scope.out, scope.services.state, [scope](state_health& h) {
      const auto& c = *scope.services.counters;
      auto text = std::make_shared<std::string>();
      metric(*text, "epmpulse_http_requests_total", "counter", "HTTP requests received.",
             static_cast<double>(c.requests.load()));
      *text += "# HELP epmpulse_http_responses_total HTTP responses by status class.\n"
               "# TYPE epmpulse_http_responses_total counter\n";
      *text += fmt::format("epmpulse_http_responses_total{{class=\"2xx\"}} {}\n",
                           c.responses_2xx.load());
      *text += fmt::format("epmpulse_http_responses_total{{class=\"3xx\"}} {}\n",
                           c.responses_3xx.load());
      *text += fmt::format("epmpulse_http_responses_total{{class=\"4xx\"}} {}\n",
                           c.responses_4xx.load());
      *text += fmt::format("epmpulse_http_responses_total{{class=\"5xx\"}} {}\n",
                           c.responses_5xx.load());
      metric(*text, "epmpulse_http_in_flight", "gauge", "Requests accepted and not yet answered.",
             static_cast<double>(c.in_flight.load()));
      metric(*text, "epmpulse_state_commits_total", "counter",
             "Durable (fdatasync'd) appends to the change log.", static_cast<double>(h.commits));
      metric(*text, "epmpulse_state_committed_requests_total", "counter",
             "Update requests confirmed by those appends (their ratio is the group-commit size).",
             static_cast<double>(h.committed_updates));
      metric(*text, "epmpulse_state_version", "gauge", "State version (change log position).",
             static_cast<double>(h.version));
      metric(*text, "epmpulse_state_log_ok", "gauge", "1 when the last change log append succeeded.",
             h.file_ok ? 1.0 : 0.0);
      metric(*text, "epmpulse_state_snapshots_total", "counter",
             "Rewrites of the JSON state file from the change log.",
             static_cast<double>(h.snapshots));
      metric(*text, "epmpulse_state_snapshot_lag", "gauge",
             "State versions not yet in the JSON state file.",
             static_cast<double>(h.snapshot_lag));
      metric(*text, "epmpulse_state_file_ok", "gauge",
             "1 when the last JSON state file rewrite succeeded.", h.snapshot_ok ? 1.0 : 0.0);
      collect_metrics(text, 0, scope);
    }, health_atom_v);
}

} // namespace epmpulse::http
