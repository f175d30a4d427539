#include "http/badge_svg.hpp"

#include <fmt/format.h>

namespace epmpulse::http {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default:
        // Control characters are not allowed in XML 1.0 at all.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t')
          out += c;
    }
  }
  return out;
}

const char* badge_colour(job_status s) {
  switch (s) {
    case job_status::blank: return "#8a8f98";
    case job_status::loading: return "#d39e00";
    case job_status::ok: return "#2e9e44";
    case job_status::warning: return "#d73a3a";
  }
  return "#8a8f98";
}

job_status overall_status(const std::map<std::string, domain_state>& domains) {
  bool loading = false;
  bool ok = false;
  for (const auto& [name, d] : domains) {
    if (d.status == job_status::warning)
      return job_status::warning;
    loading = loading || d.status == job_status::loading;
    ok = ok || d.status == job_status::ok;
  }
  return loading ? job_status::loading : ok ? job_status::ok : job_status::blank;
}

namespace {

// Width of `text` in 11px Verdana (the shields font), estimated per
// character class; the SVG's textLength makes the rendering fit it exactly.
int text_width(std::string_view text) {
  double width = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80)
      continue; // a UTF-8 continuation byte: counted with its lead byte
    if (c >= 0x80)
      width += 8.0;
    else if (std::string_view("iljI.,:;|!'").find(static_cast<char>(c)) != std::string_view::npos)
      width += 3.5;
    else if (std::string_view("mwMW").find(static_cast<char>(c)) != std::string_view::npos)
      width += 10.0;
    else if (std::isupper(c) || std::isdigit(c))
      width += 7.5;
    else
      width += 6.5;
  }
  return static_cast<int>(width + 0.5);
}

} // namespace

std::string render_badge(std::string_view label, job_status status) {
  const std::string word = to_string(status);
  const int label_text = text_width(label);
  const int status_text = text_width(word);
  const int label_box = label_text + 12;
  const int status_box = status_text + 12;
  const int total = label_box + status_box;
  const auto shown_label = xml_escape(label);
  // Text positions and lengths are in tenths (scale(.1)), as shields does,
  // for crisp glyph placement.
  return fmt::format(
    R"svg(<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{label}: {word}">)svg"
    R"svg(<title>{label}: {word}</title>)svg"
    R"svg(<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>)svg"
    R"svg(<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>)svg"
    R"svg(<g clip-path="url(#r)"><rect width="{label_box}" height="20" fill="#555"/>)svg"
    R"svg(<rect x="{label_box}" width="{status_box}" height="20" fill="{colour}"/>)svg"
    R"svg(<rect width="{total}" height="20" fill="url(#s)"/></g>)svg"
    R"svg(<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="110">)svg"
    R"svg(<text x="{label_x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{label_len}">{label}</text>)svg"
    R"svg(<text x="{label_x}" y="140" transform="scale(.1)" textLength="{label_len}">{label}</text>)svg"
    R"svg(<text x="{status_x}" y="150" fill="#010101" fill-opacity=".3" transform="scale(.1)" textLength="{status_len}">{word}</text>)svg"
    R"svg(<text x="{status_x}" y="140" transform="scale(.1)" textLength="{status_len}">{word}</text>)svg"
    R"svg(</g></svg>)svg",
    fmt::arg("total", total), fmt::arg("label", shown_label), fmt::arg("word", word),
    fmt::arg("label_box", label_box), fmt::arg("status_box", status_box),
    fmt::arg("colour", badge_colour(status)), fmt::arg("label_x", label_box * 5),
    fmt::arg("label_len", label_text * 10), fmt::arg("status_x", (label_box + status_box / 2.0) * 10),
    fmt::arg("status_len", status_text * 10));
}

} // namespace epmpulse::http
