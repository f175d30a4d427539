#include "http/metrics_text.hpp"

#include <array>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "http/embedded_data.hpp"

namespace epmpulse::http {

namespace {

const auto process_start = std::chrono::steady_clock::now();

constexpr std::array<const char*, response_classes> class_names = {"2xx", "3xx", "4xx", "5xx"};

// Label values as the exposition format wants them: \, " and newline escaped.
std::string label_value(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || c == '"')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

std::string seconds_of_us(std::uint64_t us) {
  return fmt::format("{}", static_cast<double>(us) / 1e6);
}

} // namespace

std::chrono::seconds process_uptime() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now()
                                                          - process_start);
}

int status_number(job_status s) {
  switch (s) {
    case job_status::blank: return 0;
    case job_status::ok: return 1;
    case job_status::loading: return 2;
    case job_status::warning: return 3;
  }
  return 0;
}

std::string route_metrics(const server_counters& c) {
  std::string out;
  auto label_of = [&](std::size_t slot) {
    if (slot < c.route_labels.size())
      return fmt::format("method=\"{}\",route=\"{}\"", c.route_labels[slot].first,
                         label_value(c.route_labels[slot].second));
    return std::string("method=\"other\",route=\"other\"");
  };
  // Slots in table order, then the one for requests that matched no route.
  std::vector<std::size_t> slots;
  for (std::size_t i = 0; i < c.route_labels.size() && i < max_routes; ++i)
    slots.push_back(i);
  slots.push_back(max_routes);

  family(out, "epmpulse_http_request_duration_seconds", "histogram",
         "Time from receiving a request to handing its answer to the connection, per route.");
  for (auto slot : slots) {
    const auto& r = c.by_route[slot];
    auto labels = label_of(slot);
    std::uint64_t cumulative = 0;
    for (std::size_t b = 0; b < latency_bucket_bounds_us.size(); ++b) {
      cumulative += r.latency[b].load(std::memory_order_relaxed);
      out += fmt::format("epmpulse_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n",
                         labels, seconds_of_us(latency_bucket_bounds_us[b]), cumulative);
    }
    cumulative += r.latency.back().load(std::memory_order_relaxed);
    out += fmt::format("epmpulse_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n",
                       labels, cumulative);
    out += fmt::format("epmpulse_http_request_duration_seconds_sum{{{}}} {}\n", labels,
                       seconds_of_us(r.latency_sum_us.load(std::memory_order_relaxed)));
    out += fmt::format("epmpulse_http_request_duration_seconds_count{{{}}} {}\n", labels,
                       cumulative);
  }
  family(out, "epmpulse_http_route_responses_total", "counter",
         "HTTP responses per route and status class.");
  for (auto slot : slots) {
    auto labels = label_of(slot);
    for (std::size_t k = 0; k < response_classes; ++k)
      out += fmt::format("epmpulse_http_route_responses_total{{{},class=\"{}\"}} {}\n", labels,
                         class_names[k],
                         c.by_route[slot].responses[k].load(std::memory_order_relaxed));
  }
  return out;
}

std::string process_metrics(const server_counters& c) {
  std::string out;
  family(out, "epmpulse_uptime_seconds", "gauge", "Seconds since the process started.");
  out += fmt::format("epmpulse_uptime_seconds {}\n", process_uptime().count());
  family(out, "epmpulse_build_info", "gauge",
         "Always 1; the labels name the version and the git commit it was built from.");
  out += fmt::format("epmpulse_build_info{{version=\"{}\",commit=\"{}\"}} 1\n",
                     label_value(EPMPULSE_VERSION), label_value(git_commit()));
  family(out, "epmpulse_http_open_connections", "gauge",
         "Client connections open now (at most settings.server.max_connections).");
  out += fmt::format("epmpulse_http_open_connections {}\n",
                     c.open_connections.load(std::memory_order_relaxed));
  return out;
}

std::string domain_metrics(std::string_view all_status_body, time_point now, std::size_t cap) {
  auto body = nlohmann::json::parse(all_status_body, nullptr, false);
  std::string status_lines, age_lines, duration_lines;
  std::map<std::string, std::uint64_t> by_status = {
    {"Blank", 0}, {"OK", 0}, {"Loading", 0}, {"Warning", 0}};
  std::size_t exported = 0, dropped = 0;
  const bool readable = body.is_object() && body.contains("apps") && body["apps"].is_object();
  if (readable) {
    for (const auto& [app, domains] : body["apps"].items()) {
      if (!domains.is_object())
        continue;
      for (const auto& [domain, d] : domains.items()) {
        auto status = parse_status(d.value("status", ""));
        if (!status)
          continue;
        ++by_status[to_string(*status)];
        if (exported == cap) {
          ++dropped;
          continue;
        }
        ++exported;
        auto labels = fmt::format("app=\"{}\",domain=\"{}\"", label_value(app), label_value(domain));
        status_lines += fmt::format("epmpulse_domain_status{{{}}} {}\n", labels,
                                    status_number(*status));
        if (auto updated = d.find("updated"); updated != d.end() && updated->is_string())
          if (auto at = parse_time(updated->get<std::string>()))
            age_lines += fmt::format("epmpulse_domain_seconds_since_update{{{}}} {}\n", labels,
                                     std::chrono::duration<double>(now - *at).count());
        if (auto duration = d.find("duration_sec");
            duration != d.end() && duration->is_number())
          duration_lines += fmt::format("epmpulse_domain_last_run_duration_seconds{{{}}} {}\n",
                                        labels, duration->get<double>());
      }
    }
  }
  std::string out;
  family(out, "epmpulse_domains", "gauge", "Domains by status (every domain, never capped).");
  for (const auto& [name, n] : by_status)
    out += fmt::format("epmpulse_domains{{status=\"{}\"}} {}\n", name, n);
  family(out, "epmpulse_domain_status", "gauge",
         "A domain's status: Blank 0, OK 1, Loading 2, Warning 3.");
  out += status_lines;
  family(out, "epmpulse_domain_seconds_since_update", "gauge",
         "Seconds since the domain's last update (absent for a domain never updated).");
  out += age_lines;
  family(out, "epmpulse_domain_last_run_duration_seconds", "gauge",
         "Duration of the domain's last run, Loading to OK or Warning under one job_id.");
  out += duration_lines;
  family(out, "epmpulse_domain_series_dropped", "gauge",
         "Domains left without their own series at this scrape (over the cap).");
  out += fmt::format("epmpulse_domain_series_dropped {}\n", dropped);
  return out;
}

} // namespace epmpulse::http
