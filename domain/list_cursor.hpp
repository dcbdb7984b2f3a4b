#pragma once

// Continuation tokens of list pages (the `cursor` parameter of a `next`
// link): where the walk that produced a page stopped, so that the next
// page starts there instead of counting `offset` entries again. A token
// belongs to one query shape (filters and sort); any other query refuses
// it. Pure.

#include <optional>
#include <string>
#include <string_view>

#include "domain/query.hpp"

namespace tmf::domain {

/// The longest token the parser accepts.
constexpr size_t max_cursor_length = 1024;

/// Where a walk stopped: the phase of the walk (a letter the reader
/// chooses) and the last key it returned.
struct cursor_position {
  char phase = 0;
  std::string key;
};

/// The token of `pos` for query `q` (URL-safe base64, no padding).
std::string encode_cursor(const list_query& q, const cursor_position& pos);

/// The position of a token, or nothing when it is malformed or was made
/// for a query with other filters or another sort.
std::optional<cursor_position> decode_cursor(const list_query& q,
                                             std::string_view token);

} // namespace tmf::domain
