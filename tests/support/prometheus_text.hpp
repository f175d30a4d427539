#pragma once

// Reads a Prometheus text-format scrape (version 0.0.4) for assertions.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace epmpulse::test {

struct prometheus_sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct prometheus_scrape {
  std::vector<prometheus_sample> samples;
  std::map<std::string, std::string> types; ///< family name -> counter, gauge, histogram, ...

  /// Parses `text`; throws std::runtime_error naming a line it cannot read.
  static prometheus_scrape parse(const std::string& text);

  /// The samples named `name` whose labels include every one of `labels`.
  std::vector<prometheus_sample> find(const std::string& name,
                                      const std::map<std::string, std::string>& labels = {}) const;

  /// The value of the one sample matching, nothing when none does.
  std::optional<double> value(const std::string& name,
                              const std::map<std::string, std::string>& labels = {}) const;

  /// True when a family of that name was declared (# TYPE) or has samples.
  bool has_family(const std::string& name) const;
};

/// Every epmpulse_* metric name in the `expr` of a Prometheus rules file
/// (single-line exprs and `expr: |` blocks), with a histogram's _bucket,
/// _sum and _count suffixes kept as written.
std::set<std::string> metric_names_in_rules(const std::string& rules_yaml);

} // namespace epmpulse::test
