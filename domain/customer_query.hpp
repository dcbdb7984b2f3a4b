#pragma once

// Pure evaluation of TMF630 list queries on customer documents: filters and
// sort order. No CAF, no I/O; used by the store readers and benchmarked in
// bench/. The index layout is in domain/customer_index.hpp.
//
// Regular expressions use RE2 syntax and RE2's engine: matching takes time
// linear in the input and memory bounded per expression, whatever the
// pattern (no backtracking, no recursion).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/query.hpp"

namespace tmf::domain {

/// Memory one compiled regular expression may use (RE2's `max_mem`): a
/// pattern whose program would need more is refused when compiled.
constexpr size_t max_regex_memory = 256 << 10;

/// Filters ready to evaluate: every regular expression compiled once.
/// Compiling can take milliseconds for a large pattern: do it off the HTTP
/// I/O threads (the store readers do).
class compiled_filters {
public:
  /// Compiles `filters`; `ok()` is false when a pattern does not compile
  /// (bad syntax, or a program larger than `max_regex_memory`).
  explicit compiled_filters(std::vector<filter_term> filters);
  ~compiled_filters();
  compiled_filters(compiled_filters&&) noexcept;
  compiled_filters& operator=(compiled_filters&&) noexcept;

  bool ok() const noexcept {
    return error_.empty();
  }

  /// Why a pattern did not compile, naming the parameter
  /// (`name.regex: invalid regular expression "(a": missing )`).
  const std::string& error() const noexcept {
    return error_;
  }

  const std::vector<filter_term>& terms() const noexcept {
    return terms_;
  }

  /// True when `doc` satisfies every term (AND); a term matches when the
  /// value at its dotted path (descending into arrays: any element)
  /// compares true with ANY of its values (OR). The document value's type
  /// decides how: a number numerically (the filter value must be a
  /// number), a boolean against `true`/`false`, null against `null`, a
  /// string as an instant when both it and the filter value are RFC 3339
  /// date-times (whatever their offsets), else as a string. `regex`
  /// searches the string (or the text of a number or boolean): `^` and `$`
  /// anchor it. A missing attribute matches only `ne`. False for every
  /// document when `!ok()`.
  bool matches(const nlohmann::json& doc) const;

private:
  struct compiled;
  std::vector<filter_term> terms_;
  std::unique_ptr<compiled> compiled_;
  std::string error_;
};

/// A filter value as a number (JSON number grammar, a leading `+`
/// allowed), or nothing.
std::optional<long double> parse_filter_number(std::string_view text);

/// `compiled_filters{filters}.matches(doc)`: for one-off evaluations.
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

/// Strict weak order of two documents by `keys`: by type (null, boolean,
/// number, date-time string, other string, array, object), then by value
/// (numbers numerically, date-times as instants), `-` keys reversed;
/// documents without the attribute come last in either direction; ties are
/// broken by `id`, ascending.
bool sort_before(const nlohmann::json& a, const nlohmann::json& b,
                 const std::vector<sort_key>& keys);

/// What a document sorts by: its value at each sort key's path (the first
/// one, through arrays; `present` 0 when missing) and its id. Small enough
/// to keep offset+limit of them while reading many documents.
struct sort_values {
  std::vector<nlohmann::json> values;
  std::vector<char> present;
  std::string id;
};

/// The sort values of `doc` for `keys`.
sort_values extract_sort_values(const nlohmann::json& doc,
                                const std::vector<sort_key>& keys);

/// The order of `sort_before` on extracted values.
bool sort_values_before(const sort_values& a, const sort_values& b,
                        const std::vector<sort_key>& keys);

/// Checks that `term` is well formed (a non-empty path of non-empty names
/// without `<` or `>`, at least one value). Regular expressions are
/// checked when compiled. Returns an empty string when usable, else a
/// message naming the parameter.
std::string check_term(const filter_term& term);

/// The parameter name of `term` as a client wrote it (`name.regex`).
std::string parameter_name(const filter_term& term);

} // namespace tmf::domain
