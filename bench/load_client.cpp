// load_client: drives EPMPulse with status pushes over N keep-alive
// connections (libcurl multi, one thread) and checks that no acknowledged
// update was lost.
//
// Every update goes to one of `--domains` (app, domain) pairs, taken round
// robin so that concurrent requests hit distinct pairs whenever there are
// enough of them; each pair's event timestamps strictly increase. For every
// 200 the client remembers, per pair, the acknowledged update with the newest
// timestamp. At the end it reads GET /api/v1/status once and counts a pair as
// lost when the server shows something older than that update (or the same
// time with another status/job_id). A pair showing a newer update than the
// newest acknowledged one is fine: that update was sent but its answer did
// not arrive (an error or a timeout), and the server may well have applied it.
//
// Modes:
//   single  POST /api/v1/status, one update per request
//   batch   POST /api/v1/status/batch, --batch-size updates per request
//   mixed   --get-ratio of the requests GET /api/v1/status, the rest as single
//   get     GET /api/v1/status only (no loss check)
//
// The layout of apps and domains is shared with bench/run.sh and the wrk
// scripts: pair i is app apps[i % apps.size()] with domain "D%05d" % i.
//
// Output: one JSON object on stdout. Exit 0 when nothing was lost, 1 when
// something was, 2 on bad usage or when the server could not be read.

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

using nlohmann::json;
using clock_type = std::chrono::steady_clock;

// -- options ---------------------------------------------------------------------

// poll: a dashboard polling GET /status with gzip and If-None-Match (the ETag
// of its last 200), answered 304 while nothing changed.
enum class mode { single, batch, mixed, get, poll };

struct options {
  std::string url;                 ///< http://127.0.0.1:PORT
  std::string key;                 ///< Bearer key (write role)
  std::size_t connections = 64;
  std::uint64_t requests = 0;      ///< 0 = bounded by time only
  double duration_sec = 10;
  mode run_mode = mode::single;
  std::vector<std::string> apps = {"Planning", "FCCS", "ARCS"};
  std::size_t domains = 150;
  std::size_t batch_size = 10;
  double get_ratio = 0.1;
  bool check = true;
  double timeout_sec = 30;
  std::string label;
};

[[noreturn]] void usage(const std::string& why) {
  std::cerr << "load_client: " << why << "\n"
            << "usage: load_client --url http://127.0.0.1:PORT --key KEY\n"
               "         [--connections 64] [--requests 0] [--duration 10]\n"
               "         [--mode single|batch|mixed|get|poll] [--apps A,B,C] [--domains 150]\n"
               "         [--batch-size 10] [--get-ratio 0.1] [--no-check] [--timeout 30]\n"
               "         [--label NAME]\n";
  std::exit(2);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(sep, start);
    if (end == std::string::npos)
      end = s.size();
    if (end > start)
      out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

options parse_options(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc)
        usage("missing value for " + arg);
      return argv[++i];
    };
    try {
      if (arg == "--url")
        opt.url = value();
      else if (arg == "--key")
        opt.key = value();
      else if (arg == "--connections")
        opt.connections = std::stoul(value());
      else if (arg == "--requests")
        opt.requests = std::stoull(value());
      else if (arg == "--duration")
        opt.duration_sec = std::stod(value());
      else if (arg == "--apps")
        opt.apps = split(value(), ',');
      else if (arg == "--domains")
        opt.domains = std::stoul(value());
      else if (arg == "--batch-size")
        opt.batch_size = std::stoul(value());
      else if (arg == "--get-ratio")
        opt.get_ratio = std::stod(value());
      else if (arg == "--no-check")
        opt.check = false;
      else if (arg == "--timeout")
        opt.timeout_sec = std::stod(value());
      else if (arg == "--label")
        opt.label = value();
      else if (arg == "--mode") {
        auto m = value();
        if (m == "single")
          opt.run_mode = mode::single;
        else if (m == "batch")
          opt.run_mode = mode::batch;
        else if (m == "mixed")
          opt.run_mode = mode::mixed;
        else if (m == "get")
          opt.run_mode = mode::get;
        else if (m == "poll")
          opt.run_mode = mode::poll;
        else
          usage("unknown mode " + m);
      } else
        usage("unknown option " + arg);
    } catch (const std::exception&) {
      usage("bad value for " + arg);
    }
  }
  // A load generator must never point at anything but this machine.
  if (opt.url.rfind("http://127.0.0.1:", 0) != 0 && opt.url.rfind("http://localhost:", 0) != 0)
    usage("--url must be http://127.0.0.1:PORT (loopback only)");
  while (!opt.url.empty() && opt.url.back() == '/')
    opt.url.pop_back();
  if (opt.key.empty())
    usage("--key is required");
  if (opt.connections == 0 || opt.apps.empty() || opt.domains == 0)
    usage("--connections, --apps and --domains must not be empty");
  if (opt.run_mode == mode::batch && (opt.batch_size == 0 || opt.batch_size > 100))
    usage("--batch-size must be 1..100");
  if (opt.run_mode == mode::batch && opt.batch_size > opt.domains)
    usage("--batch-size must not exceed --domains (a batch names distinct domains)");
  if (opt.requests == 0 && opt.duration_sec <= 0)
    usage("bound the run by --requests or --duration");
  return opt;
}

