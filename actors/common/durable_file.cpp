#include "actors/common/durable_file.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

namespace epmpulse {

namespace {

std::string errno_text(const char* what, const std::string& path) {
  return fmt::format("{} {}: {}", what, path, std::strerror(errno));
}

std::string parent_dir(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos)
    return ".";
  if (slash == 0)
    return "/";
  return path.substr(0, slash);
}

} // namespace

std::optional<std::string> write_file_atomically(const std::string& path, std::string_view content,
                                                 mode_t mode) {
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0)
    return errno_text("cannot create temp file for", path);
  auto fail = [&](const char* what) {
    auto reason = errno_text(what, tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return reason;
  };
  if (::fchmod(fd, mode) != 0)
    return fail("cannot chmod");
  if (!write_all_at(fd, content, 0))
    return fail("cannot write");
  if (::fsync(fd) != 0)
    return fail("cannot fsync");
  if (::close(fd) != 0) {
    auto reason = errno_text("cannot close", tmp);
    ::unlink(tmp.c_str());
    return reason;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto reason = errno_text("cannot rename temp file over", path);
    ::unlink(tmp.c_str());
    return reason;
  }
  // The rename is durable only once the directory entry is.
  return sync_parent_directory(path);
}

bool write_all_at(int fd, std::string_view content, std::uint64_t offset) {
  while (!content.empty()) {
    auto n = ::pwrite(fd, content.data(), content.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    content.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

std::optional<std::string> sync_parent_directory(const std::string& path) {
  int dir = ::open(parent_dir(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return errno_text("cannot open directory of", path);
  int rc = ::fsync(dir);
  ::close(dir);
  if (rc != 0)
    return errno_text("cannot fsync directory of", path);
  return std::nullopt;
}

std::optional<std::string> rename_durably(const std::string& from, const std::string& to) {
  if (::rename(from.c_str(), to.c_str()) != 0)
    return errno_text("cannot rename", from);
  return sync_parent_directory(to);
}

std::optional<std::string> remove_durably(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT)
      return std::nullopt;
    return errno_text("cannot remove", path);
  }
  return sync_parent_directory(path);
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return std::nullopt;
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad())
    return std::nullopt;
  return std::move(buf).str();
}

} // namespace epmpulse
