#include "actors/service/service.hpp"

#include <algorithm>

#include <caf/atom.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/common/log.hpp"
#include "actors/history/pg_history.hpp"

namespace epmpulse {

namespace {

caf::error part_failed(const char* part, const caf::error& why) {
  return caf::make_error(ec::internal_error, std::string{"cannot start "} + part + ": "
                                               + describe_error(why));
}

} // namespace

service::service(std::shared_ptr<const config::service_config> config)
  : config_(std::move(config)) {
  system_config_.set("scheduler.max-threads",
                     static_cast<std::size_t>(config_->settings.server.actor_threads));
  system_config_.set("logger.console", caf::atom("none"));
  // An idle worker goes from spinning straight to its condition variable,
  // which a new message signals at once, instead of first polling every 50 µs
  // for 500 rounds: a push waits on two such wake-ups (the request, then the
  // durable log append). Interleaved wrk runs: single pushes +13%, batches
  // unchanged (bench/RESULTS.md).
  system_config_.set("work-stealing.moderate-poll-attempts", std::size_t{0});
  system_ = std::make_unique<caf::actor_system>(system_config_);
}

caf::expected<std::unique_ptr<service>>
service::start(std::shared_ptr<const config::service_config> config, const std::string& data_dir) {
  std::unique_ptr<service> svc{new service(config)};
  auto& sys = *svc->system_;
  const auto& history_cfg = config->settings.history;
  bool clustered = config->settings.storage.kind == config::storage_kind::postgres;
  if (clustered) {
    // The cluster's audit table is the one history: a local file beside it
    // would hold this instance's view only and could diverge from it.
    svc->history_ = spawn_pg_history(
      sys, {pg_target_of(config->settings.storage, "epmpulse history"),
            history_cfg.retention_days, history_cfg.max_bytes});
  } else {
    auto history = spawn_history_store(
      sys, {data_dir, history_cfg.retention_days, history_cfg.max_bytes});
    if (!history)
      return part_failed("the history", history.error());
    svc->history_ = *history;
  }
  // The audit rows are written by the commit itself in PostgreSQL mode: the
  // state's start-up hand-over of change logs is for the file backend only.
  change_archive_actor archive;
  if (!clustered)
    archive = caf::actor_cast<change_archive_actor>(svc->history_);
  auto state = spawn_state_store(sys, {data_dir, config, archive});
  if (!state)
    return part_failed("the state", state.error());
  svc->state_ = *state;
  // RESTinio closes a response that wrote nothing for request_timeout_sec:
  // the keep-alive comes well within it.
  auto keepalive = std::min<std::chrono::milliseconds>(
    std::chrono::seconds(15),
    std::chrono::milliseconds(
      static_cast<std::int64_t>(config->settings.server.request_timeout_sec * 1000 / 2)));
  svc->events_ = spawn_event_hub(sys, {svc->state_, svc->history_, keepalive});
  canvas_options canvas_opts;
  canvas_opts.config = config;
  canvas_opts.state = svc->state_;
  canvas_opts.data_dir = data_dir;
  canvas_opts.follows_leader = clustered;
  auto canvas = spawn_canvas(sys, std::move(canvas_opts));
  if (!canvas)
    return part_failed("the canvas side", canvas.error());
  svc->canvas_ = *canvas;
  // The evaluator's and the alerts' state: the data dir's files, or with
  // PostgreSQL the cluster's rows (whoever leads continues them).
  if (clustered)
    svc->leader_store_ =
      spawn_leader_store(sys, pg_target_of(config->settings.storage, "epmpulse singletons"));
  if (config->settings.alerts.enabled) {
    alert_options alert_opts;
    alert_opts.config = config;
    alert_opts.data_dir = data_dir;
    alert_opts.store = svc->leader_store_;
    // Its own client: a slow Slack or webhook never queues behind canvases.
    svc->alert_http_ = spawn_http_client(sys, 2);
    alert_opts.http = svc->alert_http_;
    alert_opts.history = caf::actor_cast<alert_history_sink>(svc->history_);
    auto alerts = spawn_alerts(sys, std::move(alert_opts));
    if (!alerts)
      return part_failed("the alerts", alerts.error());
    svc->alerts_ = *alerts;
  }
  evaluator_options eval_opts;
  eval_opts.config = config;
  eval_opts.state = svc->state_;
  eval_opts.alerts = svc->alerts_;
  eval_opts.canvas = caf::actor_cast<canvas_marks_listener>(svc->canvas_);
  eval_opts.history = caf::actor_cast<alert_history_sink>(svc->history_);
  eval_opts.data_dir = data_dir;
  eval_opts.store = svc->leader_store_;
  svc->evaluator_ = spawn_evaluator(sys, std::move(eval_opts));
  // After the evaluator: the maintenance readers tell it what EPM says.
  if (config->settings.pull_mode.enabled) {
    epm_router_options epm_opts;
    epm_opts.config = config;
    epm_opts.data_dir = data_dir;
    epm_opts.state = svc->state_;
    epm_opts.follows_leader = clustered;
    epm_opts.maintenance_listener = caf::actor_cast<daily_maintenance_listener>(svc->evaluator_);
    auto router = spawn_epm_router(sys, std::move(epm_opts));
    if (!router)
      return part_failed("EPM pull mode", router.error());
    svc->epm_ = *router;
  }
  if (clustered) {
    // The singletons wait for the election: one leader in the cluster.
    svc->elector_ =
      spawn_leader_elector(sys, pg_target_of(config->settings.storage, "epmpulse leader"));
    caf::anon_send(svc->elector_, subscribe_atom_v,
                   caf::actor_cast<leadership_listener>(svc->canvas_));
    // Retention of the shared history runs on the leader only.
    caf::anon_send(svc->elector_, subscribe_atom_v,
                   caf::actor_cast<leadership_listener>(svc->history_));
    if (svc->epm_)
      caf::anon_send(svc->elector_, subscribe_atom_v,
                     caf::actor_cast<leadership_listener>(svc->epm_));
    caf::anon_send(svc->elector_, subscribe_atom_v,
                   caf::actor_cast<leadership_listener>(svc->evaluator_));
    if (svc->alerts_)
      caf::anon_send(svc->elector_, subscribe_atom_v,
                     caf::actor_cast<leadership_listener>(svc->alerts_));
  }
  return svc;
}

bool service::stop() {
  if (stopped_)
    return *stopped_;
  // Leadership ends with the session: another instance takes over at once.
  if (elector_)
    caf::anon_send_exit(elector_, caf::exit_reason::user_shutdown);
  if (epm_)
    caf::anon_send_exit(epm_, caf::exit_reason::user_shutdown);
  // No overdue Warning may land after the flush.
  if (evaluator_)
    caf::anon_send_exit(evaluator_, caf::exit_reason::user_shutdown);
  bool flushed = false;
  if (state_) {
    caf::scoped_actor self{*system_};
    self->request(state_, flush_timeout, flush_atom_v)
      .receive([&](bool ok) { flushed = ok; },
               [&](caf::error& err) {
                 log::error("state flush failed", {{"error", system_->render(err)}});
               });
  }
  if (events_)
    caf::anon_send_exit(events_, caf::exit_reason::user_shutdown);
  if (canvas_)
    caf::anon_send_exit(canvas_, caf::exit_reason::user_shutdown);
  if (alerts_)
    caf::anon_send_exit(alerts_, caf::exit_reason::user_shutdown);
  if (alert_http_)
    caf::anon_send_exit(alert_http_, caf::exit_reason::user_shutdown);
  if (state_)
    caf::anon_send_exit(state_, caf::exit_reason::user_shutdown);
  if (history_)
    caf::anon_send_exit(history_, caf::exit_reason::user_shutdown);
  if (leader_store_)
    caf::anon_send_exit(leader_store_, caf::exit_reason::user_shutdown);
  stopped_ = flushed;
  return flushed;
}

service::~service() {
  stop();
}

} // namespace epmpulse