// -- the update model --------------------------------------------------------------

const char* const statuses[] = {"Loading", "OK", "Warning"};

/// One update as sent, and what the client remembers of acknowledged ones.
struct update_record {
  std::int64_t ts_ms = 0; ///< event time, ms since the epoch; 0 = none
  std::uint8_t status = 0;
  std::uint64_t seq = 0;  ///< job_id is "<run>-<seq>"
};

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string rfc3339_ms(std::int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64]; // room for any int fields: no truncation warning
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

std::string domain_name(std::size_t i) {
  return fmt::format("D{:05d}", i);
}

struct pair_state {
  std::int64_t last_sent_ts = 0;
  update_record acked;            ///< newest acknowledged update
};

// -- measurements ------------------------------------------------------------------

struct latencies {
  std::vector<std::uint32_t> us;

  void add(clock_type::duration d) {
    us.push_back(static_cast<std::uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(d).count()));
  }
  double percentile_ms(double p) {
    if (us.empty())
      return 0;
    auto idx = static_cast<std::size_t>(p / 100.0 * static_cast<double>(us.size() - 1) + 0.5);
    std::nth_element(us.begin(), us.begin() + static_cast<std::ptrdiff_t>(idx), us.end());
    return us[idx] / 1000.0;
  }
  double max_ms() const {
    return us.empty() ? 0 : *std::max_element(us.begin(), us.end()) / 1000.0;
  }
};

// -- the client --------------------------------------------------------------------

enum class request_kind { post_single, post_batch, get_status };

struct slot {
  CURL* easy = nullptr;
  std::string body;
  std::string response;
  request_kind kind = request_kind::post_single;
  std::vector<std::pair<std::size_t, update_record>> updates; ///< (pair index, update)
  clock_type::time_point started;
  // poll mode: the ETag of the last 200, the one of the response under way,
  // and the request headers that send the former back.
  std::string etag;
  std::string received_etag;
  curl_slist* poll_headers = nullptr;
};

std::size_t collect_etag(char* data, std::size_t size, std::size_t n, void* user) {
  std::string_view line{data, size * n};
  constexpr std::string_view name = "etag:";
  if (line.size() > name.size()
      && std::equal(name.begin(), name.end(), line.begin(),
                    [](char a, char b) { return a == std::tolower(static_cast<unsigned char>(b)); })) {
    auto value = line.substr(name.size());
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' '))
      value.remove_suffix(1);
    static_cast<slot*>(user)->received_etag = value;
  }
  return size * n;
}

