#include "actors/state/log_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "actors/common/durable_file.hpp"

namespace epmpulse {

namespace {

constexpr std::size_t io_block = 64 * 1024;

std::string failure(const char* what, const std::string& path) {
  return fmt::format("{} {}: {}", what, path, std::strerror(errno));
}

// The offset just after the last byte that is not zero: where records end in
// a file whose tail is zero-filled space. -1 when the file cannot be read.
std::int64_t end_of_data(int fd, std::uint64_t size) {
  std::array<char, io_block> block{};
  auto pos = size;
  while (pos > 0) {
    auto len = std::min<std::uint64_t>(pos, block.size());
    auto n = ::pread(fd, block.data(), len, static_cast<off_t>(pos - len));
    if (n < 0 && errno == EINTR)
      continue;
    if (n != static_cast<ssize_t>(len))
      return -1;
    for (auto i = len; i > 0; --i)
      if (block[i - 1] != '\0')
        return static_cast<std::int64_t>(pos - len + i);
    pos -= len;
  }
  return 0;
}

} // namespace

log_file::log_file(std::string path, std::size_t chunk_bytes)
  : path_(std::move(path)), chunk_bytes_(std::max<std::size_t>(chunk_bytes, 1)) {
}

log_file::~log_file() {
  close();
}

void log_file::close() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
  end_ = 0;
  capacity_ = 0;
}

std::optional<std::string> log_file::fill_zeros(std::uint64_t from, std::uint64_t to) {
  static const std::array<char, io_block> zeros{};
  while (from < to) {
    auto len = static_cast<std::size_t>(std::min<std::uint64_t>(to - from, zeros.size()));
    if (!write_all_at(fd_, {zeros.data(), len}, from))
      return failure("cannot zero-fill", path_);
    from += len;
  }
  return std::nullopt;
}

std::optional<std::string> log_file::open() {
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd_ >= 0) {
    auto reason = fill_zeros(0, chunk_bytes_);
    if (!reason && ::fsync(fd_) != 0)
      reason = failure("cannot fsync", path_);
    if (!reason)
      reason = sync_parent_directory(path_);
    if (reason) {
      // Half-made: the next append starts again from nothing.
      close();
      ::unlink(path_.c_str());
      return reason;
    }
    capacity_ = chunk_bytes_;
    return std::nullopt;
  }
  if (errno != EEXIST)
    return failure("cannot create", path_);
  // Left by a rotation that could not rename it: continue after its records.
  auto give_up = [this](const char* what) {
    auto reason = failure(what, path_);
    close();
    return reason;
  };
  fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0)
    return failure("cannot open", path_);
  struct stat st {};
  if (::fstat(fd_, &st) != 0)
    return give_up("cannot stat");
  auto end = end_of_data(fd_, static_cast<std::uint64_t>(st.st_size));
  if (end < 0)
    return give_up("cannot read");
  capacity_ = static_cast<std::uint64_t>(st.st_size);
  end_ = static_cast<std::uint64_t>(end);
  char last = '\n';
  if (end_ > 0 && ::pread(fd_, &last, 1, static_cast<off_t>(end_ - 1)) != 1)
    return give_up("cannot read");
  if (last != '\n') {
    // A torn record: end its line so the next record is not glued to it.
    if (!write_all_at(fd_, "\n", end_))
      return give_up("cannot write");
    ++end_;
    capacity_ = std::max(capacity_, end_);
  }
  return std::nullopt;
}

std::optional<std::string> log_file::append(std::string_view records) {
  if (fd_ < 0)
    if (auto reason = open())
      return reason;
  const auto start = end_;
  const auto end = start + records.size();
  std::uint64_t capacity = capacity_;
  auto undo = [&](std::string reason) {
    // Best effort: bytes of a failed append must not be read back as records
    // behind a shorter next append at the same place.
    [[maybe_unused]] auto ignored = fill_zeros(start, std::min(end, capacity));
    // The next append opens the path again and continues after its last
    // record: whatever fixed the failure (space freed, a file system
    // remounted, a file put back) is then what it writes to.
    close();
    return reason;
  };
  if (end > capacity) {
    // Grow by whole chunks; this one fdatasync also commits the new size.
    capacity = (end + chunk_bytes_ - 1) / chunk_bytes_ * chunk_bytes_;
    if (auto reason = fill_zeros(capacity_, capacity))
      return undo(*reason);
  }
  if (!write_all_at(fd_, records, start))
    return undo(failure("cannot write to", path_));
  if (::fdatasync(fd_) != 0)
    return undo(failure("cannot fdatasync", path_));
  end_ = end;
  capacity_ = capacity;
  return std::nullopt;
}

} // namespace epmpulse
