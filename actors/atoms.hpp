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

} // namespace epmpulse