std::size_t collect_body(char* data, std::size_t size, std::size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

class load_client {
public:
  explicit load_client(options opt) : opt_(std::move(opt)), pairs_(opt_.domains) {
    run_id_ = fmt::format("R{:x}", static_cast<std::uint64_t>(wall_ms()) & 0xFFFFFFFu);
    auth_ = curl_slist_append(nullptr, ("Authorization: Bearer " + opt_.key).c_str());
    auth_ = curl_slist_append(auth_, "Content-Type: application/json");
    auth_ = curl_slist_append(auth_, "Expect:"); // no 100-continue round trip for larger bodies
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(opt_.connections));
    curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(opt_.connections));
    slots_.resize(opt_.connections);
    for (auto& s : slots_) {
      s.easy = curl_easy_init();
      configure(s.easy, s.response);
      curl_easy_setopt(s.easy, CURLOPT_PRIVATE, &s);
      if (opt_.run_mode == mode::poll) {
        curl_easy_setopt(s.easy, CURLOPT_HEADERFUNCTION, collect_etag);
        curl_easy_setopt(s.easy, CURLOPT_HEADERDATA, &s);
        use_etag(s, "");
      }
    }
  }

  ~load_client() {
    for (auto& s : slots_) {
      curl_easy_cleanup(s.easy);
      curl_slist_free_all(s.poll_headers);
    }
    curl_multi_cleanup(multi_);
    curl_slist_free_all(auth_);
  }

  /// Runs the load; returns the process exit code and prints the JSON line.
  int run() {
    auto start = clock_type::now();
    deadline_ = start + std::chrono::microseconds(static_cast<std::int64_t>(opt_.duration_sec * 1e6));
    std::size_t active = 0;
    for (auto& s : slots_)
      if (start_next(s)) {
        curl_multi_add_handle(multi_, s.easy);
        ++active;
      }
    auto drain_limit = clock_type::time_point::max();
    while (active > 0) {
      int running = 0;
      curl_multi_perform(multi_, &running);
      int left = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
        if (msg->msg != CURLMSG_DONE)
          continue;
        slot* s = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &s);
        finish(*s, msg->data.result);
        curl_multi_remove_handle(multi_, s->easy);
        if (start_next(*s))
          curl_multi_add_handle(multi_, s->easy);
        else
          --active;
      }
      if (active == 0)
        break;
      if (stopping() && drain_limit == clock_type::time_point::max())
        drain_limit = clock_type::now()
                      + std::chrono::microseconds(static_cast<std::int64_t>(opt_.timeout_sec * 1e6));
      if (clock_type::now() > drain_limit)
        break; // requests still unanswered count as errors below
      curl_multi_poll(multi_, nullptr, 0, 100, nullptr);
    }
    auto elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    transport_errors_ += active; // abandoned at the drain limit
    json out = report(elapsed);
    int rc = 0;
    if (opt_.check && opt_.run_mode != mode::get && opt_.run_mode != mode::poll) {
      if (!check_state(out))
        rc = 2;
      else if (out["lost"].get<std::uint64_t>() > 0)
        rc = 1;
    }
    std::cout << out.dump() << std::endl;
    return rc;
  }

