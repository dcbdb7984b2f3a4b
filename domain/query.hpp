#pragma once

// Plain value types of a TMF630 list query: what `GET /customer?...` asks
// for once parsed (domain/query_string.hpp). No CAF and no JSON here;
// actors/protocol.hpp makes them messages, domain/customer_query.hpp
// evaluates them.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tmf::domain {

/// TMF630 attribute filter operators (`attr.gte=5`); plain `attr=v` is `eq`.
enum class filter_op : uint8_t { eq, ne, gt, gte, lt, lte, regex };

/// What a schema says about the values at an attribute path.
enum class attribute_type : uint8_t {
  unknown,    ///< not described (an extension attribute): anything goes
  structured, ///< an object or an array of them
  string,
  date_time,  ///< an RFC 3339 date-time string
  integer,
  number,
  boolean,
  invalid,    ///< the path names a member of a string, number or boolean
};

/// The schema's word on one attribute path.
struct attribute_info {
  attribute_type type = attribute_type::unknown;
  /// The path crosses an array: a document may hold several values there.
  bool multi = false;
};

/// Looks an attribute path up in a schema (customer_attribute in
/// domain/customer_rules.hpp); nullptr: no schema, every path unknown.
using attribute_typer = attribute_info (*)(std::string_view path);

/// One filter: `path` is a dotted attribute path (`contactMedium.mediumType`)
/// that descends into arrays (any element may match). The term matches when
/// the attribute matches ANY of `values` (comma list or repeated attribute
/// means OR). Different terms are ANDed.
struct filter_term {
  std::string path;
  filter_op op = filter_op::eq;
  std::vector<std::string> values;
};

/// One sort criterion (`sort=name,-status`).
struct sort_key {
  std::string path;
  bool descending = false;
};

/// A whole list query. `limit` is already capped by the parser (never 0 meaning
/// "all": 0 returns an empty page with the total count).
struct list_query {
  std::vector<filter_term> filters;
  std::vector<sort_key> sort;
  uint64_t offset = 0;
  uint64_t limit = 0;
  std::vector<std::string> fields; ///< `fields=` selection (empty: all)
  /// When nobody waits for the answer any more (nanoseconds since the Unix
  /// epoch, 0: never): a reader skips or abandons the query after it.
  int64_t deadline_ns = 0;
  /// A continuation token from a `next` link (domain/list_cursor.hpp);
  /// empty: start at `offset`.
  std::string cursor;
};

} // namespace tmf::domain
