#include "config/config_expectations.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>

namespace epmpulse::config {

namespace {

using std::chrono::seconds;

seconds from_minutes(double m) {
  return seconds{static_cast<std::int64_t>(std::llround(m * 60))};
}

const char* cron_fix =
  "write five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * 1-5\" "
  "(02:00 Monday to Friday) or \"30 6 * * *\" (06:30 daily)";

std::string read_time_zone(const config_reader& reader, const config_json& object,
                           const std::string& path) {
  std::string zone = reader.read_string(object, "time_zone", path, "UTC");
  if (!is_known_time_zone(zone))
    reader.fail(child_path(path, "time_zone"), "unknown time zone " + in_quotes(zone),
                "use \"UTC\" or a name from the tz database, e.g. \"Europe/Berlin\"");
  return zone;
}

run_schedule parse_schedule(const config_reader& reader, const config_json& object,
                            const std::string& path) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path, {"cron", "time_zone", "every_minutes"});
  bool has_cron = config_reader::member(object, "cron") != nullptr;
  bool has_every = config_reader::member(object, "every_minutes") != nullptr;
  if (has_cron == has_every)
    reader.fail(path, "needs exactly one of \"cron\" and \"every_minutes\"",
                "write {\"cron\": \"0 2 * * 1-5\", \"time_zone\": \"Europe/Berlin\"} or "
                "{\"every_minutes\": 1440}");
  run_schedule s;
  if (has_cron) {
    auto text = reader.read_string(object, "cron", path, "");
    std::string problem;
    s.cron = parse_cron(text, problem);
    if (!s.cron)
      reader.fail(child_path(path, "cron"), in_quotes(text) + " " + problem, cron_fix);
    s.time_zone = read_time_zone(reader, object, path);
  } else {
    if (config_reader::member(object, "time_zone"))
      reader.fail(child_path(path, "time_zone"), "applies to \"cron\" only",
                  "remove it: an interval counts from the last update");
    s.every = from_minutes(
      reader.read_number(object, "every_minutes", path, limits::expectations::every_minutes));
  }
  return s;
}

std::optional<seconds> read_optional_duration(const config_reader& reader,
                                              const config_json& object, std::string_view key,
                                              const std::string& path,
                                              const limits::number_limit& limit, double unit_sec) {
  if (!config_reader::member(object, key))
    return std::nullopt;
  return seconds{
    static_cast<std::int64_t>(std::llround(reader.read_number(object, key, path, limit) * unit_sec))};
}

const app_config& find_app_or_fail(const config_reader& reader, const service_config& cfg,
                                   const std::string& name, const std::string& field) {
  if (const auto* app = cfg.find_app(name))
    return *app;
  std::string names;
  for (const auto& a : cfg.apps)
    names += (names.empty() ? "" : ", ") + a.name;
  reader.fail(field, "app " + in_quotes(name) + " is not configured",
              "use one of the apps under \"apps\": " + names);
}

void require_listed_domain(const config_reader& reader, const app_config& app,
                           const std::string& domain, const std::string& field) {
  if (std::find(app.domains.begin(), app.domains.end(), domain) == app.domains.end())
    reader.fail(field, in_quotes(domain) + " is not a domain of app " + in_quotes(app.name),
                "add it to apps." + app.name + ".domains or correct the name");
}

/// "App/Domain" or "App" as the domains it names.
std::vector<std::string> upstream_domains(const config_reader& reader, const service_config& cfg,
                                          const std::string& ref, const std::string& field) {
  auto slash = ref.find('/');
  const auto& app = find_app_or_fail(reader, cfg, ref.substr(0, slash), field);
  if (slash == std::string::npos) {
    if (app.domains.empty())
      reader.fail(field, "app " + in_quotes(app.name) + " lists no domains to wait for",
                  "name one domain as \"" + app.name + "/<domain>\" or list the app's domains");
    std::vector<std::string> out;
    for (const auto& d : app.domains)
      out.push_back(app.name + "/" + d);
    return out;
  }
  auto domain = ref.substr(slash + 1);
  require_listed_domain(reader, app, domain, field);
  return {ref};
}

