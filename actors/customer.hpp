#pragma once

// The per-customer actor ("virtual actor"): spawned by the router on first
// use, passivated when idle. It owns the current document of ONE customer in
// memory (its stored JSON text, parsed lazily for patches), serialises every
// operation on it, and answers only after the store writer has committed.

#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/protocol.hpp"

namespace tmf::domain {
class index_layout;
}

namespace tmf {

/// What a customer actor needs from the rest of the system.
struct customer_env {
  router_actor router;       ///< receives the idle report
  store_writer_actor writer; ///< commits changes
  store_reader_actor reader; ///< loads the stored document
  caf::timespan load_timeout = std::chrono::seconds(5);
  /// The secondary indexes whose entries each write keeps; null: none.
  std::shared_ptr<const domain::index_layout> layout;
};

/// Spawns the customer actor of `id` as a child of `parent` (the router).
/// With `fresh` the actor starts empty (for a create); otherwise it first
/// loads `id` from the store and holds every message until the load has
/// answered. A failed load (other than not found) is the answer to every
/// request, and the actor then offers to passivate so that a later request
/// loads again.
customer_actor spawn_customer(caf::local_actor* parent, std::string id,
                              bool fresh, customer_env env);

} // namespace tmf
