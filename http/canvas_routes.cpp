#include "http/canvas_routes.hpp"

#include <caf/actor.hpp>
#include <caf/send.hpp>
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
  caf::anon_send(scope.services.canvas, preview_atom_v, std::move(channel),
                 preview_callback{[out = scope.out](preview_reply reply) {
                   if (reply.error != ec::none) {
                     out->send_error({reply.error, reply.message, {}});
                     return;
                   }
                   out->send(200, reply.to_json().dump(-1, ' ', false,
                                                       json::error_handler_t::replace));
                 }});
}

void handle_canvas_sync(request_scope& scope) {
  if (canvas_missing(scope))
    return;
  caf::anon_send(
    scope.services.canvas, sync_atom_v, sync_callback{[out = scope.out](sync_reply reply) {
      if (reply.error == ec::none) {
        out->send(200, reply.to_json().dump());
        return;
      }
      if (reply.error == ec::slack_disabled) {
        out->send_error({ec::slack_disabled,
                         "Slack is not configured: set SLACK_BOT_TOKEN (or "
                         "settings.slack.bot_token) to enable canvas updates.",
                         {}});
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
    }});
}

} // namespace epmpulse::http
