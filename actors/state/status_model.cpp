#include "actors/state/status_model.hpp"

#include <algorithm>

#include <date/date.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "config/config.hpp"

namespace epmpulse {

using nlohmann::json;
using std::chrono::milliseconds;

// -- enums ---------------------------------------------------------------------

const char* to_string(job_status s) {
  switch (s) {
    case job_status::blank: return "Blank";
    case job_status::loading: return "Loading";
    case job_status::ok: return "OK";
    case job_status::warning: return "Warning";
  }
  return "Blank";
}

std::optional<job_status> parse_status(std::string_view text) {
  if (text == "Blank") return job_status::blank;
  if (text == "Loading") return job_status::loading;
  if (text == "OK") return job_status::ok;
  if (text == "Warning") return job_status::warning;
  return std::nullopt;
}

const char* to_string(update_source s) {
  switch (s) {
    case update_source::push: return "push";
    case update_source::poll: return "poll";
    case update_source::system: return "system";
  }
  return "push";
}

std::optional<update_source> parse_source(std::string_view text) {
  if (text == "push") return update_source::push;
  if (text == "poll") return update_source::poll;
  if (text == "system") return update_source::system;
  return std::nullopt;
}

namespace {

bool is_terminal(job_status s) {
  return s == job_status::ok || s == job_status::warning;
}

// -- recent jobs ---------------------------------------------------------------

void record_recent_job(status_snapshot& snap, const status_update& u, time_point at,
                       std::size_t limit) {
  if (!u.job_id || u.job_id->empty() || u.status == job_status::blank)
    return;
  // Ids of one family share their prefix and differ in their sequence
  // suffix ("FULL_20260216_001"): compared from the end, most mismatches are
  // found in the first byte. This runs for every applied update, over up to
  // `limit` jobs.
  const std::string& id = *u.job_id;
  auto same_id = [&id](const recent_job& j) {
    return j.job_id.size() == id.size() && std::equal(id.rbegin(), id.rend(), j.job_id.rbegin());
  };
  auto it = std::find_if(snap.recent_jobs.begin(), snap.recent_jobs.end(), same_id);
  recent_job job;
  if (it != snap.recent_jobs.end()) {
    job = std::move(*it);
    snap.recent_jobs.erase(it);
  } else {
    job.job_id = id;
  }
  if (std::find(job.apps.begin(), job.apps.end(), u.app) == job.apps.end())
    job.apps.push_back(u.app);
  if (u.status == job_status::loading) {
    if (!job.started)
      job.started = at;
    // A job that reports Loading again is running again: it is not complete.
    if (job.status != job_status::warning) {
      job.status = job_status::loading;
      job.completed.reset();
    }
  } else if (is_terminal(u.status)) {
    // One failed part makes the whole job a Warning.
    if (job.status != job_status::warning)
      job.status = u.status;
    job.completed = at;
  }
  snap.recent_jobs.push_front(std::move(job));
  while (snap.recent_jobs.size() > limit)
    snap.recent_jobs.pop_back();
}

} // namespace

// -- merge ---------------------------------------------------------------------

merge_outcome merge_update(status_snapshot& snap, const status_update& u, time_point now,
                           milliseconds max_future_skew, std::size_t recent_jobs_limit) {
  merge_outcome out;
  auto& domains = snap.apps[u.app].domains;
  auto& stored = domains[u.domain]; // a new domain starts as Blank
  out.before = stored;

  auto when = u.event_time.value_or(now);
  if (when > now + max_future_skew) {
    // A skewed client clock must not freeze the domain for hours.
    when = now;
    out.clamped = true;
  }
  out.effective_time = when;

  if (stored.updated && when < *stored.updated) {
    out.result = merge_outcome::kind::stale;
    out.after = stored;
    return out;
  }
  if (stored.status == u.status && stored.job_id == u.job_id && stored.message == u.message
      && stored.updated) {
    out.result = merge_outcome::kind::unchanged;
    out.after = stored;
    return out;
  }

  domain_state next;
  next.status = u.status;
  next.job_id = u.job_id;
  next.message = u.message;
  next.updated = when;
  next.source = u.source;
  if (u.status == job_status::loading) {
    bool same_run = stored.status == job_status::loading && stored.job_id == u.job_id;
    next.started = same_run && stored.started ? stored.started : std::optional{when};
  } else if (is_terminal(u.status) && stored.status == job_status::loading
             && stored.job_id == u.job_id && u.job_id) {
    auto start = stored.started ? *stored.started : *stored.updated;
    next.duration_sec =
      std::chrono::duration_cast<std::chrono::seconds>(when - start).count();
  }
  out.after = next;
  stored = std::move(next);
  out.result = merge_outcome::kind::applied;
  if (!snap.last_updated || when > *snap.last_updated)
    snap.last_updated = when;
  record_recent_job(snap, u, when, recent_jobs_limit);
  return out;
}

status_snapshot seed_snapshot(const config::service_config& cfg, time_point now) {
  status_snapshot snap;
  snap.created = now;
  reconcile_with_config(snap, cfg);
  return snap;
}

void reconcile_with_config(status_snapshot& snap, const config::service_config& cfg) {
  for (const auto& app : cfg.apps) {
    auto& state = snap.apps[app.name];
    state.display_name = app.display_name.empty() ? app.name : app.display_name;
    state.channels = app.channels;
    for (const auto& d : app.domains)
      state.domains.try_emplace(d);
  }
}

status_update loading_to_warning(const std::string& app, const std::string& domain,
                                 const domain_state& d, std::string message,
                                 std::optional<time_point> event_time) {
  status_update u;
  u.app = app;
  u.domain = domain;
  u.status = job_status::warning;
  u.job_id = d.job_id;
  u.message = std::move(message);
  u.event_time = event_time;
  u.source = update_source::system;
  return u;
}

std::vector<status_update> stale_loading_updates(const status_snapshot& snap, time_point now,
                                                 milliseconds timeout) {
  std::vector<status_update> out;
  for (const auto& [app_name, app] : snap.apps) {
    for (const auto& [domain_name, d] : app.domains) {
      if (d.status != job_status::loading || !d.updated || *d.updated + timeout > now)
        continue;
      out.push_back(loading_to_warning(app_name, domain_name, d,
                                       "Stale: no update since " + format_time(*d.updated), now));
    }
  }
  return out;
}

// -- JSON ----------------------------------------------------------------------

namespace {

json optional_string(const std::optional<std::string>& s) {
  return s ? json(*s) : json(nullptr);
}

json optional_time(const std::optional<time_point>& t) {
  return t ? json(format_time(*t)) : json(nullptr);
}

} // namespace

json to_json(const domain_state& d) {
  json out = json::object();
  out["status"] = to_string(d.status);
  out["job_id"] = optional_string(d.job_id);
  out["message"] = optional_string(d.message);
  out["updated"] = optional_time(d.updated);
  out["duration_sec"] = d.duration_sec ? json(*d.duration_sec) : json(nullptr);
  if (d.started)
    out["started"] = format_time(*d.started);
  out["source"] = to_string(d.source);
  return out;
}

json to_json(const status_snapshot& snap) {
  json apps = json::object();
  for (const auto& [name, app] : snap.apps) {
    json domains = json::object();
    for (const auto& [dname, d] : app.domains)
      domains[dname] = to_json(d);
    apps[name] = {{"display_name", app.display_name},
                  {"channels", app.channels},
                  {"domains", std::move(domains)}};
  }
  json recent = json::array();
  for (const auto& j : snap.recent_jobs) {
    recent.push_back({{"job_id", j.job_id},
                      {"apps", j.apps},
                      {"status", to_string(j.status)},
                      {"started", optional_time(j.started)},
                      {"completed", optional_time(j.completed)}});
  }
  return {{"version", snap.version},
          {"last_updated", optional_time(snap.last_updated)},
          {"metadata",
           {{"created", format_time(snap.created)},
            {"schema_version", "1.0"},
            {"last_change_id", snap.last_change_id}}},
          {"apps", std::move(apps)},
          {"recent_jobs", std::move(recent)}};
}

namespace {

// Reads an optional string field: absent or null → nullopt; other types fail.
bool read_opt_string(const json& obj, const char* key, std::optional<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return true;
  if (!it->is_string())
    return false;
  out = it->get<std::string>();
  return true;
}

bool read_opt_time(const json& obj, const char* key, std::optional<time_point>& out) {
  std::optional<std::string> text;
  if (!read_opt_string(obj, key, text))
    return false;
  if (!text)
    return true;
  out = parse_time(*text);
  return out.has_value();
}

} // namespace

std::optional<status_snapshot> snapshot_from_json(const json& doc, std::string& error) {
  auto fail = [&](std::string why) -> std::optional<status_snapshot> {
    error = std::move(why);
    return std::nullopt;
  };
  if (!doc.is_object())
    return fail("document is not a JSON object");
  status_snapshot snap;
  if (!doc.contains("version") || !doc["version"].is_string())
    return fail("missing or non-string \"version\"");
  snap.version = doc["version"].get<std::string>();
  if (!read_opt_time(doc, "last_updated", snap.last_updated))
    return fail("\"last_updated\" is not an RFC 3339 time");
  snap.created = now_ms();
  if (auto m = doc.find("metadata"); m != doc.end() && m->is_object()) {
    std::optional<time_point> created;
    if (read_opt_time(*m, "created", created) && created)
      snap.created = *created;
    if (auto id = m->find("last_change_id"); id != m->end() && id->is_number_unsigned())
      snap.last_change_id = id->get<std::uint64_t>();
  }
  auto apps = doc.find("apps");
  if (apps == doc.end() || !apps->is_object())
    return fail("missing or non-object \"apps\"");
  for (const auto& [name, app] : apps->items()) {
    if (!app.is_object())
      return fail("apps." + name + " is not an object");
    app_state state;
    if (auto dn = app.find("display_name"); dn != app.end() && dn->is_string())
      state.display_name = dn->get<std::string>();
    if (auto ch = app.find("channels"); ch != app.end() && ch->is_array())
      for (const auto& c : *ch)
        if (c.is_string())
          state.channels.push_back(c.get<std::string>());
    auto domains = app.find("domains");
    if (domains == app.end() || !domains->is_object())
      return fail("apps." + name + ".domains is missing or not an object");
    for (const auto& [dname, d] : domains->items()) {
      std::string where = "apps." + name + ".domains." + dname;
      if (!d.is_object() || !d.contains("status") || !d["status"].is_string())
        return fail(where + " has no status");
      auto st = parse_status(d["status"].get<std::string>());
      if (!st)
        return fail(where + ".status is not one of Blank, Loading, OK, Warning");
      domain_state ds;
      ds.status = *st;
      if (!read_opt_string(d, "job_id", ds.job_id) || !read_opt_string(d, "message", ds.message)
          || !read_opt_time(d, "updated", ds.updated) || !read_opt_time(d, "started", ds.started))
        return fail(where + " has a field of the wrong type");
      if (auto dur = d.find("duration_sec"); dur != d.end() && !dur->is_null()) {
        if (!dur->is_number_integer())
          return fail(where + ".duration_sec is not an integer");
        ds.duration_sec = dur->get<std::int64_t>();
      }
      if (auto src = d.find("source"); src != d.end() && src->is_string())
        ds.source = parse_source(src->get<std::string>()).value_or(update_source::push);
      state.domains.emplace(dname, std::move(ds));
    }
    snap.apps.emplace(name, std::move(state));
  }
  if (auto recent = doc.find("recent_jobs"); recent != doc.end() && recent->is_array()) {
    for (const auto& j : *recent) {
      if (!j.is_object() || !j.contains("job_id") || !j["job_id"].is_string())
        continue;
      recent_job job;
      job.job_id = j["job_id"].get<std::string>();
      if (auto a = j.find("apps"); a != j.end() && a->is_array())
        for (const auto& x : *a)
          if (x.is_string())
            job.apps.push_back(x.get<std::string>());
      if (auto s = j.find("status"); s != j.end() && s->is_string())
        job.status = parse_status(s->get<std::string>()).value_or(job_status::loading);
      read_opt_time(j, "started", job.started);
      read_opt_time(j, "completed", job.completed);
      snap.recent_jobs.push_back(std::move(job));
    }
  }
  return snap;
}

} // namespace epmpulse
