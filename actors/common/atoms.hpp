#pragma once

// Atoms shared by the service's actors (CAF 0.17: at most 10 characters).

#include <caf/atom.hpp>

namespace epmpulse {

using apply_atom = caf::atom_constant<caf::atom("apply")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using changed_atom = caf::atom_constant<caf::atom("changed")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using write_atom = caf::atom_constant<caf::atom("write")>;
using backup_atom = caf::atom_constant<caf::atom("backup")>;
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;
using sync_atom = caf::atom_constant<caf::atom("sync")>;
using preview_atom = caf::atom_constant<caf::atom("preview")>;
using token_atom = caf::atom_constant<caf::atom("token")>;
using invalid_atom = caf::atom_constant<caf::atom("invalidate")>;
using watch_atom = caf::atom_constant<caf::atom("watch")>;
using unwatch_atom = caf::atom_constant<caf::atom("unwatch")>;
using fetch_atom = caf::atom_constant<caf::atom("fetch")>;
using append_atom = caf::atom_constant<caf::atom("append")>;
using rotate_atom = caf::atom_constant<caf::atom("rotate")>;
using drop_atom = caf::atom_constant<caf::atom("drop")>;
using compress_atom = caf::atom_constant<caf::atom("compress")>;

// Values, spelled like CAF 0.18's so handlers read the same.
inline constexpr apply_atom apply_atom_v{};
inline constexpr get_atom get_atom_v{};
inline constexpr health_atom health_atom_v{};
inline constexpr snapshot_atom snapshot_atom_v{};
inline constexpr subscribe_atom subscribe_atom_v{};
inline constexpr changed_atom changed_atom_v{};
inline constexpr flush_atom flush_atom_v{};
inline constexpr tick_atom tick_atom_v{};
inline constexpr write_atom write_atom_v{};
inline constexpr backup_atom backup_atom_v{};
inline constexpr metrics_atom metrics_atom_v{};
inline constexpr sync_atom sync_atom_v{};
inline constexpr preview_atom preview_atom_v{};
inline constexpr token_atom token_atom_v{};
inline constexpr invalid_atom invalid_atom_v{};
inline constexpr watch_atom watch_atom_v{};
inline constexpr unwatch_atom unwatch_atom_v{};
inline constexpr fetch_atom fetch_atom_v{};
inline constexpr append_atom append_atom_v{};
inline constexpr rotate_atom rotate_atom_v{};
inline constexpr drop_atom drop_atom_v{};
inline constexpr compress_atom compress_atom_v{};

} // namespace epmpulse
