#include "actors/history/history_stats.hpp"

#include <algorithm>
#include <cmath>

namespace epmpulse {

namespace history_stats_impl {

// Nearest-rank percentile of sorted values.
std::optional<double> percentile(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty())
    return std::nullopt;
  auto rank = static_cast<std::size_t>(std::ceil(p * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]);
}

std::optional<double> median(std::vector<std::int64_t> values) {
  if (values.empty())
    return std::nullopt;
  std::sort(values.begin(), values.end());
  auto n = values.size();
  if (n % 2 == 1)
    return static_cast<double>(values[n / 2]);
  return (static_cast<double>(values[n / 2 - 1]) + static_cast<double>(values[n / 2])) / 2.0;
}

} // namespace history_stats_impl

void run_aggregator::add(const std::string& app, const std::string& domain, job_status status,
                         std::optional<std::int64_t> duration, time_point received) {
  auto& d = by_domain_[{app, domain}];
  if (d.stats.app.empty()) {
    d.stats.app = app;
    d.stats.domain = domain;
  }
  ++d.stats.runs;
  if (status == job_status::ok)
    ++d.stats.successes;
  else
    ++d.stats.warnings;
  if (!d.stats.last_run || received > *d.stats.last_run)
    d.stats.last_run = received;
  auto& day = d.days[format_time(received).substr(0, 10)];
  ++day.first;
  if (duration) {
    d.durations.push_back(*duration);
    day.second.push_back(*duration);
  }
}

stats_result run_aggregator::finish(int days) {
  stats_result out;
  out.days = days;
  for (auto& [key, d] : by_domain_) {
    std::sort(d.durations.begin(), d.durations.end());
    d.stats.median_duration_sec = history_stats_impl::median(d.durations);
    d.stats.p95_duration_sec = history_stats_impl::percentile(d.durations, 0.95);
    for (auto& [day, runs] : d.days)
      d.stats.trend.push_back({day, runs.first, history_stats_impl::median(std::move(runs.second))});
    out.domains.push_back(std::move(d.stats));
  }
  by_domain_.clear();
  return out;
}

} // namespace epmpulse
