#include "actors/expectations/expectation_model.hpp"

#include <algorithm>
#include <functional>
#include <set>

#include <fmt/format.h>

namespace epmpulse {

namespace {

using std::chrono::duration_cast;
using std::chrono::minutes;
using std::chrono::seconds;

std::string minutes_words(seconds s) {
  return fmt::format("{} min", duration_cast<minutes>(s).count());
}

bool window_holds(const maintenance_window& w, const std::string& app, time_point at) {
  bool for_app = w.apps.empty() || std::find(w.apps.begin(), w.apps.end(), app) != w.apps.end();
  return for_app && at >= w.start && at < w.end;
}

/// The deadline of a start, moved past a maintenance window it falls in.
time_point deadline_of(const evaluation_context& ctx, const std::string& app, time_point start,
                       seconds grace) {
  auto deadline = start + grace;
  for (const auto& w : windows_at(ctx, app, deadline))
    deadline = std::max(deadline, w.end + grace);
  return deadline;
}

bool is_overdue_warning(const domain_state& d) {
  return d.status == job_status::warning && d.source == update_source::system && d.message
         && d.message->rfind(overdue_prefix, 0) == 0;
}

/// Judges the schedule only: late, missed, or nothing to say.
std::optional<expectation_state> judge_schedule(const evaluation_context& ctx,
                                                const config::expectation_config& e,
                                                const std::string& app, const domain_state& d,
                                                time_point now, domain_expectation& out) {
  if (!e.schedule)
    return std::nullopt;
  const auto& s = *e.schedule;
  auto last = d.updated;
  if (d.started && (!last || *d.started > *last))
    last = d.started;
  if (!s.cron) {
    auto from = last.value_or(ctx.watching_since);
    auto every = std::chrono::duration_cast<std::chrono::milliseconds>(s.every);
    out.next_run = from + every;
    while (*out.next_run <= now)
      *out.next_run += every;
    auto deadline = deadline_of(ctx, app, from + every, e.grace);
    out.due = from + every;
    if (now >= from + 2 * every && now >= deadline) {
      out.cause = "no update since " + format_time(from) + " (expected every "
                  + minutes_words(s.every) + ")";
      return expectation_state::missed;
    }
    if (now >= deadline) {
      out.cause = "no update since " + format_time(from) + ", due by " + format_time(deadline);
      return expectation_state::late;
    }
    if (now >= from + every + e.grace) {
      out.cause = "due during maintenance; late after " + format_time(deadline);
      return expectation_state::maintenance;
    }
    out.due.reset();
    return std::nullopt;
  }
  out.next_run = next_cron_start(*s.cron, s.time_zone, now);
  auto s0 = previous_cron_start(*s.cron, s.time_zone, now);
  if (!s0)
    return std::nullopt;
  auto arrived = [&](time_point start) { return last && *last >= start - e.grace; };
  if (arrived(*s0))
    return std::nullopt;
  auto s1 = previous_cron_start(*s.cron, s.time_zone, *s0 - std::chrono::milliseconds{1});
  if (s1 && !arrived(*s1)) {
    out.due = *s1;
    out.cause = "no run for the start at " + format_time(*s1) + " (\"" + s.cron->text + "\" "
                + s.time_zone + "), and the next start has come";
    return expectation_state::missed;
  }
  auto deadline = deadline_of(ctx, app, *s0, e.grace);
  out.due = *s0;
  if (now >= deadline) {
    out.cause = "no update for the start at " + format_time(*s0) + ", due by "
                + format_time(deadline);
    return expectation_state::late;
  }
  if (now >= *s0 + e.grace) {
    out.cause = "due during maintenance; late after " + format_time(deadline);
    return expectation_state::maintenance;
  }
  out.due.reset();
  return std::nullopt;
}

domain_expectation judge(const evaluation_context& ctx, const config::expectation_config& e,
                         const std::string& app, const domain_state& d, time_point now) {
  domain_expectation out;
  auto scheduled = judge_schedule(ctx, e, app, d, now, out);
  if (d.status == job_status::loading && e.max_duration && d.started
      && now - *d.started > *e.max_duration) {
    out.state = expectation_state::overdue;
    out.cause = "Loading since " + format_time(*d.started) + ", longer than "
                + minutes_words(*e.max_duration);
    return out;
  }
  if (scheduled) {
    out.state = *scheduled;
    if (out.state != expectation_state::maintenance
        && !windows_at(ctx, app, now).empty()) {
      out.state = expectation_state::maintenance;
      out.cause = "maintenance window open; otherwise " + std::string{to_string(*scheduled)}
                  + ": " + out.cause;
    }
    return out;
  }
  out.due.reset();
  if (is_overdue_warning(d)) {
    out.state = expectation_state::overdue;
    out.cause = *d.message;
    return out;
  }
  if (d.status == job_status::ok && e.min_duration && d.duration_sec
      && seconds{*d.duration_sec} < *e.min_duration) {
    out.state = expectation_state::short_run;
    out.cause = fmt::format("OK {} s after its Loading, sooner than the {} s a run takes at least",
                            *d.duration_sec, e.min_duration->count());
    return out;
  }
  out.cause.clear();
  return out;
}

bool is_bad_upstream(const domain_state* d, const domain_expectation* x) {
  if (x != nullptr
      && (x->state == expectation_state::late || x->state == expectation_state::missed
          || x->state == expectation_state::overdue || x->state == expectation_state::held))
    return true;
  return d != nullptr && d->status == job_status::warning;
}

std::pair<std::string, std::string> split_ref(const std::string& ref) {
  auto slash = ref.find('/');
  return {ref.substr(0, slash), slash == std::string::npos ? "" : ref.substr(slash + 1)};
}

} // namespace

const char* to_string(expectation_state s) {
  switch (s) {
  case expectation_state::on_time: return "on_time";
  case expectation_state::late: return "late";
  case expectation_state::missed: return "missed";
  case expectation_state::overdue: return "overdue";
  case expectation_state::short_run: return "short";
  case expectation_state::held: return "held";
  case expectation_state::maintenance: return "maintenance";
  }
  return "on_time";
}

bool is_alerting(expectation_state s) {
  return s == expectation_state::late || s == expectation_state::missed
         || s == expectation_state::overdue || s == expectation_state::short_run;
}

std::vector<maintenance_window> windows_at(const evaluation_context& ctx, const std::string& app,
                                           time_point at) {
  std::vector<maintenance_window> out;
  for (const auto& m : ctx.config->maintenance) {
    auto minute = m.start_minute;
    const auto* zone = &m.time_zone;
    if (auto read = ctx.read_starts.find(m.server);
        !m.server.empty() && read != ctx.read_starts.end()) {
      minute = read->second.minute;
      zone = &read->second.time_zone;
    }
    if (!minute)
      continue;
    // A window that started yesterday evening may still be open.
    for (auto day : {at - std::chrono::hours{24}, at}) {
      auto start = local_time_on_day(*zone, day, *minute);
      if (!start)
        continue;
      maintenance_window w{"", m.name, m.apps, *start, *start + m.duration};
      if (window_holds(w, app, at))
        out.push_back(std::move(w));
    }
  }
  for (const auto& w : ctx.adhoc_windows)
    if (window_holds(w, app, at))
      out.push_back(w);
  return out;
}

const config::expectation_config* expectation_for(const config::service_config& cfg,
                                                  const std::string& app,
                                                  const std::string& domain) {
  const config::expectation_config* whole_app = nullptr;
  for (const auto& e : cfg.expectations) {
    if (e.app != app)
      continue;
    if (e.domain == domain)
      return &e;
    if (e.domain.empty())
      whole_app = &e;
  }
  return whole_app;
}

expectation_results evaluate_expectations(const evaluation_context& ctx,
                                          const status_snapshot& snap, time_point now) {
  expectation_results results;
  const auto& cfg = *ctx.config;
  // A domain never updated counts from the state's creation, which restarts
  // keep: a restart must not make an overdue domain look on time.
  auto local = ctx;
  if (snap.created.time_since_epoch().count() != 0)
    local.watching_since = snap.created;
  for (const auto& [app_name, app] : snap.apps)
    for (const auto& [domain_name, d] : app.domains)
      if (const auto* e = expectation_for(cfg, app_name, domain_name))
        results[app_name][domain_name] = judge(local, *e, app_name, d, now);

  // Held: late or missed downstream of a bad upstream. Upstreams first, so a
  // chain names its root.
  auto find_state = [&](const std::string& a, const std::string& dn) -> const domain_state* {
    auto ai = snap.apps.find(a);
    if (ai == snap.apps.end())
      return nullptr;
    auto di = ai->second.domains.find(dn);
    return di == ai->second.domains.end() ? nullptr : &di->second;
  };
  auto find_result = [&](const std::string& a, const std::string& dn) -> domain_expectation* {
    auto ai = results.find(a);
    if (ai == results.end())
      return nullptr;
    auto di = ai->second.find(dn);
    return di == ai->second.end() ? nullptr : &di->second;
  };
  std::set<std::string> done;
  std::function<void(const std::string&, const std::string&)> settle =
    [&](const std::string& a, const std::string& dn) {
      auto key = a + "/" + dn;
      if (!done.insert(key).second)
        return;
      auto* mine = find_result(a, dn);
      const auto* e = expectation_for(cfg, a, dn);
      if (mine == nullptr || e == nullptr)
        return;
      for (const auto& ref : e->after) {
        auto [ua, ud] = split_ref(ref);
        settle(ua, ud);
        if (mine->state != expectation_state::late && mine->state != expectation_state::missed)
          continue;
        const auto* up = find_result(ua, ud);
        if (!is_bad_upstream(find_state(ua, ud), up))
          continue;
        mine->root = up != nullptr && up->state == expectation_state::held ? up->root : ref;
        const auto* root_result = [&] {
          auto [ra, rd] = split_ref(mine->root);
          return find_result(ra, rd);
        }();
        auto [ra, rd] = split_ref(mine->root);
        const auto* root_state = find_state(ra, rd);
        std::string why = root_result != nullptr && root_result->state != expectation_state::on_time
                            ? to_string(root_result->state)
                            : (root_state != nullptr ? to_string(root_state->status) : "bad");
        mine->cause = "waiting for " + mine->root + " (" + why + ")";
        mine->state = expectation_state::held;
      }
    };
  for (const auto& [a, domains] : snap.apps)
    for (const auto& [dn, d] : domains.domains)
      settle(a, dn);
  return results;
}

std::vector<status_update> overdue_updates(const expectation_results& results,
                                           const status_snapshot& snap,
                                           const evaluation_context& ctx) {
  std::vector<status_update> out;
  for (const auto& [app, domains] : results)
    for (const auto& [domain, x] : domains) {
      if (x.state != expectation_state::overdue)
        continue;
      const auto& d = snap.apps.at(app).domains.at(domain);
      if (d.status != job_status::loading)
        continue;
      out.push_back(loading_to_warning(app, domain, d, std::string{overdue_prefix} + x.cause));
    }
  return out;
}

expectation_marks to_marks(const expectation_results& results) {
  auto marks = std::make_shared<std::map<std::string, std::map<std::string, expectation_mark>>>();
  for (const auto& [app, domains] : results)
    for (const auto& [domain, x] : domains)
      (*marks)[app][domain] = expectation_mark{to_string(x.state), x.next_run, x.cause};
  return marks;
}

canvas::canvas_marks to_canvas_marks(const expectation_results& results) {
  auto marks = std::make_shared<canvas::domain_marks>();
  for (const auto& [app, domains] : results)
    for (const auto& [domain, x] : domains) {
      bool pending = x.state == expectation_state::late || x.state == expectation_state::missed;
      (*marks)[app][domain] = canvas::domain_mark{
        to_string(x.state), x.next_run, pending ? x.due : std::nullopt,
        x.state == expectation_state::held ? x.root : std::string{}};
    }
  return marks;
}

} // namespace epmpulse
