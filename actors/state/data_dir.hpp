#pragma once

// The data directory holds the state, its change log, backups and generated
// API keys: only the service's user may list or enter it. Blocking: start-up
// and the detached writers only.

#include <optional>
#include <string>

namespace epmpulse {

/// Makes sure `path` is a directory the service can use: a missing one is
/// created with mode 0700 (missing parents as the umask allows). An existing
/// one open to group or others is kept as it is, with a warning that names the
/// fix: the operator may have chosen that mode (a backup group reading
/// backups/), and every file inside is 0600 whatever the directory's mode.
/// Returns the reason when the path cannot be created or is not a directory.
std::optional<std::string> prepare_private_dir(const std::string& path);

} // namespace epmpulse
