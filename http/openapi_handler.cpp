#include "http/openapi_handler.hpp"

#include "http/embedded_data.hpp"
#include "http/negotiation.hpp"

namespace epmpulse::http {

void handle_openapi(request_scope& scope) {
  // One copy for the life of the process, sent from the shared buffer.
  static const auto document = std::make_shared<const std::string>(openapi_document());
  auto& out = *scope.out;
  // The document changes only with the binary: revalidating costs a 304, and
  // an upgraded server's document is seen at once.
  out.add_header("ETag", std::string(openapi_etag()));
  out.add_header("Cache-Control", "no-cache");
  auto if_none_match = out.request().header().opt_value_of(restinio::http_field::if_none_match);
  if (if_none_match && etag_matches(*if_none_match, openapi_etag())) {
    out.send_not_modified(document->size());
    return;
  }
  out.send(200, document);
}

} // namespace epmpulse::http
