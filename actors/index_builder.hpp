#pragma once

// The secondary indexes at start-up: which generation each configured
// index has, and an actor that removes the entries of dropped or rebuilt
// indexes and builds new ones in batches through the store writer while
// the service serves (queries on an index scan until it is built).

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

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

/// The indexes of this start.
struct index_setup {
  std::shared_ptr<const domain::index_layout> layout;
  std::vector<std::string> ready;    ///< built and usable
  std::vector<std::string> to_build; ///< to be built by the builder
};

/// Reads the index markers of the store and gives every path of `paths`
/// its generation: the one built before when its encoding is current,
/// else a fresh one (marked `building` before anything is written under
/// it). Markers of indexes no longer configured are removed. Call before
/// any customer is written. On failure returns false and sets `error`.
bool prepare_indexes(persistence::environment& env,
                     const std::vector<std::string>& paths, index_setup& out,
                     std::string& error);

/// What the index builder needs.
struct builder_config {
  std::shared_ptr<persistence::environment> env;
  store_writer_actor writer;
  router_actor router; ///< told which indexes are built
  index_setup setup;
  size_t batch = 1000; ///< customers per write transaction
};

/// Spawns the index builder (its own thread). It tells the router the
/// built indexes at once, erases the entries of stale generations, then
/// builds the indexes of `setup.to_build` one after the other, logging
/// its progress, and marks each ready when done. It stops between two
/// batches when it gets an exit message.
index_builder_actor spawn_index_builder(caf::actor_system& sys,
                                        builder_config cfg);

} // namespace tmf
