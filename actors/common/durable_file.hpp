#pragma once

// Crash-safe file replacement: write a temp file in the same directory, fsync
// it, rename it over the target, fsync the directory. A reader (or a crash)
// sees the old content or the new, never a torn file. Blocking: call it only
// from a detached actor or at start-up.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <sys/types.h>

namespace epmpulse {

/// Replaces `path` with `content` (mode `mode`). Returns the reason on failure
/// (no secret content is ever part of it).
std::optional<std::string> write_file_atomically(const std::string& path, std::string_view content,
                                                 mode_t mode = 0600);

/// Writes all of `content` at `offset` of `fd` (pwrite, retried when
/// interrupted or short); false with errno set on failure.
bool write_all_at(int fd, std::string_view content, std::uint64_t offset);

/// fsyncs the directory that holds `path`: a new, renamed or removed entry is
/// durable only once its directory is.
std::optional<std::string> sync_parent_directory(const std::string& path);

/// Renames `from` to `to` and makes the directory entry durable.
std::optional<std::string> rename_durably(const std::string& from, const std::string& to);

/// Removes `path` (a missing file is not an error) and makes that durable.
std::optional<std::string> remove_durably(const std::string& path);

/// Reads a whole file; nullopt when it cannot be read.
std::optional<std::string> read_file(const std::string& path);

} // namespace epmpulse
