#pragma once

// Customer ids carry their shard: `<3 hex shard>-<26 base32 chars>` (128
// random bits), e.g. `1a7-k2v4...`. Any node can find the owner of an id
// from its prefix alone (see docs/cluster.md in the shared material).
// Events and hub subscriptions take the random part alone.

#include <cstdint>
#include <string>
#include <string_view>

namespace tmf::domain {

/// Number of virtual shards; a shard is the 3 hex digits before the dash.
constexpr uint16_t shard_count = 1024;

/// 26 base32 characters of 128 random bits from the kernel's CSPRNG: the
/// random part of customer ids, and the ids of events and hub
/// subscriptions.
std::string make_random_id();

/// True when `id` has the form `make_random_id` makes.
bool is_random_id(std::string_view id) noexcept;

/// Makes a fresh id in `shard` (< shard_count) from 128 random bits of the
/// kernel's CSPRNG.
std::string make_customer_id(uint16_t shard);

/// True when `id` has the form of an id this service generates.
bool is_customer_id(std::string_view id) noexcept;

/// The shard of a well-formed id.
uint16_t shard_of(std::string_view id) noexcept;

/// What every id of `shard` starts with, e.g. `1a7-`: the key range of the
/// shard's rows.
std::string shard_prefix(uint16_t shard);

} // namespace tmf::domain
