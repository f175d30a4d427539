#include "tests/support/log_secrets.hpp"

#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>

#include <boost/test/framework.hpp>
#include <boost/test/tree/test_unit.hpp>

#include "actors/pull/token_cache.hpp"

namespace epmpulse::test {

namespace {

std::string current_test_name() {
  try {
    std::string name = boost::unit_test::framework::current_test_case().p_name;
    for (auto& c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
        c = '_';
    return name.substr(0, 80);
  } catch (...) {
    return "outside_a_test";
  }
}

struct registry {
  std::mutex mutex;
  std::set<std::string> seen;
};

registry& secrets() {
  static registry r;
  return r;
}

std::string masked(const std::string& secret) {
  return secret.substr(0, 3) + "…(" + std::to_string(secret.size()) + " characters)";
}

const nlohmann::json* at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const nlohmann::json* node = &j;
  for (const char* step : path) {
    if (!node->is_object() || !node->contains(step))
      return nullptr;
    node = &(*node)[step];
  }
  return node;
}

std::string string_at(const nlohmann::json& j, std::initializer_list<const char*> path) {
  const auto* node = at(j, path);
  return node && node->is_string() ? node->get<std::string>() : std::string{};
}

} // namespace

std::filesystem::path test_log_dir() {
#ifdef EPMPULSE_TEST_LOG_DIR
  std::filesystem::path dir{EPMPULSE_TEST_LOG_DIR};
  std::error_code ignored;
  std::filesystem::create_directories(dir, ignored);
  return dir;
#else
  return {};
#endif
}

std::filesystem::path new_log_path(const std::string& what) {
  static std::atomic<int> counter{0};
  auto dir = test_log_dir();
  if (dir.empty())
    return {};
  return dir / (current_test_name() + "-" + std::to_string(::getpid()) + "-"
                + std::to_string(++counter) + "-" + what + ".log");
}

void register_secret(const std::string& value) {
  if (value.size() < min_secret_length || value.find("${") != std::string::npos)
    return;
  auto& r = secrets();
  std::lock_guard guard{r.mutex};
  if (!r.seen.insert(value).second)
    return;
  auto dir = test_log_dir();
  if (dir.empty())
    return;
  std::ofstream out{dir / ("secrets-" + std::to_string(::getpid()) + ".jsonl"), std::ios::app};
  out << nlohmann::json(value).dump() << "\n";
}

void register_config_secrets(const nlohmann::json& config) {
  if (const auto* keys = at(config, {"api_keys"}); keys && keys->is_array())
    for (const auto& k : *keys)
      register_secret(string_at(k, {"key"}));
  register_secret(string_at(config, {"settings", "slack", "bot_token"}));
  register_secret(string_at(config, {"settings", "dashboard", "signing_key"}));
  for (const char* field : {"client_secret", "refresh_token", "password"})
    register_secret(string_at(config, {"epm", "auth", field}));
  auto user = string_at(config, {"epm", "auth", "username"});
  auto password = string_at(config, {"epm", "auth", "password"});
  if (!password.empty())
    register_secret(base64_encode(user + ":" + password));
}

void register_env_secrets(const std::map<std::string, std::string>& env) {
  for (const auto& [name, value] : env)
    for (const char* word : {"KEY", "TOKEN", "SECRET", "PASSWORD"})
      if (name.find(word) != std::string::npos)
        register_secret(value);
}

namespace {

constexpr const char* run_marker = "run-started";

// Files of `dir` but the marker, split by whether they were written since it.
void split_by_run(const std::filesystem::path& dir, std::vector<std::filesystem::path>* this_run,
                  std::vector<std::filesystem::path>* earlier) {
  std::error_code ec;
  auto marker = std::filesystem::last_write_time(dir / run_marker, ec);
  bool marked = !ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || entry.path().filename() == run_marker)
      continue;
    std::error_code time_ec;
    bool recent = !marked || std::filesystem::last_write_time(entry.path(), time_ec) >= marker;
    auto* into = recent ? this_run : earlier;
    if (into)
      into->push_back(entry.path());
  }
}

} // namespace

std::vector<std::filesystem::path> files_of_this_run(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  split_by_run(dir, &files, nullptr);
  return files;
}

void remove_earlier_runs(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> old;
  split_by_run(dir, nullptr, &old);
  for (const auto& p : old) {
    std::error_code ignored;
    std::filesystem::remove(p, ignored);
  }
}

std::vector<std::string> registered_secrets(const std::filesystem::path& dir) {
  std::set<std::string> all;
  for (const auto& path : files_of_this_run(dir)) {
    auto name = path.filename().string();
    if (!name.starts_with("secrets-") || path.extension() != ".jsonl")
      continue;
    std::ifstream in{path};
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line, nullptr, false);
      if (j.is_string())
        all.insert(j.get<std::string>());
    }
  }
  return {all.begin(), all.end()};
}

std::vector<leak> find_leaks(const std::map<std::string, std::string>& logs,
                             const std::vector<std::string>& secrets) {
  std::vector<std::pair<std::string, std::string>> needles; // (form, text) per secret
  std::vector<std::size_t> owner;
  for (std::size_t i = 0; i < secrets.size(); ++i) {
    const auto& s = secrets[i];
    auto add = [&](const char* form, std::string text) {
      if (text.size() >= min_secret_length) {
        needles.emplace_back(form, std::move(text));
        owner.push_back(i);
      }
    };
    add("as is", s);
    auto escaped = nlohmann::json(s).dump();
    if (escaped.substr(1, escaped.size() - 2) != s)
      add("JSON-escaped", escaped.substr(1, escaped.size() - 2));
    if (auto encoded = form_encode(s); encoded != s)
      add("percent-encoded", encoded);
    if (s.size() >= 24) {
      add("first half", s.substr(0, s.size() / 2));
      add("second half", s.substr(s.size() / 2));
    }
  }
  std::vector<leak> found;
  for (const auto& [name, text] : logs) {
    std::istringstream in{text};
    std::string line;
    for (std::size_t number = 1; std::getline(in, line); ++number)
      for (std::size_t n = 0; n < needles.size(); ++n)
        if (line.find(needles[n].second) != std::string::npos)
          found.push_back({name, number, masked(secrets[owner[n]]), needles[n].first});
  }
  return found;
}

} // namespace epmpulse::test
