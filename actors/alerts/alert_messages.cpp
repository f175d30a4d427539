#include "actors/alerts/alert_messages.hpp"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "actors/alerts/alerts.hpp"

namespace epmpulse {

namespace {

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

} // namespace

std::string webhook_signature(const std::string& secret, const std::string& timestamp,
                              const std::string& body) {
  auto message = timestamp + "." + body;
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &size);
  return "sha256=" + hex(digest, size);
}

namespace alerting {

using nlohmann::json;

std::string where(const alert_record& a) {
  return "*" + a.app + " / " + a.domain + "*";
}

std::string elapsed_words(time_point from, time_point to) {
  auto m = std::chrono::duration_cast<std::chrono::minutes>(to - from).count();
  if (m < 60)
    return fmt::format("{} min", m);
  return fmt::format("{} h {} min", m / 60, m % 60);
}

std::string slack_text(const alert_record& a, const std::string& what, time_point now) {
  std::string holds;
  if (!a.holds.empty()) {
    holds = " Holding downstream:";
    for (const auto& h : a.holds)
      holds += " " + h;
    holds += ".";
  }
  if (what == "opened")
    return fmt::format(":red_circle: {} is {}: {}.{}", where(a), a.kind, a.cause, holds);
  if (what == "changed")
    return fmt::format(":red_circle: Now {}: {}.{}", a.kind, a.cause, holds);
  if (what == "reminded")
    return fmt::format(":hourglass: Still {} after {}: {}.{}", a.kind,
                       elapsed_words(a.opened, now), a.cause, holds);
  if (what == "acknowledged")
    return ":eyes: Acknowledged: no reminders until it recovers.";
  return fmt::format(":large_green_circle: Recovered: {} (was {} for {}).", where(a), a.kind,
                     elapsed_words(a.opened, a.recovered.value_or(now)));
}

http_request webhook_request(const config::webhook_settings& w, const alert_record& a,
                             const std::string& what, std::uint64_t delivery, time_point now) {
  json payload = {{"event", what},
                  {"delivery_id", fmt::format("{}-{}", a.id, delivery)},
                  {"sent_at", format_time(now)},
                  {"text", slack_text(a, what, now)},
                  {"alert", to_json(a, false)}};
  payload["alert"].erase("threads");
  http_request req;
  req.method = "POST";
  req.url = w.url;
  req.body = payload.dump();
  auto timestamp = std::to_string(
    std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  req.headers = {{"Content-Type", "application/json"},
                 {"X-EPMPulse-Timestamp", timestamp},
                 {"X-EPMPulse-Signature", webhook_signature(w.secret, timestamp, req.body)}};
  req.timeout_sec = w.timeout_sec;
  return req;
}

} // namespace alerting

} // namespace epmpulse