private:
  void configure(CURL* easy, std::string& sink) const {
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, auth_);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(easy, CURLOPT_PROXY, ""); // never through a proxy from the environment
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(opt_.timeout_sec * 1000));
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http");
  }

  // The poll mode's request headers: the key, gzip, and the ETag held.
  void use_etag(slot& s, const std::string& etag) {
    s.etag = etag;
    curl_slist_free_all(s.poll_headers);
    s.poll_headers = curl_slist_append(nullptr, ("Authorization: Bearer " + opt_.key).c_str());
    s.poll_headers = curl_slist_append(s.poll_headers, "Accept-Encoding: gzip");
    if (!etag.empty())
      s.poll_headers = curl_slist_append(s.poll_headers, ("If-None-Match: " + etag).c_str());
    curl_easy_setopt(s.easy, CURLOPT_HTTPHEADER, s.poll_headers);
  }

  bool stopping() const {
    return (opt_.requests > 0 && sent_ >= opt_.requests) || clock_type::now() >= deadline_;
  }

  std::size_t next_pair() {
    auto i = cursor_;
    cursor_ = (cursor_ + 1) % opt_.domains;
    return i;
  }

  update_record next_update(std::size_t pair) {
    auto& p = pairs_[pair];
    update_record u;
    u.ts_ms = std::max(wall_ms(), p.last_sent_ts + 1);
    p.last_sent_ts = u.ts_ms;
    u.seq = ++seq_;
    u.status = static_cast<std::uint8_t>(u.seq % 3);
    return u;
  }

  void append_item(std::string& out, std::size_t pair, const update_record& u) const {
    out += fmt::format(R"({{"app":"{}","domain":"{}","status":"{}","job_id":"{}-{}","timestamp":"{}")",
                       opt_.apps[pair % opt_.apps.size()], domain_name(pair), statuses[u.status],
                       run_id_, u.seq, rfc3339_ms(u.ts_ms));
    if (u.status != 0)
      out += fmt::format(R"(,"message":"rows loaded: {}")", u.seq % 100000);
    out += '}';
  }

  bool start_next(slot& s) {
    if (stopping())
      return false;
    ++sent_;
    s.response.clear();
    s.updates.clear();
    s.body.clear();
    s.received_etag.clear();
    bool get = opt_.run_mode == mode::get || opt_.run_mode == mode::poll
               || (opt_.run_mode == mode::mixed && coin_(rng_) < opt_.get_ratio);
    if (get) {
      s.kind = request_kind::get_status;
      curl_easy_setopt(s.easy, CURLOPT_URL, (opt_.url + "/api/v1/status").c_str());
      curl_easy_setopt(s.easy, CURLOPT_HTTPGET, 1L);
    } else if (opt_.run_mode == mode::batch) {
      s.kind = request_kind::post_batch;
      s.body = R"({"updates":[)";
      for (std::size_t k = 0; k < opt_.batch_size; ++k) {
        auto pair = next_pair();
        auto u = next_update(pair);
        if (k > 0)
          s.body += ',';
        append_item(s.body, pair, u);
        s.updates.emplace_back(pair, u);
      }
      s.body += "]}";
      curl_easy_setopt(s.easy, CURLOPT_URL, (opt_.url + "/api/v1/status/batch").c_str());
    } else {
      s.kind = request_kind::post_single;
      auto pair = next_pair();
      auto u = next_update(pair);
      append_item(s.body, pair, u);
      s.updates.emplace_back(pair, u);
      curl_easy_setopt(s.easy, CURLOPT_URL, (opt_.url + "/api/v1/status").c_str());
    }
    if (!get) {
      curl_easy_setopt(s.easy, CURLOPT_POSTFIELDS, s.body.c_str());
      curl_easy_setopt(s.easy, CURLOPT_POSTFIELDSIZE, static_cast<long>(s.body.size()));
    }
    s.started = clock_type::now();
    return true;
  }

  void finish(slot& s, CURLcode result) {
    auto took = clock_type::now() - s.started;
    ++completed_;
    if (result != CURLE_OK) {
      ++transport_errors_;
      if (transport_error_samples_.size() < 3)
        transport_error_samples_.push_back(curl_easy_strerror(result));
      return;
    }
    long code = 0;
    curl_easy_getinfo(s.easy, CURLINFO_RESPONSE_CODE, &code);
    if (opt_.run_mode == mode::poll && code == 304) {
      get_lat_.add(took);
      ++gets_ok_;
      ++not_modified_;
      return;
    }
    if (opt_.run_mode == mode::poll && code == 200 && s.received_etag != s.etag)
      use_etag(s, s.received_etag);
    if (code != 200) {
      ++http_errors_;
      if (http_error_samples_.size() < 3)
        http_error_samples_.push_back(fmt::format("{}: {}", code, s.response.substr(0, 200)));
      return;
    }
    if (s.kind == request_kind::get_status) {
      get_lat_.add(took);
      ++gets_ok_;
      return;
    }
    post_lat_.add(took);
    ++posts_ok_;
    // Cheap count of updates the server answered as stale/unchanged.
    for (auto pos = s.response.find(R"("applied":false)"); pos != std::string::npos;
         pos = s.response.find(R"("applied":false)", pos + 1))
      ++not_applied_;
    for (const auto& [pair, u] : s.updates) {
      ++acked_updates_;
      auto& acked = pairs_[pair].acked;
      if (u.ts_ms > acked.ts_ms)
        acked = u;
    }
  }

  json report(double elapsed) {
    latencies all;
    all.us = post_lat_.us;
    all.us.insert(all.us.end(), get_lat_.us.begin(), get_lat_.us.end());
    const char* mode_name[] = {"single", "batch", "mixed", "get", "poll"};
    json out = {
      {"tool", "load_client"},
      {"label", opt_.label},
      {"mode", mode_name[static_cast<int>(opt_.run_mode)]},
      {"connections", opt_.connections},
      {"domains", opt_.domains},
      {"duration_s", elapsed},
      {"requests", completed_},
      {"ok", posts_ok_ + gets_ok_},
      {"req_per_s", (posts_ok_ + gets_ok_) / elapsed},
      {"updates_per_s", acked_updates_ / elapsed},
      {"acked_updates", acked_updates_},
      {"not_applied", not_applied_},
      {"p50_ms", all.percentile_ms(50)},
      {"p90_ms", all.percentile_ms(90)},
      {"p99_ms", all.percentile_ms(99)},
      {"max_ms", all.max_ms()},
      {"errors", http_errors_ + transport_errors_},
      {"http_errors", http_errors_},
      {"transport_errors", transport_errors_},
    };
    if (opt_.run_mode == mode::mixed) {
      out["post_p99_ms"] = post_lat_.percentile_ms(99);
      out["get_p50_ms"] = get_lat_.percentile_ms(50);
      out["get_p99_ms"] = get_lat_.percentile_ms(99);
      out["gets"] = gets_ok_;
    }
    if (opt_.run_mode == mode::poll)
      out["not_modified"] = not_modified_;
    if (!http_error_samples_.empty())
      out["http_error_samples"] = http_error_samples_;
    if (!transport_error_samples_.empty())
      out["transport_error_samples"] = transport_error_samples_;
    return out;
  }

  /// Reads GET /api/v1/status and compares it with the acknowledged updates.
  bool check_state(json& out) {
    std::string body;
    CURL* easy = curl_easy_init();
    configure(easy, body);
    curl_easy_setopt(easy, CURLOPT_URL, (opt_.url + "/api/v1/status").c_str());
    auto rc = curl_easy_perform(easy);
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(easy);
    if (rc != CURLE_OK || code != 200) {
      out["check_error"] = fmt::format("GET /api/v1/status failed: {} {}", curl_easy_strerror(rc), code);
      return false;
    }
    auto doc = json::parse(body, nullptr, false);
    if (doc.is_discarded() || !doc.contains("apps") || !doc["apps"].is_object()) {
      out["check_error"] = "GET /api/v1/status: not the expected JSON";
      return false;
    }
    const auto& apps = doc["apps"];
    std::uint64_t checked = 0, lost = 0, newer_unacked = 0;
    json samples = json::array();
    for (std::size_t i = 0; i < pairs_.size(); ++i) {
      const auto& acked = pairs_[i].acked;
      if (acked.ts_ms == 0)
        continue;
      ++checked;
      const auto& app = opt_.apps[i % opt_.apps.size()];
      auto want_job = fmt::format("{}-{}", run_id_, acked.seq);
      auto want_time = rfc3339_ms(acked.ts_ms);
      const json* shown = nullptr;
      if (auto a = apps.find(app); a != apps.end() && a->is_object())
        if (auto d = a->find(domain_name(i)); d != a->end() && d->is_object())
          shown = &*d;
      bool ok = false;
      if (shown != nullptr) {
        auto status = shown->value("status", std::string{});
        auto job = (*shown)["job_id"].is_string() ? (*shown)["job_id"].get<std::string>() : "";
        auto updated = (*shown)["updated"].is_string() ? (*shown)["updated"].get<std::string>() : "";
        // Both times are UTC with milliseconds: the strings order as the times do.
        if (updated > want_time) {
          ok = true;
          ++newer_unacked;
        } else {
          ok = updated == want_time && status == statuses[acked.status] && job == want_job;
        }
        if (!ok && samples.size() < 5)
          samples.push_back({{"app", app}, {"domain", domain_name(i)},
                             {"want", {{"status", statuses[acked.status]}, {"job_id", want_job},
                                       {"updated", want_time}}},
                             {"shown", *shown}});
      } else if (samples.size() < 5) {
        samples.push_back({{"app", app}, {"domain", domain_name(i)}, {"shown", nullptr}});
      }
      if (!ok)
        ++lost;
    }
    out["domains_checked"] = checked;
    out["lost"] = lost;
    out["newer_than_acked"] = newer_unacked;
    if (!samples.empty())
      out["lost_samples"] = samples;
    return true;
  }

  options opt_;
  std::vector<pair_state> pairs_;
  std::vector<slot> slots_;
  CURLM* multi_ = nullptr;
  curl_slist* auth_ = nullptr;
  std::string run_id_;
  clock_type::time_point deadline_;
  std::size_t cursor_ = 0;
  std::uint64_t seq_ = 0;
  std::uint64_t sent_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t posts_ok_ = 0;
  std::uint64_t gets_ok_ = 0;
  std::uint64_t not_modified_ = 0; ///< poll mode: answered 304
  std::uint64_t acked_updates_ = 0;
  std::uint64_t not_applied_ = 0;
  std::uint64_t http_errors_ = 0;
  std::uint64_t transport_errors_ = 0;
  std::vector<std::string> http_error_samples_;
  std::vector<std::string> transport_error_samples_;
  latencies post_lat_;
  latencies get_lat_;
  std::mt19937_64 rng_{42};
  std::uniform_real_distribution<double> coin_{0.0, 1.0};
};

} // namespace

int main(int argc, char** argv) {
  auto opt = parse_options(argc, argv);
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc = 0;
  {
    load_client client{std::move(opt)};
    rc = client.run();
  }
  curl_global_cleanup();
  return rc;
}
