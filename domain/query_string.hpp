#pragma once

// TMF630 query-string parsing for `GET /customer`: attribute filters with
// operators, `fields`, `sort`, `offset`, `limit`. Pure; no RESTinio types.
//
// A query string is split at `&`, then each pair at its first `=` (or at a
// symbolic operator), then the value at `,`, all on the raw text; only
// then is each part percent-decoded, exactly once. So `%2C` is a comma
// inside a value and `%26` an ampersand, never a separator.

#include <string>
#include <string_view>
#include <vector>

#include "domain/query.hpp"

namespace tmf::domain {

/// One `name=value` parameter of a query string.
struct query_param {
  std::string name;   ///< decoded, without a symbolic operator
  /// `>`, `>=`, `<` or `<=` when the pair was written `a>5`, `a>=5`,
  /// `a<5` or `a<=5` (also with `%3E`/`%3C`); else empty.
  std::string symbol;
  /// The value's comma-separated items, each decoded (`a=x,y%2Cz` gives
  /// `x` and `y,z`); one empty item for `a=` or a bare `a`.
  std::vector<std::string> values;
};

using query_params = std::vector<query_param>;

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

/// Splits a raw query string (without `?`) into parameters, decoding each
/// name and value item once (percent-decoding; `+` stays `+`). Returns
/// false and sets `error` on a malformed escape. Every route checks its
/// query string with this, so all reject the same strings.
bool split_query(std::string_view raw, query_params& out, std::string& error);

/// The `fields=` selection of `params`: every trimmed, non-empty item of
/// every `fields` parameter, in order. Returns false and sets `error` when
/// there are more than `limits.max_fields` names or a name is too long.
bool parse_fields(const query_params& params, const list_limits& limits,
                  std::vector<std::string>& out, std::string& error);

/// Builds a list request from `params`. Reserved names: `fields`, `sort`
/// (`-` prefix = descending), `offset`, `limit` (non-negative integers),
/// `cursor` (a continuation token, checked by the reader).
/// Every other name is an attribute filter `path[.op]=v1,v2` where op is
/// one of eq, ne, gt, gte, lt, lte, regex, or `path>=v` and friends;
/// repeated names OR their values. With a `typer`, paths are checked
/// against its schema: `name.foo` (a string has no members) is an unknown
/// operator, a numeric attribute needs numeric bounds, a date-time
/// attribute RFC 3339 bounds, a boolean `true` or `false`. Returns false
/// and sets `error` (a client-facing message naming the parameter) on bad
/// input or when a cap of `limits` is exceeded.
bool parse_list_request(const query_params& params, const list_limits& limits,
                        list_request& out, std::string& error,
                        attribute_typer typer = nullptr);

} // namespace tmf::domain
