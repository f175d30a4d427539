#pragma once

// Status badges: shields-style flat SVG images, a label on grey and the
// status word on the status's colour (the colours of the canvas's status
// icons and of the dashboard page). Pure functions.

#include <map>
#include <string>
#include <string_view>

#include "actors/state/status_model.hpp"

namespace epmpulse::http {

/// Makes `text` inert in XML/HTML text and attribute values (& < > " ').
std::string xml_escape(std::string_view text);

/// The badge colour of a status: Blank grey, Loading amber, OK green,
/// Warning red (⚪ 🟡 🟢 🔴 on the canvas).
const char* badge_colour(job_status s);

/// The status an app's badge shows: the worst of its domains (Warning, then
/// Loading, then OK); Blank when every domain is Blank or it has none.
job_status overall_status(const std::map<std::string, domain_state>& domains);

/// The whole SVG document of a badge reading `label` | `status`.
std::string render_badge(std::string_view label, job_status status);

} // namespace epmpulse::http