expectation_config parse_expectation(const config_reader& reader, const config_json& object,
                                     const std::string& path, const service_config& cfg) {
  reader.require_object(object, path);
  reader.reject_unknown_keys(object, path,
                             {"app", "domain", "schedule", "grace_minutes",
                              "max_duration_minutes", "min_duration_sec", "after",
                              "alert_after_failures", "reminder_hours"});
  expectation_config e;
  e.field = path;
  if (!config_reader::member(object, "app"))
    reader.fail(child_path(path, "app"), "is missing", "name the app this expectation is about");
  e.app = reader.read_string(object, "app", path, "");
  const auto& app = find_app_or_fail(reader, cfg, e.app, child_path(path, "app"));
  e.domain = reader.read_string(object, "domain", path, "");
  if (!e.domain.empty())
    require_listed_domain(reader, app, e.domain, child_path(path, "domain"));
  else if (app.domains.empty())
    reader.fail(child_path(path, "domain"),
                "is left out, so the expectation is for every domain of " + in_quotes(e.app)
                  + ", but the app lists none",
                "name the domain or list the app's domains");
  if (const auto* schedule = config_reader::member(object, "schedule"))
    e.schedule = parse_schedule(reader, *schedule, child_path(path, "schedule"));
  e.grace = from_minutes(
    reader.read_number(object, "grace_minutes", path, limits::expectations::grace_minutes));
  e.max_duration = read_optional_duration(reader, object, "max_duration_minutes", path,
                                          limits::expectations::max_duration_minutes, 60);
  e.min_duration = read_optional_duration(reader, object, "min_duration_sec", path,
                                          limits::expectations::min_duration_sec, 1);
  if (e.max_duration && e.min_duration && *e.min_duration >= *e.max_duration)
    reader.fail(child_path(path, "min_duration_sec"), "is not below max_duration_minutes",
                "a run cannot be both long enough and not too long: lower min_duration_sec");
  if (!e.schedule && !e.max_duration && !e.min_duration)
    reader.fail(path, "expects nothing: no schedule, max_duration_minutes or min_duration_sec",
                "add a \"schedule\" (e.g. {\"cron\": \"0 2 * * *\"}) or a duration limit");
  auto field_after = child_path(path, "after");
  auto after = reader.read_string_array(object, "after", path);
  for (std::size_t i = 0; i < after.size(); ++i)
    for (auto& d : upstream_domains(reader, cfg, after[i], index_path(field_after, i)))
      e.after.push_back(std::move(d));
  if (config_reader::member(object, "alert_after_failures"))
    e.alert_after_failures = reader.read_whole_number(object, "alert_after_failures", path,
                                                      limits::alerts::alert_after_failures);
  if (config_reader::member(object, "reminder_hours"))
    e.reminder_hours =
      reader.read_number(object, "reminder_hours", path, limits::alerts::reminder_hours);
  return e;
}

std::vector<std::string> covered_domains(const expectation_config& e, const service_config& cfg) {
  if (!e.domain.empty())
    return {e.app + "/" + e.domain};
  std::vector<std::string> out;
  for (const auto& d : cfg.find_app(e.app)->domains)
    out.push_back(e.app + "/" + d);
  return out;
}

// A domain waiting (through others) for itself would be held forever.
void reject_cycles(const config_reader& reader, const std::vector<expectation_config>& list,
                   const service_config& cfg) {
  std::map<std::string, std::vector<std::string>> upstream;
  std::map<std::string, std::string> field_of;
  for (const auto& e : list)
    for (const auto& d : covered_domains(e, cfg)) {
      upstream[d] = e.after;
      field_of[d] = child_path(e.field, "after");
    }
  std::map<std::string, int> mark; // 1 = on the path, 2 = done
  std::function<void(const std::string&, std::vector<std::string>&)> visit =
    [&](const std::string& d, std::vector<std::string>& path) {
      mark[d] = 1;
      path.push_back(d);
      for (const auto& u : upstream[d]) {
        if (mark[u] == 1) {
          std::string cycle;
          auto from = std::find(path.begin(), path.end(), u);
          for (auto it = from; it != path.end(); ++it)
            cycle += *it + " -> ";
          reader.fail(field_of[d], "makes a cycle: " + cycle + u,
                      "remove one of these \"after\" entries; a domain cannot wait for itself");
        }
        if (mark[u] == 0)
          visit(u, path);
      }
      path.pop_back();
      mark[d] = 2;
    };
  for (const auto& [d, ups] : upstream) {
    std::vector<std::string> path;
    if (mark[d] == 0)
      visit(d, path);
  }
}

} // namespace

