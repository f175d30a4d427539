#pragma once

// The change log's file, written in place over space that was zero-filled
// ahead of time, as databases write their log segments. An append then
// changes neither the file's size nor its block map, so its fdatasync flushes
// the data alone instead of also committing the file system's journal: on
// the ext4 disks this runs on that halves the commit's latency
// (bench/commit_cost). Readers skip the zero bytes (decode_log), and the end
// of the records is the last byte that is not zero: a record never holds one
// (json_writer writes control characters as \u escapes).
//
// Blocking (writes, fdatasync): used by the log writer actor alone.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace epmpulse {

class log_file {
public:
  /// Space is zero-filled this many bytes at a time: when the file is
  /// created, and again whenever the records reach its end.
  static constexpr std::size_t default_chunk_bytes = 1 << 20;

  explicit log_file(std::string path, std::size_t chunk_bytes = default_chunk_bytes);
  ~log_file();
  log_file(const log_file&) = delete;
  log_file& operator=(const log_file&) = delete;

  /// Writes whole records after the last ones and fdatasyncs them; the
  /// reason on failure (no record content is part of it). Opens the file
  /// first when it is closed: a missing one is created, zero-filled and made
  /// durable with its directory entry; an existing one is continued after
  /// its last record. A failed append leaves the records before it unharmed:
  /// its bytes are zeroed again where possible and the file is closed, so the
  /// next append opens the path again and writes after the last record.
  std::optional<std::string> append(std::string_view records);

  /// Closes the file, before it is renamed or removed; the next append opens
  /// whatever is at the path then.
  void close();

  bool is_open() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }

  /// The file's size: records and the zero-filled space after them.
  std::uint64_t capacity() const { return capacity_; }

private:
  std::optional<std::string> open();
  std::optional<std::string> fill_zeros(std::uint64_t from, std::uint64_t to);

  std::string path_;
  std::size_t chunk_bytes_;
  int fd_ = -1;
  std::uint64_t end_ = 0;      ///< where the next record goes
  std::uint64_t capacity_ = 0; ///< bytes allocated and zero-filled (or written)
};

} // namespace epmpulse
