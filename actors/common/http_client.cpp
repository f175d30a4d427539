#include "actors/common/http_client.hpp"

// Design: a front actor (event-based, never blocks) owns a queue and a small
// pool of `caf::detached` workers, each with its own thread and its own curl
// easy handle (kept across transfers so keep-alive connections are reused).
// The front hands one request to one idle worker at a time; at most
// `max_concurrent` workers exist, spawned lazily. So every blocking libcurl
// call runs on a worker's private thread and never on CAF's shared pool.
//
// Nothing here logs headers, bodies or URLs' queries: they carry tokens.

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/duration.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/spawn_options.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <curl/curl.h>

namespace epmpulse {

namespace {

// -- libcurl (runs on a worker's private thread) ------------------------------

void global_curl_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string trim(const std::string& s) {
  auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos)
    return {};
  auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

struct transfer {
  http_response* out;
  const std::atomic<bool>* stop;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  t->out->body.append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<transfer*>(user);
  std::string line(data, size * n);
  // A new status line starts a new response (100 Continue, proxies): keep
  // only the final response's headers.
  if (line.rfind("HTTP/", 0) == 0) {
    t->out->headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon == std::string::npos)
    return size * n;
  auto name = lower(trim(line.substr(0, colon)));
  auto value = trim(line.substr(colon + 1));
  if (name.empty())
    return size * n;
  auto [it, inserted] = t->out->headers.emplace(name, value);
  if (!inserted)
    it->second += ", " + value;
  return size * n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<transfer*>(user);
  return t->stop->load(std::memory_order_relaxed) ? 1 : 0; // non-zero aborts
}

long to_ms(double seconds) {
  return seconds <= 0 ? 0L : static_cast<long>(seconds * 1000.0 + 0.5);
}

http_response perform(CURL* h, const http_request& req, const std::atomic<bool>& stop) {
  http_response res;
  auto started = std::chrono::steady_clock::now();
  if (stop.load()) {
    res.transport_error = "client stopped";
    return res;
  }
  curl_easy_reset(h);
  char errbuf[CURL_ERROR_SIZE];
  errbuf[0] = '\0';
  transfer t{&res, &stop};
  curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L); // never replay a token elsewhere
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, to_ms(req.timeout_sec));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, to_ms(req.connect_timeout_sec));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
  if (req.method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    if (req.method == "POST")
      curl_easy_setopt(h, CURLOPT_POST, 1L);
    else
      curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
    if (req.method != "DELETE" || !req.body.empty()) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(req.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
    }
  }
  curl_slist* headers = nullptr;
  for (auto& [name, value] : req.headers) {
    auto line = name + ": " + value;
    headers = curl_slist_append(headers, line.c_str());
  }
  headers = curl_slist_append(headers, "Expect:"); // no 100-continue round trip
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  auto rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res.status);
  } else {
    res.status = 0;
    res.headers.clear();
    res.body.clear();
    // errbuf names host and port at most; curl never puts headers there.
    res.transport_error = errbuf[0] != '\0' ? std::string{errbuf}
                                            : std::string{curl_easy_strerror(rc)};
    if (rc == CURLE_ABORTED_BY_CALLBACK)
      res.transport_error = "client stopped";
  }
  res.elapsed_sec =
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return res;
}

// -- worker: one detached actor, one thread, one easy handle ------------------

using stop_flag = std::shared_ptr<std::atomic<bool>>;

struct http_worker_state {
  CURL* easy = nullptr;
  http_worker_state() : easy(curl_easy_init()) {}
  ~http_worker_state() {
    if (easy != nullptr)
      curl_easy_cleanup(easy);
  }
  http_worker_state(const http_worker_state&) = delete;
  http_worker_state& operator=(const http_worker_state&) = delete;
  static inline constexpr const char* name = "http_worker";
};

http_client_actor::behavior_type
http_worker(http_client_actor::stateful_pointer<http_worker_state> self, stop_flag stop) {
  return {
    [=](fetch_atom, const http_request& req) -> http_response {
      if (self->state.easy == nullptr) {
        http_response res;
        res.transport_error = "curl_easy_init failed";
        return res;
      }
      return perform(self->state.easy, req, *stop);
    },
  };
}

// -- front: queue and dispatch ------------------------------------------------

struct pending_fetch {
  http_request req;
  caf::typed_response_promise<http_response> promise;
};

struct http_client_state {
  int max_concurrent = 8;
  std::vector<http_client_actor> idle;
  std::shared_ptr<std::vector<http_client_actor>> all =
    std::make_shared<std::vector<http_client_actor>>();
  std::deque<pending_fetch> queue;
  stop_flag stop = std::make_shared<std::atomic<bool>>(false);
  static inline constexpr const char* name = "http_client";
};

using front_pointer = http_client_actor::stateful_pointer<http_client_state>;

void pump(front_pointer self) {
  auto& st = self->state;
  while (!st.queue.empty()) {
    http_client_actor worker;
    if (!st.idle.empty()) {
      worker = std::move(st.idle.back());
      st.idle.pop_back();
    } else if (static_cast<int>(st.all->size()) < st.max_concurrent) {
      worker = self->spawn<caf::detached>(http_worker, st.stop);
      st.all->push_back(worker);
    } else {
      return; // all busy: the next reply pumps again
    }
    auto job = std::move(st.queue.front());
    st.queue.pop_front();
    // No CAF timeout here, deliberately: curl bounds every transfer by its
    // own timeouts, a worker that dies bounces the request as an error, and
    // a pending CAF timeout would keep this actor alive (and the actor
    // system's shutdown waiting) for the whole period after the last call.
    auto promise = std::move(job.promise);
    self->request(worker, caf::infinite, fetch_atom_v, std::move(job.req))
      .then(
        [self, worker, promise](http_response& res) mutable {
          promise.deliver(std::move(res));
          self->state.idle.push_back(worker);
          pump(self);
        },
        [self, worker, promise](caf::error& err) mutable {
          http_response res;
          res.transport_error = "http client: " + self->system().render(err);
          promise.deliver(std::move(res));
          if (err != caf::sec::request_receiver_down)
            self->state.idle.push_back(worker);
          else
            std::erase(*self->state.all, worker);
          pump(self);
        });
  }
}

http_client_actor::behavior_type http_client(front_pointer self, int max_concurrent) {
  self->state.max_concurrent = std::max(1, max_concurrent);
  // On exit: abort transfers in progress and end the workers, so shutdown
  // never waits for a slow server.
  self->attach_functor([stop = self->state.stop, all = self->state.all] {
    stop->store(true);
    for (auto& w : *all)
      caf::anon_send_exit(w, caf::exit_reason::user_shutdown);
  });
  return {
    [self](fetch_atom, http_request& req) -> caf::result<http_response> {
      auto promise = self->make_response_promise<http_response>();
      self->state.queue.push_back(pending_fetch{std::move(req), promise});
      pump(self);
      return promise;
    },
  };
}

} // namespace

http_client_actor spawn_http_client(caf::actor_system& sys, int max_concurrent) {
  global_curl_init();
  return sys.spawn(http_client, max_concurrent);
}

} // namespace epmpulse
