#include "tests/support/http_client.hpp"
#include "tests/support/text.hpp"

#include <algorithm>
#include <cctype>
#include <mutex>
#include <stdexcept>

#include <curl/curl.h>

namespace epmpulse::test {

namespace {

std::string trim(std::string s) {
  auto not_space = [](unsigned char c) { return !std::isspace(c); };
  s.erase(s.begin(), std::find_if(s.begin(), s.end(), not_space));
  s.erase(std::find_if(s.rbegin(), s.rend(), not_space).base(), s.end());
  return s;
}

void global_init_once() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      throw std::runtime_error("curl_global_init failed");
  });
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* result = static_cast<http_result*>(user);
  std::string line(data, size * n);
  // A new status line (redirects, 100 Continue) starts a fresh header set.
  if (line.rfind("HTTP/", 0) == 0) {
    result->headers.clear();
    return size * n;
  }
  auto colon = line.find(':');
  if (colon != std::string::npos)
    result->headers[ascii_lower(trim(line.substr(0, colon)))] = trim(line.substr(colon + 1));
  return size * n;
}

struct easy_handle {
  CURL* h = curl_easy_init();
  curl_slist* headers = nullptr;
  ~easy_handle() {
    if (headers)
      curl_slist_free_all(headers);
    if (h)
      curl_easy_cleanup(h);
  }
};

} // namespace

std::string http_result::header(const std::string& name) const {
  auto i = headers.find(ascii_lower(name));
  return i == headers.end() ? std::string{} : i->second;
}

nlohmann::json http_result::json() const {
  return nlohmann::json::parse(body, nullptr, false);
}

bool http_result::is_json() const {
  return !json().is_discarded();
}

std::string http_result::error_code() const {
  auto j = json();
  if (j.is_object() && j.contains("error") && j["error"].is_object()
      && j["error"].contains("code") && j["error"]["code"].is_string())
    return j["error"]["code"].get<std::string>();
  return {};
}

std::string http_result::describe() const {
  if (status == 0)
    return "no response: " + error;
  return std::to_string(status) + " " + body;
}

http_result request(const std::string& method, const std::string& url, const std::string& body,
                    const header_list& headers, std::chrono::milliseconds timeout) {
  global_init_once();
  http_result result;
  easy_handle e;
  if (!e.h) {
    result.error = "curl_easy_init failed";
    return result;
  }
  bool has_content_type = false;
  for (const auto& [name, value] : headers) {
    if (ascii_lower(name) == "content-type")
      has_content_type = true;
    // "Name;" sends a header with an empty value; "Name:" would remove it.
    std::string line = value.empty() ? name + ";" : name + ": " + value;
    e.headers = curl_slist_append(e.headers, line.c_str());
  }
  if (!has_content_type)
    e.headers = curl_slist_append(e.headers, "Content-Type:");
  e.headers = curl_slist_append(e.headers, "Expect:");

  curl_easy_setopt(e.h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e.h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e.h, CURLOPT_PROXY, "");
  curl_easy_setopt(e.h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(e.h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(e.h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(e.h, CURLOPT_HTTPHEADER, e.headers);
  curl_easy_setopt(e.h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(e.h, CURLOPT_WRITEDATA, &result.body);
  curl_easy_setopt(e.h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e.h, CURLOPT_HEADERDATA, &result);

  const bool sends_body = !body.empty() || method == "POST" || method == "PUT"
                          || method == "PATCH";
  if (method == "GET" && body.empty()) {
    curl_easy_setopt(e.h, CURLOPT_HTTPGET, 1L);
  } else if (method == "HEAD") {
    curl_easy_setopt(e.h, CURLOPT_NOBODY, 1L);
  } else {
    if (sends_body) {
      curl_easy_setopt(e.h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
      curl_easy_setopt(e.h, CURLOPT_POSTFIELDS, body.data());
    }
    if (method != "POST")
      curl_easy_setopt(e.h, CURLOPT_CUSTOMREQUEST, method.c_str());
  }

  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(e.h, CURLOPT_ERRORBUFFER, errbuf);
  CURLcode rc = curl_easy_perform(e.h);
  long code = 0;
  curl_easy_getinfo(e.h, CURLINFO_RESPONSE_CODE, &code);
  result.status = code;
  if (rc != CURLE_OK)
    result.error = errbuf[0] ? std::string(errbuf) : std::string(curl_easy_strerror(rc));
  return result;
}

// -- api_client ---------------------------------------------------------------

api_client::api_client(std::string base_url, std::string key)
  : base_url_(std::move(base_url)), key_(std::move(key)) {
}

header_list api_client::with_auth(const header_list& extra) const {
  header_list h;
  if (!key_.empty())
    h.emplace_back("Authorization", "Bearer " + key_);
  h.insert(h.end(), extra.begin(), extra.end());
  return h;
}

http_result api_client::get(const std::string& path, const header_list& extra) const {
  return request("GET", base_url_ + path, {}, with_auth(extra));
}

http_result api_client::post(const std::string& path, const nlohmann::json& body,
                             const header_list& extra) const {
  return post_raw(path, body.dump(), "application/json", extra);
}

http_result api_client::post_raw(const std::string& path, const std::string& body,
                                 const std::string& content_type,
                                 const header_list& extra) const {
  auto h = with_auth(extra);
  if (!content_type.empty())
    h.emplace_back("Content-Type", content_type);
  return request("POST", base_url_ + path, body, h);
}

} // namespace epmpulse::test
