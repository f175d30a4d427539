#include "http/canvas_routes.hpp"

#include <chrono>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/canvas/canvas.hpp"

namespace epmpulse::http {

using nlohmann::json;

namespace {

bool canvas_missing(request_scope& scope) {
  if (scope.services.canvas)
    return false;
  scope.out->send_error({ec::unavailable, "The canvas side is not running.", {}});
  return true;
}

/// An error from the canvas actor: its ec and the human message it carries.
void send_canvas_error(const responder_ptr& out, const caf::error& err) {
  if (err.category() == caf::atom("epmpulse")) {
    std::string message;
    if (err.context().match_elements<std::string>())
      message = err.context().get_as<std::string>(0);
    out->send_error({static_cast<ec>(err.code()), message, {}});
    return;
  }
  out->send_error({ec::unavailable, "The canvas side did not answer.", {}});
}

/// Asks the canvas actor from a short-lived actor of its own and completes the
/// response with its answer. (A stand-in: the HTTP edge's one bridge replaces
/// it.) The timeout lies above the canvas's sync_timeout and below RESTinio's.
template <class Reply, class OnValue, class... Ts>
void ask_canvas(request_scope& scope, OnValue on_value, Ts... xs) {
  auto canvas = caf::actor_cast<canvas_actor>(scope.services.canvas);
  scope.services.system->spawn([canvas, out = scope.out, on_value, xs...](caf::event_based_actor* self) {
    self->request(canvas, std::chrono::seconds(9), xs...)
      .then([out, on_value](Reply& reply) { on_value(out, reply); },
            [out](caf::error& err) { send_canvas_error(out, err); });
  });
}

} // namespace

void handle_canvas_preview(request_scope& scope) {
  if (canvas_missing(scope))
    return;
  std::string channel;
  try {
    auto qp = restinio::parse_query(scope.out->request().header().query());
    if (qp.has("channel"))
      channel = restinio::cast_to<std::string>(qp["channel"]);
  } catch (const std::exception&) {
    scope.out->send_error({ec::invalid_request, "The query string is malformed.", {}});
    return;
  }
  ask_canvas<preview_reply>(
    scope,
    [](const responder_ptr& out, const preview_reply& reply) {
      out->send(200, reply.to_json().dump(-1, ' ', false, json::error_handler_t::replace));
    },
    preview_atom_v, std::move(channel));
}

void handle_canvas_sync(request_scope& scope) {
  if (canvas_missing(scope))
    return;
  ask_canvas<sync_reply>(
    scope,
    [](const responder_ptr& out, const sync_reply& reply) {
      if (reply.all_sent()) {
        out->send(200, reply.to_json().dump());
        return;
      }
      json canvases = json::array();
      std::string first_error;
      for (const auto& c : reply.canvases) {
        json entry = {{"channel", c.channel}, {"canvas_id", c.canvas_id}, {"ok", c.ok}};
        if (!c.ok) {
          entry["error"] = c.error;
          if (first_error.empty())
            first_error = c.error;
        }
        canvases.push_back(std::move(entry));
      }
      out->send_error({ec::slack_error,
                       "Slack did not accept every canvas update (" + first_error + ").",
                       {{"error", first_error}, {"canvases", std::move(canvases)}}});
    },
    sync_atom_v);
}

} // namespace epmpulse::http
