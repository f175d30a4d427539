#include "http/negotiation.hpp"

#include <restinio/helpers/http_field_parsers/accept-encoding.hpp>

namespace epmpulse::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

std::string_view opaque_tag(std::string_view tag) {
  if (tag.substr(0, 2) == "W/")
    tag.remove_prefix(2);
  return tag;
}

} // namespace

bool accepts_gzip(const restinio::request_t& req) {
  using restinio::http_field_parsers::accept_encoding_value_t;
  auto field = req.header().opt_value_of(restinio::http_field::accept_encoding);
  if (!field)
    return false;
  auto parsed = accept_encoding_value_t::try_parse(*field);
  if (!parsed)
    return false;
  bool named = false;
  bool named_ok = false;
  bool any_ok = false;
  for (const auto& item : parsed->codings) {
    bool ok = item.weight.as_uint() > 0;
    if (item.content_coding == "gzip" || item.content_coding == "x-gzip") {
      named = true;
      named_ok = named_ok || ok;
    } else if (item.content_coding == "*") {
      any_ok = ok;
    }
  }
  return named ? named_ok : any_ok;
}

bool etag_matches(std::string_view if_none_match, std::string_view etag) {
  if (trim(if_none_match) == "*")
    return true;
  // The list splits at commas: a tag may hold one, but ours never do, so such
  // a tag cannot match anyway.
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    auto tag = trim(if_none_match.substr(0, comma));
    if (!tag.empty() && opaque_tag(tag) == opaque_tag(etag))
      return true;
    if (comma == std::string_view::npos)
      break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

} // namespace epmpulse::http
