#pragma once

// The store actors: the single writer (group commit) and the readers (list
// queries and customer loads on LMDB snapshots). Both own a share of the
// LMDB environment; it closes when the last of them has stopped.

#include <cstddef>
#include <memory>

#include "actors/metrics.hpp"
#include "actors/protocol.hpp"

namespace caf {
class actor_system;
}

namespace tmf::persistence {
class environment;
}

namespace tmf {

/// Spawns the store writer on its own thread (`caf::detached`). Writes that
/// arrive while it commits are batched into the next transaction, at most
/// `max_batch` writes per transaction. On exit it commits what is pending.
/// Records batch sizes and commit durations in `metrics`.
store_writer_actor
spawn_store_writer(caf::actor_system& sys,
                   std::shared_ptr<persistence::environment> env,
                   size_t max_batch, actor_metrics metrics = {});

/// Spawns one store reader on its own thread (`caf::detached`): scans must
/// never stall the scheduler threads that run customer actors. Counts list
/// queries and the rows they read, by path, in `metrics`.
store_reader_actor
spawn_store_reader(caf::actor_system& sys,
                   std::shared_ptr<persistence::environment> env,
                   actor_metrics metrics = {});

} // namespace tmf
