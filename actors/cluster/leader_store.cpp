#include "actors/cluster/leader_store.hpp"

#include <map>

#include <caf/actor_system.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/common/errors.hpp"
#include "actors/common/log.hpp"

namespace epmpulse {

namespace {

using nlohmann::json;

constexpr const char* load_sql =
  "INSERT INTO epm_leader_state AS s (name, epoch) VALUES ($1, 1) "
  "ON CONFLICT (name) DO UPDATE SET epoch = s.epoch + 1 "
  "RETURNING coalesce(s.doc::text, ''), s.epoch";
constexpr const char* get_sql =
  "SELECT coalesce(doc::text, '') FROM epm_leader_state WHERE name = $1";
constexpr const char* write_sql =
  "UPDATE epm_leader_state SET doc = $2::jsonb, updated_at = now() "
  "WHERE name = $1 AND epoch = $3::bigint RETURNING name";
constexpr const char* add_window_sql =
  "INSERT INTO epm_maintenance (id, name, apps, start_at, end_at, created_by) "
  "VALUES ('m-' || nextval('epm_maintenance_id'), $1, "
  "ARRAY(SELECT jsonb_array_elements_text($2::jsonb)), $3::timestamptz, $4::timestamptz, "
  "current_setting('application_name')) RETURNING id";
constexpr const char* prune_windows_sql = "DELETE FROM epm_maintenance WHERE end_at <= now()";
constexpr const char* list_windows_sql =
  "SELECT id, name, to_jsonb(apps)::text, "
  "(extract(epoch from start_at) * 1000)::bigint, (extract(epoch from end_at) * 1000)::bigint "
  "FROM epm_maintenance ORDER BY start_at, id";
constexpr const char* add_ack_sql =
  "INSERT INTO epm_alert_acks (alert_id, requested_by) "
  "VALUES ($1, current_setting('application_name')) ON CONFLICT (alert_id) DO NOTHING";
constexpr const char* take_acks_sql = "DELETE FROM epm_alert_acks RETURNING alert_id";

struct leader_store_state {
  static inline constexpr const char* name = "leader_store";
  std::unique_ptr<pg_connection> conn;
  std::map<std::string, std::int64_t> epochs; ///< per document, as loaded
  bool down_logged = false;
};

using store_ptr = leader_store_actor::stateful_pointer<leader_store_state>;

/// Runs one statement, reconnecting first when the session is gone; the
/// result says why when it failed (logged once per outage).
pg_result run(store_ptr self, const char* name, const char* sql, const pg_params& params) {
  auto& st = self->state;
  if (!st.conn->usable()) {
    if (auto failure = st.conn->connect(); !failure.empty()) {
      if (!st.down_logged)
        log::warn("leader store: database unreachable", {{"reason", failure}});
      st.down_logged = true;
      return pg_result{nullptr, failure};
    }
  }
  auto r = st.conn->exec_prepared(name, sql, params);
  if (!r.ok()) {
    if (!st.conn->usable())
      st.conn->close();
    if (!st.down_logged)
      log::warn("leader store: statement failed", {{"statement", name}, {"reason", r.error()}});
    st.down_logged = true;
  } else if (st.down_logged) {
    log::info("leader store: database reachable again");
    st.down_logged = false;
  }
  return r;
}

caf::error unavailable(const pg_result& r) {
  return caf::make_error(ec::database_unavailable, "the database is unreachable: " + r.error());
}

leader_store_actor::behavior_type leader_store(store_ptr self, pg_target target) {
  self->state.conn = std::make_unique<pg_connection>(std::move(target));
  return {
    [self](load_atom, const std::string& doc) -> caf::result<std::string> {
      auto r = run(self, "leader_load", load_sql, {doc});
      if (!r.ok() || r.rows() != 1)
        return unavailable(r);
      self->state.epochs[doc] = r.integer(0, 1);
      return std::string{r.text(0, 0)};
    },
    [self](get_atom, const std::string& doc) -> caf::result<std::string> {
      auto r = run(self, "leader_get", get_sql, {doc});
      if (!r.ok())
        return unavailable(r);
      return r.rows() == 1 ? std::string{r.text(0, 0)} : std::string{};
    },
    [self](write_atom, const std::string& doc, const std::string& text) -> bool {
      auto it = self->state.epochs.find(doc);
      if (it == self->state.epochs.end())
        return false;
      auto r = run(self, "leader_write", write_sql, {doc, text, std::to_string(it->second)});
      if (!r.ok())
        return false;
      if (r.rows() == 0) {
        log::warn("leader store: another instance took over; this write is dropped",
                  {{"document", doc}});
        self->state.epochs.erase(doc);
        return false;
      }
      return true;
    },
    [self](maintenance_atom, maintenance_window& w) -> caf::result<maintenance_window> {
      auto r = run(self, "leader_add_window", add_window_sql,
                   {w.name, json(w.apps).dump(), pg_time(w.start), pg_time(w.end)});
      if (!r.ok() || r.rows() != 1)
        return unavailable(r);
      w.id = std::string{r.text(0, 0)};
      return std::move(w);
    },
    [self](maintenance_atom) -> caf::result<maintenance_windows> {
      auto pruned = run(self, "leader_prune_windows", prune_windows_sql, {});
      if (!pruned.ok())
        return unavailable(pruned);
      auto r = run(self, "leader_list_windows", list_windows_sql, {});
      if (!r.ok())
        return unavailable(r);
      maintenance_windows out;
      for (int i = 0; i < r.rows(); ++i) {
        maintenance_window w;
        w.id = std::string{r.text(i, 0)};
        w.name = std::string{r.text(i, 1)};
        auto apps = json::parse(r.text(i, 2), nullptr, false);
        if (apps.is_array())
          for (const auto& a : apps)
            if (a.is_string())
              w.apps.push_back(a.get<std::string>());
        w.start = pg_time_of(r, i, 3).value_or(time_point{});
        w.end = pg_time_of(r, i, 4).value_or(time_point{});
        out.push_back(std::move(w));
      }
      return out;
    },
    [self](ack_atom, const std::string& id) -> caf::result<bool> {
      auto r = run(self, "leader_add_ack", add_ack_sql, {id});
      if (!r.ok())
        return unavailable(r);
      return true;
    },
    [self](ack_atom) -> caf::result<std::vector<std::string>> {
      auto r = run(self, "leader_take_acks", take_acks_sql, {});
      if (!r.ok())
        return unavailable(r);
      std::vector<std::string> ids;
      for (int i = 0; i < r.rows(); ++i)
        ids.emplace_back(r.text(i, 0));
      return ids;
    },
  };
}

} // namespace

leader_store_actor spawn_leader_store(caf::actor_system& sys, pg_target target) {
  return sys.spawn<caf::detached>(leader_store, std::move(target));
}

} // namespace epmpulse
