#include "actors/state/data_dir.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>
#include <sys/stat.h>

#include <fmt/format.h>

#include "actors/common/log.hpp"

namespace fs = std::filesystem;

namespace epmpulse {

namespace {

// Start-up and the hourly backups look at the same directories again: one
// warning per directory and process is enough.
bool first_warning_for(const std::string& path) {
  static std::mutex mtx;
  static std::set<std::string> warned;
  std::lock_guard<std::mutex> lock(mtx);
  return warned.insert(path).second;
}

} // namespace

std::optional<std::string> prepare_private_dir(const std::string& path) {
  std::error_code err;
  // "/var/lib/epmpulse/" names the directory itself: its parent is /var/lib.
  auto dir = fs::path(path).lexically_normal();
  if (!dir.has_filename())
    dir = dir.parent_path();
  auto parent = dir.parent_path();
  if (!parent.empty())
    fs::create_directories(parent, err);
  if (err)
    return fmt::format("cannot create directory {}: {}", path, err.message());
  if (::mkdir(path.c_str(), 0700) == 0) {
    log::info("private directory created", {{"path", path}, {"mode", "0700"}});
    return std::nullopt;
  }
  if (errno != EEXIST)
    return fmt::format("cannot create directory {}: {}", path, std::strerror(errno));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return fmt::format("cannot use directory {}: {}", path, std::strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return fmt::format("{} is not a directory", path);
  if ((st.st_mode & 077) != 0 && first_warning_for(path))
    log::warn("directory with the state is open to other users (fix: chmod 700 it)",
              {{"path", path}, {"mode", fmt::format("{:04o}", st.st_mode & 07777)}});
  return std::nullopt;
}

} // namespace epmpulse
