#include "tests/support/raw_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace epmpulse::test {

namespace {

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

} // namespace

std::string raw_response::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? std::string{} : it->second;
}

std::optional<std::pair<raw_response, std::size_t>> parse_raw_response(std::string_view bytes,
                                                                       bool complete_at_end) {
  auto head_end = bytes.find("\r\n\r\n");
  if (head_end == std::string_view::npos)
    return std::nullopt;
  auto head = bytes.substr(0, head_end);
  raw_response r;
  auto line_end = head.find("\r\n");
  auto status_line = head.substr(0, line_end);
  // "HTTP/1.1 200 OK"
  auto space = status_line.find(' ');
  if (!status_line.starts_with("HTTP/") || space == std::string_view::npos)
    throw std::runtime_error("not an HTTP response: " + std::string(status_line.substr(0, 80)));
  r.status = std::atoi(std::string(status_line.substr(space + 1, 3)).c_str());
  auto rest = line_end == std::string_view::npos ? std::string_view{} : head.substr(line_end + 2);
  while (!rest.empty()) {
    auto eol = rest.find("\r\n");
    auto line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 2);
    auto colon = line.find(':');
    if (colon != std::string_view::npos)
      r.headers[lower(trim(line.substr(0, colon)))] = std::string(trim(line.substr(colon + 1)));
  }
  const std::size_t body_start = head_end + 4;
  if (auto length = r.headers.find("content-length"); length != r.headers.end()) {
    auto size = static_cast<std::size_t>(std::stoull(length->second));
    if (bytes.size() < body_start + size)
      return std::nullopt;
    r.body = std::string(bytes.substr(body_start, size));
    return std::pair{std::move(r), body_start + size};
  }
  if (!complete_at_end)
    return std::nullopt;
  r.body = std::string(bytes.substr(body_start));
  return std::pair{std::move(r), bytes.size()};
}

raw_socket::raw_socket(std::uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int rc;
  do {
    rc = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    int err = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + ": "
                             + std::strerror(err));
  }
  // Bytes sent one at a time must leave one at a time.
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

raw_socket::~raw_socket() {
  close();
}

raw_socket::raw_socket(raw_socket&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), closed_(other.closed_),
      buffer_(std::move(other.buffer_)) {}

raw_socket& raw_socket::operator=(raw_socket&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    closed_ = other.closed_;
    buffer_ = std::move(other.buffer_);
  }
  return *this;
}

void raw_socket::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool raw_socket::send(std::string_view bytes) {
  while (!bytes.empty()) {
    auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

bool raw_socket::read_some(std::chrono::steady_clock::time_point until) {
  if (closed_ || fd_ < 0)
    return false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      until - std::chrono::steady_clock::now());
    if (left.count() < 0)
      return false;
    pollfd p{fd_, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR)
      continue;
    if (ready <= 0)
      return false;
    char chunk[16 * 1024];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      // 0: the server closed; < 0 (ECONNRESET): it reset. Both end the stream.
      closed_ = true;
      return false;
    }
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }
}

std::optional<raw_response> raw_socket::read_response(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (auto parsed = parse_raw_response(buffer_, closed_)) {
      buffer_.erase(0, parsed->second);
      return std::move(parsed->first);
    }
    if (!read_some(until)) {
      if (closed_)
        if (auto parsed = parse_raw_response(buffer_, true)) {
          buffer_.erase(0, parsed->second);
          return std::move(parsed->first);
        }
      return std::nullopt;
    }
  }
}

bool raw_socket::wait_closed(std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    if (!read_some(until) && !closed_)
      return false;
  }
  return true;
}

bool raw_socket::read_until(const std::function<bool(const std::string&)>& done,
                            std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (!done(buffer_)) {
    if (closed_ || !read_some(until))
      return done(buffer_);
  }
  return true;
}

} // namespace epmpulse::test
