#pragma once

// Pure evaluation of TMF630 list queries on customer documents: filters and
// sort order. No CAF, no I/O; used by the store readers and benchmarked in
// bench/. The index layout is in domain/customer_index.hpp.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/query.hpp"

namespace tmf::domain {

/// True when `doc` satisfies every term of `filters` (AND); a term matches
/// when the value at its dotted path (descending into arrays: any element)
/// compares true with ANY of its values (OR). Comparison: strings compare as
/// strings; numbers numerically when the filter value parses as a number;
/// booleans against `true`/`false`; `regex` uses ECMAScript syntax and
/// matches the whole string (an invalid regex never matches). A missing
/// attribute matches only `ne`.
bool matches(const nlohmann::json& doc, const std::vector<filter_term>& filters);

/// A cheap necessary condition for `matches`, checked on a stored JSON text
/// before parsing it: an `eq` term whose values can only match as strings
/// (not numbers, booleans or null) can only match a document whose text
/// holds one of those values as a JSON string token. `may_match` is false
/// only when `matches` would be false; scans then skip the parse.
class text_prefilter {
public:
  explicit text_prefilter(const std::vector<filter_term>& filters);

  /// False when no document with this JSON text (as dumped by nlohmann) can
  /// satisfy the filters.
  bool may_match(std::string_view text) const noexcept;

private:
  /// One entry per usable term: a matching text holds one of the tokens.
  std::vector<std::vector<std::string>> tokens_;
};

/// Strict weak order of two documents by `keys` (missing values sort first,
/// then by type, then by value), ties broken by `id`.
bool sort_before(const nlohmann::json& a, const nlohmann::json& b,
                 const std::vector<sort_key>& keys);

/// Checks that `term` is well formed (a valid regex for `regex`, a non-empty
/// path). Returns an empty string when usable, else a message.
std::string check_term(const filter_term& term);

} // namespace tmf::domain
