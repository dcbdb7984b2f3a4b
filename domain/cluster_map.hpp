#pragma once

// The cluster's static membership and who owns which shard. Every node
// computes the same table from the same configuration: the 1024 shards of
// the id prefix map to members by rendezvous hashing over member names, so
// adding a member moves only about 1/(N+1) of the shards.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer_id.hpp"

namespace tmf::domain {

/// One member of the cluster.
struct member {
  std::string name;     ///< unique, [A-Za-z0-9_.-]
  std::string host;     ///< CAF (BASP) address: IPv4/IPv6 literal or name
  uint16_t port = 0;    ///< CAF port
  std::string http_url; ///< its HTTP base, e.g. http://10.0.0.1:8080
};

/// Parses `name=host:port=http_url` (IPv6 hosts in brackets).
bool parse_member(std::string_view spec, member& out, std::string& error);

/// The membership every node of one cluster shares.
struct membership {
  std::string self;            ///< this node's name
  uint64_t epoch = 0;          ///< bumped for every change of `members`
  std::vector<member> members; ///< sorted by name
};

/// Parses and checks the configured membership: `self` among `specs`,
/// unique names and CAF addresses. Returns the problem or nothing.
std::optional<std::string> make_membership(std::string self, uint64_t epoch,
                                           const std::vector<std::string>& specs,
                                           membership& out);

/// A stable 64-bit digest of the epoch and the members (names, addresses):
/// nodes link only when theirs are equal.
uint64_t membership_digest(const membership& m);

/// The owner of every shard among `names` (rendezvous hashing with a fixed
/// hash, stable across builds and runs).
class shard_table {
public:
  explicit shard_table(std::vector<std::string> names);

  /// The index (into the names) of the owner of `shard`.
  size_t owner(uint16_t shard) const noexcept {
    return owners_[shard % shard_count];
  }

  /// The shards `member` owns, ascending.
  std::vector<uint16_t> shards_of(size_t member) const;

  const std::vector<std::string>& names() const noexcept {
    return names_;
  }

private:
  std::vector<std::string> names_;
  std::vector<uint32_t> owners_; ///< one per shard
};

/// The rendezvous score of `shard` for member `name`: the owner is the
/// member with the highest score.
uint64_t rendezvous_score(uint16_t shard, std::string_view name) noexcept;

// -- which shards a node holds -------------------------------------------------
//
// A node holds a shard once it has every row of it: the rows it created
// itself, or those it took over from the nodes that held the shard before
// the membership changed. The marks are meta entries of its store.

/// The meta key marking `shard` as held, `held-shard/1a7`.
std::string held_shard_key(uint16_t shard);

/// What every held mark starts with.
constexpr std::string_view held_shard_prefix = "held-shard/";

/// The shard of a held mark; nothing when `key` is not one.
std::optional<uint16_t> held_shard_of(std::string_view key) noexcept;

/// The meta key present once a node's held marks were first written (a
/// node without it has never been part of a cluster).
constexpr std::string_view held_marks_key = "held-shards-marked";

} // namespace tmf::domain
