#pragma once

// Entity tags of customers (RFC 9110): the strong ETag of a customer is
// its stored version in quotes, `"7"`. Conditional requests compare
// against it. Pure.

#include <cstdint>
#include <string>
#include <string_view>

namespace tmf::domain {

/// The ETag of version `version`: `"7"`.
std::string etag_of(uint64_t version);

/// `If-Match`: true when `header` is `*` or a list of entity tags one of
/// which is strongly equal to version `version`'s (a weak tag never
/// matches). False for a malformed header.
bool if_match(std::string_view header, uint64_t version);

/// `If-None-Match` on a read: true when `header` is `*` or lists an entity
/// tag weakly equal to version `version`'s, i.e. the client's copy is
/// current (answer 304).
bool if_none_match(std::string_view header, uint64_t version);

} // namespace tmf::domain
