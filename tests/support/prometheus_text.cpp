#include "tests/support/prometheus_text.hpp"

#include <cmath>
#include <regex>
#include <sstream>
#include <stdexcept>

namespace epmpulse::test {

namespace {

std::size_t indentation(const std::string& line) {
  auto n = line.find_first_not_of(' ');
  return n == std::string::npos ? line.size() : n;
}

} // namespace

prometheus_scrape prometheus_scrape::parse(const std::string& text) {
  static const std::regex sample_line(R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$)");
  static const std::regex label(R"(([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)\",?)");
  prometheus_scrape out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, type;
      words >> name >> type;
      out.types[name] = type;
      continue;
    }
    if (line[0] == '#')
      continue;
    std::smatch m;
    if (!std::regex_match(line, m, sample_line))
      throw std::runtime_error("not a Prometheus sample line: " + line);
    prometheus_sample s;
    s.name = m[1];
    std::string labels = m[3];
    for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it)
      s.labels[(*it)[1]] = (*it)[2];
    s.value = m[4] == "+Inf" ? HUGE_VAL : std::stod(m[4]);
    out.samples.push_back(std::move(s));
  }
  return out;
}

std::vector<prometheus_sample> prometheus_scrape::find(
  const std::string& name, const std::map<std::string, std::string>& labels) const {
  std::vector<prometheus_sample> out;
  for (const auto& s : samples) {
    if (s.name != name)
      continue;
    bool all = true;
    for (const auto& [k, v] : labels) {
      auto it = s.labels.find(k);
      all = all && it != s.labels.end() && it->second == v;
    }
    if (all)
      out.push_back(s);
  }
  return out;
}

std::optional<double> prometheus_scrape::value(
  const std::string& name, const std::map<std::string, std::string>& labels) const {
  auto found = find(name, labels);
  if (found.size() != 1)
    return std::nullopt;
  return found.front().value;
}

bool prometheus_scrape::has_family(const std::string& name) const {
  if (types.count(name))
    return true;
  for (const auto& s : samples)
    if (s.name == name)
      return true;
  return false;
}

std::set<std::string> metric_names_in_rules(const std::string& rules_yaml) {
  static const std::regex expr_key(R"(^\s*(- )?expr:\s*(.*)$)");
  static const std::regex metric_name(R"(\bepmpulse_[a-z0-9_]+)");
  std::set<std::string> out;
  auto collect = [&](const std::string& expr) {
    for (std::sregex_iterator it(expr.begin(), expr.end(), metric_name), end; it != end; ++it)
      out.insert(it->str());
  };
  std::istringstream in(rules_yaml);
  std::string line;
  std::optional<std::size_t> block_indent; // inside `expr: |`, its key's indentation
  while (std::getline(in, line)) {
    if (block_indent) {
      if (line.find_first_not_of(' ') == std::string::npos || indentation(line) > *block_indent) {
        collect(line);
        continue;
      }
      block_indent.reset();
    }
    std::smatch m;
    if (!std::regex_match(line, m, expr_key))
      continue;
    std::string value = m[2];
    if (value == "|" || value == ">" || value == "|-" || value == ">-")
      block_indent = indentation(line);
    else
      collect(value);
  }
  return out;
}

} // namespace epmpulse::test