std::vector<expectation_config> parse_expectations(const config_reader& reader,
                                                   const config_json& root,
                                                   const service_config& cfg) {
  const config_json* list = config_reader::member(root, "expectations");
  if (!list)
    return {};
  if (!list->is_array())
    reader.fail("expectations", "expected an array, got " + std::string{json_type_name(*list)},
                "write it as [ {\"app\": ..., \"schedule\": ...}, ... ]");
  std::vector<expectation_config> out;
  std::map<std::string, std::string> owner; // domain -> field of its expectation
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto e = parse_expectation(reader, (*list)[i], index_path("expectations", i), cfg);
    for (const auto& d : covered_domains(e, cfg)) {
      auto [it, fresh] = owner.emplace(d, e.field);
      if (!fresh)
        reader.fail(e.field, "is a second expectation for " + in_quotes(d) + " (the first is "
                               + it->second + ")",
                    "merge the two entries, or name the domain in one of them");
    }
    out.push_back(std::move(e));
  }
  reject_cycles(reader, out, cfg);
  return out;
}

namespace {

/// "start": "HH:MM", as minutes after midnight.
int read_local_time(const config_reader& reader, const config_json& object,
                    const std::string& path) {
  auto start = reader.read_string(object, "start", path, "");
  auto minute = parse_hh_mm(start);
  if (!minute)
    reader.fail(child_path(path, "start"), "must be a local time \"HH:MM\", got " + in_quotes(start),
                "write the window's daily start, e.g. \"03:00\" (with \"server\" it is the "
                "fallback while EPM cannot be read)");
  return *minute;
}

/// The start is read with pull mode's EPM credentials: the server must be
/// one of `epm.servers` and pull mode on.
void check_maintenance_server(const config_reader& reader, const service_config& cfg,
                              const std::string& server, const std::string& field) {
  if (cfg.find_server(server) == nullptr) {
    std::string names;
    for (const auto& s : cfg.epm.servers)
      names += (names.empty() ? "" : ", ") + s.id;
    reader.fail(field, "EPM server " + in_quotes(server) + " is not configured",
                names.empty() ? std::string{"add it under \"epm\": {\"servers\": {...}} or "
                                            "remove \"server\" and give \"start\""}
                              : "use one of the servers under \"epm.servers\": " + names);
  }
  if (!cfg.settings.pull_mode.enabled)
    reader.fail(field, "reading the maintenance time from EPM needs pull mode's EPM access",
                "set settings.pull_mode.enabled to true, or remove \"server\" and give "
                "\"start\"");
}

/// A window read from a server holds, unless it lists apps, the apps served
/// by that server.
std::vector<std::string> apps_of_server(const config_reader& reader, const service_config& cfg,
                                        const std::string& server, const std::string& path) {
  std::vector<std::string> apps;
  for (const auto& a : cfg.apps)
    if (a.server == server)
      apps.push_back(a.name);
  if (apps.empty())
    reader.fail(child_path(path, "apps"),
                "no app names server " + in_quotes(server) + ", so the window would hold nothing",
                "list the apps the window holds, or set \"server\": " + in_quotes(server)
                  + " on those apps");
  return apps;
}

} // namespace

std::vector<maintenance_config> parse_maintenance(const config_reader& reader,
                                                  const config_json& root,
                                                  const service_config& cfg) {
  const config_json* list = config_reader::member(root, "maintenance");
  if (!list)
    return {};
  if (!list->is_array())
    reader.fail("maintenance", "expected an array, got " + std::string{json_type_name(*list)},
                "write it as [ {\"name\": \"EPM pod\", \"start\": \"03:00\", "
                "\"duration_minutes\": 60}, ... ]");
  std::vector<maintenance_config> out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto path = index_path("maintenance", i);
    const auto& object = (*list)[i];
    reader.require_object(object, path);
    reader.reject_unknown_keys(
      object, path, {"name", "apps", "start", "time_zone", "duration_minutes", "server"});
    maintenance_config m;
    m.name = reader.read_string(object, "name", path, "maintenance");
    m.server = reader.read_string(object, "server", path, "");
    if (!m.server.empty())
      check_maintenance_server(reader, cfg, m.server, child_path(path, "server"));
    m.apps = reader.read_string_array(object, "apps", path);
    for (std::size_t k = 0; k < m.apps.size(); ++k)
      find_app_or_fail(reader, cfg, m.apps[k], index_path(child_path(path, "apps"), k));
    if (m.apps.empty() && !m.server.empty())
      m.apps = apps_of_server(reader, cfg, m.server, path);
    if (config_reader::member(object, "start") || m.server.empty())
      m.start_minute = read_local_time(reader, object, path);
    m.time_zone = read_time_zone(reader, object, path);
    m.duration = std::chrono::minutes{static_cast<std::int64_t>(std::llround(reader.read_number(
      object, "duration_minutes", path, limits::expectations::maintenance_duration_minutes)))};
    out.push_back(std::move(m));
  }
  return out;
}

} // namespace epmpulse::config
