#include "http/canvas_routes.hpp"

#include <nlohmann/json.hpp>

#include "http/edge.hpp"

namespace epmpulse::http {

using nlohmann::json;

namespace {

bool canvas_missing(request_scope& scope) {
  if (scope.services.canvas)
    return false;
  scope.out->send_error({ec::unavailable, "The canvas side is not running.", {}});
  return true;
}

// A sync where Slack refused some canvas: 502 with each canvas's outcome.
api_error refused_sync(const sync_reply& reply) {
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
  return {ec::slack_error, "Slack did not accept every canvas update (" + first_error + ").",
          {{"error", first_error}, {"canvases", std::move(canvases)}}};
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
  scope.services.edge.ask<preview_reply>(
    scope.out, scope.services.canvas,
    [out = scope.out](preview_reply& reply) {
      out->send(200, reply.to_json().dump(-1, ' ', false, json::error_handler_t::replace));
    },
    preview_atom_v, std::move(channel));
}

void handle_canvas_sync(request_scope& scope) {
  if (canvas_missing(scope))
    return;
  scope.services.edge.ask<sync_reply>(
    scope.out, scope.services.canvas,
    [out = scope.out](sync_reply& reply) {
      if (!reply.all_sent()) {
        out->send_error(refused_sync(reply));
        return;
      }
      out->send(200, reply.to_json().dump());
    },
    sync_atom_v);
}

} // namespace epmpulse::http
