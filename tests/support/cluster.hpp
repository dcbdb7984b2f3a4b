#pragma once

// Test support for black-box tests of a local tmf629d cluster: the nodes
// started by scripts/cluster.sh (TMF629D set to the built binary) with
// their data and logs under a fresh temporary folder, 127.0.0.1 and free
// ports. `cluster.sh down` always runs at the end, and whatever is still
// alive after it is killed by its own PID. Every step is bounded in time.

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

#include "support/temp_dir.hpp"

namespace tmf::test {

/// One node of a local cluster.
struct cluster_node {
  std::string name; ///< n1, n2, ...
  pid_t pid = -1;
  std::string url;  ///< http://127.0.0.1:<port>/tmf-api/customerManagement/v4
  uint16_t port = 0;     ///< HTTP
  uint16_t caf_port = 0; ///< CAF (BASP), where the node's gateway listens
};

/// The output and exit code of a command run to completion.
struct command_result {
  int exit_code = -1; ///< -1: killed at its time limit or by a signal
  std::string output; ///< standard output and error together
};

/// Runs `args` (args[0] a path) with `env` added to the environment, in a
/// process group of its own; kills the group after `limit`.
command_result run_command(const std::vector<std::string>& args,
                           const std::vector<std::string>& env,
                           std::chrono::milliseconds limit);

/// True when `pid` runs (it exists and is not a zombie). Reaps it when it
/// is a child of this process that has exited.
bool process_alive(pid_t pid);

/// A cluster of tmf629d nodes started by `scripts/cluster.sh up`.
class local_cluster {
public:
  /// `cluster.sh up n DIR extra...`: returns once every node linked to
  /// every other one (the script waits at most 30 s). Throws
  /// std::runtime_error with the script's output when it fails.
  explicit local_cluster(size_t n, std::vector<std::string> extra = {});

  /// `cluster.sh down DIR`, then SIGKILL (by PID) for any node left.
  ~local_cluster();

  local_cluster(const local_cluster&) = delete;
  local_cluster& operator=(const local_cluster&) = delete;

  /// The folder holding the nodes' data, logs and the cluster's config.
  const std::string& dir() const {
    return dir_;
  }

  const std::vector<cluster_node>& nodes() const {
    return nodes_;
  }

  /// The node called `name` (throws when there is none).
  const cluster_node& node(const std::string& name) const;

  /// Every member's name, as in the configuration.
  std::vector<std::string> names() const;

  /// The member owning the shard of customer `id` (the shard table every
  /// node computes from the member names).
  std::string owner_of(const std::string& id) const;

  /// What node `name` logged so far (its standard error).
  std::string log(const std::string& name) const;

  /// Sends `sig` to node `name` by its PID.
  void signal(const std::string& name, int sig);

  /// Waits (at most `limit`) until node `name` no longer runs.
  bool wait_exit(const std::string& name, std::chrono::milliseconds limit);

  /// `cluster.sh start DIR NAME`: starts the node again and waits until
  /// it linked to every other one. Throws with the output on failure.
  void restart(const std::string& name);

  /// `cluster.sh grow DIR`: one more node with the next epoch (the running
  /// nodes restarted one by one with it); returns once the shards that
  /// change owner have moved. Throws with the output on failure.
  void grow();

  /// Starts node `name` by hand the way cluster.sh does, with `extra`
  /// options after the cluster's own (they override them), without
  /// waiting for links; returns once it listens (at most 20 s), or throws.
  void start_with(const std::string& name,
                  const std::vector<std::string>& extra);

  /// The script's output of `up`.
  const std::string& up_output() const {
    return up_output_;
  }

private:
  void read_nodes(const std::string& output);
  cluster_node& mutable_node(const std::string& name);

  temp_dir tmp_;
  std::string dir_;
  std::vector<cluster_node> nodes_;
  std::string up_output_;
};

/// Calls `pred` every 20 ms until it holds or `limit` passed; the last
/// result.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return pred();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

/// How often `part` occurs in `text`.
size_t occurrences(const std::string& text, const std::string& part);

} // namespace tmf::test
