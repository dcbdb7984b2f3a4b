#pragma once

// The router: the only place that maps a customer id to its owner. Like a
// sharded facade it holds no business logic and never waits: it spawns a
// customer actor on first use, delegates every request to it, and
// passivates customers that report themselves idle with nothing in flight.

#include <memory>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/cluster.hpp"
#include "actors/metrics.hpp"
#include "actors/protocol.hpp"

namespace tmf::domain {
class index_layout;
}

namespace tmf {

/// What the router needs: the store actors and the customer timings.
struct router_config {
  store_writer_actor writer;
  /// List queries that read every customer (scans, sorts without an
  /// index); each goes to the one with the fewest queries in flight.
  std::vector<store_reader_actor> readers;
  /// Loads of customer documents. A separate reader keeps them from
  /// waiting behind list scans; when unset, the readers do this work too.
  store_reader_actor loader;
  /// The fast lane: list queries answered by key lookups or an index
  /// (never waiting behind a scan); when unset, they go to the readers.
  store_reader_actor fast;
  /// The secondary indexes (customers compute their entries, the router
  /// plans lanes); null: none.
  std::shared_ptr<const domain::index_layout> layout;
  /// Customers unused this long are asked to passivate (checked by one
  /// router timer, at half this period).
  caf::timespan idle_timeout = std::chrono::seconds(60);
  caf::timespan load_timeout = std::chrono::seconds(5);
  /// Above this many resident customer actors, the least recently used are
  /// asked to passivate (memory stays bounded under a stream of creates).
  size_t max_resident = 100000;
  /// In a cluster: how to reach the owners of the other shards; unset for
  /// a single node, which owns every shard.
  std::shared_ptr<const cluster_routing> cluster;
  /// Resident customers and passivations are recorded here.
  actor_metrics metrics;
};

/// Spawns the router. On exit it stops every customer actor it spawned.
router_actor spawn_router(caf::actor_system& sys, router_config cfg);

} // namespace tmf
