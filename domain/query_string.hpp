#pragma once

// TMF630 query-string parsing for `GET /customer`: attribute filters with
// operators, `fields`, `sort`, `offset`, `limit`. Pure; no RESTinio types.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/query.hpp"

namespace tmf::domain {

/// What a list request asks for, after parsing.
struct list_request {
  list_query query;             ///< filters, sort, offset, limit
  std::vector<std::string> fields; ///< `fields=` selection (empty: all)
  bool paged = false;           ///< the client gave `offset` or `limit`
};

/// Limits applied when parsing.
struct list_limits {
  uint64_t default_limit = 100; ///< used when `limit` is absent
  uint64_t max_limit = 1000;    ///< larger `limit` values are an error
};

/// Splits a raw query string (`a=1&b=x%20y`, without `?`) into decoded
/// name/value pairs (percent-decoding; `+` stays `+`). Returns false and sets
/// `error` on a malformed escape.
bool split_query(std::string_view raw,
                 std::vector<std::pair<std::string, std::string>>& out,
                 std::string& error);

/// The `fields=` selection of decoded pairs: every comma-separated, trimmed,
/// non-empty name of every `fields` parameter, in order.
std::vector<std::string>
parse_fields(const std::vector<std::pair<std::string, std::string>>& params);

/// Builds a list request from decoded pairs. Reserved names: `fields`
/// (comma list of attribute names), `sort` (comma list, `-` prefix =
/// descending), `offset`, `limit` (non-negative integers). Every other name
/// is an attribute filter `path[.op]=v1,v2` where op is one of eq, ne, gt,
/// gte, lt, lte, regex; repeated names OR their values. Returns false and
/// sets `error` (a client-facing message) on bad input.
bool parse_list_request(
  const std::vector<std::pair<std::string, std::string>>& params,
  const list_limits& limits, list_request& out, std::string& error);

} // namespace tmf::domain
