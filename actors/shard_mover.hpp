#pragma once

// The shard mover of a cluster node: when the membership changes (a new
// epoch with one more member), some shards change owner. Their rows have
// to follow: the new owner pulls them, chunk by chunk over CAF, from every
// peer (only the previous owner has any), stores them with their versions,
// index entries and pending events, marks the shard held, and tells the
// peers to release their copy. Until then the shard answers 503 on the new
// owner (no write can reach the old one: every node of the new epoch routes
// the shard to its new owner), and list queries answer 503 on every node
// whose shards are still moving. Holders also ask the new owner from time
// to time whether it holds their leftover shards, so a crash between the
// take-over and the release only delays the release.
//
// A node that was never part of a cluster (no held marks in its store)
// holds, on its first start in one, the shards it has rows of but does not
// own (to hand them over) and takes over its own shards from its peers like
// a new member (an empty answer from every peer is enough).

#include <memory>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/cluster.hpp"
#include "actors/protocol.hpp"

namespace tmf::persistence {
class environment;
}

namespace tmf {

struct shard_mover_config {
  std::shared_ptr<const cluster_routing> routing;
  store_writer_actor writer;
  router_actor router; ///< told which shards wait and how many leave
  std::shared_ptr<persistence::environment> env; ///< the held marks
  caf::timespan retry_period = std::chrono::milliseconds(500);
  caf::timespan request_timeout = std::chrono::seconds(30);
};

/// Spawns the mover; it reads the held marks at once and tells the router.
shard_mover_actor spawn_shard_mover(caf::actor_system& sys,
                                    shard_mover_config cfg);

} // namespace tmf
