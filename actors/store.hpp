#pragma once

// The store actors: the single writer (group commit) and the readers (list
// queries and customer loads on LMDB snapshots). Both own a share of the
// LMDB environment; it closes when the last of them has stopped.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "actors/metrics.hpp"
#include "actors/protocol.hpp"

namespace caf {
class actor_system;
}

namespace tmf::persistence {
class environment;
}

namespace tmf::domain {
class index_layout;
}

namespace tmf {

/// What a store reader needs.
struct reader_config {
  std::shared_ptr<persistence::environment> env;
  /// The secondary indexes (domain/customer_index.hpp); null: none.
  std::shared_ptr<const domain::index_layout> layout;
  /// When running queries must stop because the service shuts down
  /// (nanoseconds since the Unix epoch; 0: not shutting down). Set at
  /// SIGTERM a little inside the shutdown timeout, so that a long scan
  /// answers 503 while the HTTP side still drains.
  std::shared_ptr<const std::atomic<int64_t>> stop_at;
  /// Most offset+limit of a sort that no index gives in order (a larger
  /// one is refused: it would hold that many entries in memory).
  uint64_t max_sort_window = 100000;
  /// A reader with `overflow` readers is a fast lane: a query that would
  /// read more than `handover` customers goes to one of them instead.
  std::vector<store_reader_actor> overflow;
  uint64_t handover = 5000;
  /// Runs its thread under SCHED_IDLE: queries that read every customer
  /// then take only CPU time nothing else wants, and are preempted at once
  /// when another thread wakes, so cheap queries and customer requests
  /// keep their latency on a busy core. Under a load that never leaves the
  /// CPU idle a scan reaches its deadline (504).
  bool background = false;
  /// Counts list queries and the rows they read, by path.
  actor_metrics metrics;
};

/// Spawns the store writer on its own thread (`caf::detached`). Writes that
/// arrive while it commits are batched into the next transaction, at most
/// `max_batch` writes per transaction. On exit it commits what is pending.
/// Records batch sizes and commit durations in `metrics`. `layout` (null:
/// none) gives the index entries of the rows a shard move brings or takes
/// away: the entries and counts a customer written here would have.
store_writer_actor
spawn_store_writer(caf::actor_system& sys,
                   std::shared_ptr<persistence::environment> env,
                   size_t max_batch, actor_metrics metrics = {},
                   std::shared_ptr<const domain::index_layout> layout = {});

/// Puts the threads of background readers back under the service's normal
/// scheduling: at shutdown, so that a scan starved by other work notices
/// at once that it must stop.
void end_background_readers();

/// Spawns one store reader on its own thread (`caf::detached`): scans must
/// never stall the scheduler threads that run customer actors. Counts list
/// queries and the rows they read, by path, in `cfg.metrics`.
store_reader_actor spawn_store_reader(caf::actor_system& sys,
                                      reader_config cfg);

} // namespace tmf
