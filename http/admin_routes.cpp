#include "http/admin_routes.hpp"

#include <nlohmann/json.hpp>

#include "http/edge.hpp"

namespace epmpulse::http {

using nlohmann::json;

void handle_reload(request_scope& scope) {
  if (!scope.services.reloader) {
    scope.out->send_error({ec::unavailable, "Reloading is not available in this process.", {}});
    return;
  }
  scope.services.edge.ask<reload_outcome>(
    scope.out, scope.services.reloader,
    [out = scope.out](reload_outcome& outcome) {
      if (outcome.refused) {
        const auto& e = *outcome.refused;
        out->send_error({ec::invalid_config,
                         "The configuration file is invalid, so nothing was reloaded; the "
                         "running API keys and rate limits stay. Fix it and reload again.",
                         {{"errors", json::array({{{"file", e.file},
                                                   {"field", e.field},
                                                   {"problem", e.problem},
                                                   {"fix", e.fix},
                                                   {"message", e.to_string()}}})}}});
        return;
      }
      out->send(200, outcome.to_json().dump());
    },
    reload_atom_v, "POST /api/v1/admin/reload by " + scope.key->name);
}

} // namespace epmpulse::http
