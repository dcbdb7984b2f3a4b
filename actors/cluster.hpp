#pragma once

// Nodes of one cluster, over CAF's own remoting (../shared/docs/cluster.md).
//
// Each node publishes one gateway actor on its CAF address and keeps one
// link actor per peer. The member with the lower name dials (a TCP probe
// first, so a black-holed peer never stalls CAF's serialised connects to
// the others; one attempt per peer at a time; the new handle is verified
// with the hello request before use); the other side learns the link from
// the hello its gateway receives. Links forward the requests for the
// peer's shards and fail every pending one at once when the peer goes down
// (CAF 0.17 would let them run into their timeout). A single node without
// a cluster configuration uses none of this.

#include <chrono>
#include <memory>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/protocol.hpp"
#include "domain/cluster_map.hpp"

namespace tmf {

/// The wire protocol of links and gateways; a node refuses peers of
/// another version (and CAF refuses other `middleman.app-identifiers`).
constexpr uint32_t cluster_proto = 3;

struct cluster_config {
  domain::membership members;
  caf::timespan request_timeout = std::chrono::seconds(5);
  caf::timespan retry_period = std::chrono::milliseconds(500);
  caf::timespan probe_timeout = std::chrono::milliseconds(500);
  caf::timespan connect_timeout = std::chrono::seconds(5);
  size_t max_pending = 1000; ///< forwarded requests per peer at most
  bool tls = false;          ///< dial through caf_openssl
};

/// How the router reaches the other nodes.
struct cluster_routing {
  std::shared_ptr<const domain::shard_table> table;
  size_t self = 0;                ///< this node's index in `table`
  std::vector<link_actor> links;  ///< by member index; none for `self`
  std::vector<uint16_t> own_shards;
  /// Lists ask every node for its first offset + limit matches: this caps
  /// offset + limit (a larger one is a 400).
  uint64_t max_window = 1000;
};

/// A random 64-bit incarnation number for this process.
uint64_t make_incarnation();

/// This node's hello.
cluster_hello own_hello(const cluster_config& cfg, uint64_t incarnation);

/// Spawns one link per peer (by member index; an empty handle for self).
/// Each sends the peer `notifier`'s subscriptions whenever it comes up.
std::vector<link_actor> spawn_links(caf::actor_system& sys,
                                    const cluster_config& cfg,
                                    uint64_t incarnation,
                                    notifier_actor notifier);

/// Who answers what a gateway is asked.
struct gateway_targets {
  router_actor router;       ///< customers and list parts
  store_reader_actor reader; ///< exports of shards
  shard_mover_actor mover;   ///< held and release
  notifier_actor notifier;   ///< hub subscriptions
};

/// Spawns the gateway in front of this node's actors.
gateway_actor spawn_gateway(caf::actor_system& sys, const cluster_config& cfg,
                            uint64_t incarnation, gateway_targets targets,
                            std::vector<link_actor> links);

/// One cluster list query being gathered.
using list_collector_actor
  = caf::typed_actor<caf::replies_to<list_atom, list_query>::with<list_page>>;

/// Spawns the collector of one cluster list query: asks `router` for this
/// node's part and every link for its peer's, merges them (sort order,
/// offset, limit, fields, summed total), answers once and stops. Any part
/// missing makes the whole list unavailable: never a silently short page.
list_collector_actor spawn_list_collector(caf::local_actor* parent,
                                          router_actor router,
                                          std::vector<link_actor> links);

} // namespace tmf
