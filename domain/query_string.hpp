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

/// Limits applied when parsing: everything a client controls is bounded.
/// The names in parentheses are the configuration keys.
struct list_limits {
  uint64_t default_limit = 100; ///< used when `limit` is absent
  uint64_t max_limit = 1000;    ///< larger `limit` values are an error
  size_t max_filters = 20;      ///< distinct filter terms (max-filters)
  size_t max_filter_values = 100; ///< values of all terms (max-filter-values)
  size_t max_sort_keys = 8;     ///< `sort` keys (max-sort-keys)
  size_t max_fields = 64;       ///< `fields` names (max-fields)
  size_t max_regex_length = 256; ///< bytes of one pattern (max-regex-length)
  size_t max_path_length = 256; ///< characters of one attribute path
};

/// Splits a raw query string (`a=1&b=x%20y`, without `?`) into decoded
/// name/value pairs (percent-decoding; `+` stays `+`). Returns false and sets
/// `error` on a malformed escape.
bool split_query(std::string_view raw,
                 std::vector<std::pair<std::string, std::string>>& out,
                 std::string& error);

/// The `fields=` selection of decoded pairs: every comma-separated, trimmed,
/// non-empty name of every `fields` parameter, in order. Returns false and
/// sets `error` when there are more than `limits.max_fields` names or a
/// name is too long.
bool parse_fields(const std::vector<std::pair<std::string, std::string>>& params,
                  const list_limits& limits, std::vector<std::string>& out,
                  std::string& error);

/// Builds a list request from decoded pairs. Reserved names: `fields`
/// (comma list of attribute names), `sort` (comma list, `-` prefix =
/// descending), `offset`, `limit` (non-negative integers). Every other name
/// is an attribute filter `path[.op]=v1,v2` where op is one of eq, ne, gt,
/// gte, lt, lte, regex; repeated names OR their values. Returns false and
/// sets `error` (a client-facing message naming the parameter) on bad input
/// or when a cap of `limits` is exceeded.
bool parse_list_request(
  const std::vector<std::pair<std::string, std::string>>& params,
  const list_limits& limits, list_request& out, std::string& error);

} // namespace tmf::domain
