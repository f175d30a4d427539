#include "actors/common/log.hpp"

#include <atomic>
#include <memory>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "actors/state/status_model.hpp"

namespace epmpulse::log {

namespace {

std::atomic<level> min_level{level::info};

const char* name_of(level lvl) {
  switch (lvl) {
    case level::debug: return "debug";
    case level::info: return "info";
    case level::warn: return "warn";
    case level::error: return "error";
  }
  return "info";
}

// spdlog owns the sink's thread safety and flushing; we hand it finished
// JSON lines, so its pattern is the bare message.
spdlog::logger& sink() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = std::make_shared<spdlog::logger>(
      "epmpulse", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

} // namespace

bool parse_level(std::string_view text, level& out) {
  if (text == "debug") out = level::debug;
  else if (text == "info") out = level::info;
  else if (text == "warn" || text == "warning") out = level::warn;
  else if (text == "error") out = level::error;
  else return false;
  return true;
}

void set_level(level min) {
  min_level.store(min, std::memory_order_relaxed);
}

bool enabled(level lvl) {
  return lvl >= min_level.load(std::memory_order_relaxed);
}

void write(level lvl, std::string_view message, std::string_view request_id,
           const nlohmann::json& fields) {
  if (!enabled(lvl))
    return;
  nlohmann::json line = nlohmann::json::object();
  line["time"] = format_time(now_ms());
  line["level"] = name_of(lvl);
  line["message"] = message;
  if (!request_id.empty())
    line["request_id"] = request_id;
  if (!fields.is_null() && !(fields.is_object() && fields.empty()))
    line["fields"] = fields;
  sink().info(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

} // namespace epmpulse::log
