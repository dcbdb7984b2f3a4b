#pragma once

// How a list query is answered (pure): which filter an index drives, which
// key ranges of it hold the candidates, whether the index alone decides
// the filter (counts and pages without reading customers), and whether
// the sort order comes from walking an index or from a bounded top-k.
// The store readers execute plans (actors/store_reader.cpp).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "domain/customer_index.hpp"
#include "domain/query.hpp"

namespace tmf::domain {

/// The index entries with keys in [from, to) (`to` empty: no bound).
/// `exact`: every entry in it satisfies its filter term; otherwise its
/// customers must be read and checked.
struct key_range {
  std::string from;
  std::string to;
  bool exact = true;
};

/// The index that drives a filter term.
struct index_plan {
  size_t term = 0;                   ///< position in the query's filters
  const index_spec* spec = nullptr;
  std::vector<key_range> ranges;     ///< sorted, disjoint
  /// The index alone decides the query: one filter term, every range
  /// exact, a single-valued attribute. Counts come from index_counts and a
  /// page is read from the index without checking customers.
  bool decided = false;
};

/// How to answer one list query.
struct list_plan {
  enum kind_t : uint8_t {
    all,   ///< no filter: the customers table in id order
    ids,   ///< `id=` filter: key lookups
    index, ///< candidates from `filter`
    scan,  ///< every customer is read
  };
  enum order_t : uint8_t {
    unsorted, ///< the order of the candidates (ids or index order)
    walk,     ///< walk the index `sort_spec` (nullptr: the id order)
    top_k,    ///< keep the best offset+limit while reading candidates
  };
  kind_t kind = all;
  index_plan filter; ///< kind == index
  order_t order = unsorted;
  const index_spec* sort_spec = nullptr; ///< order == walk
  bool descending = false;               ///< order == walk
  /// A walk of the sort index is possible even though candidates come from
  /// `filter`: the reader may prefer it when the filter matches many.
  bool can_walk = false;
};

/// True for a usable index (built, in its current generation).
using index_ready = std::function<bool(const index_spec&)>;

/// True when no index entry lies in the range (a probe of the store).
using range_empty = std::function<bool(const key_range&)>;

/// The plan of `q` given the indexes of `layout` that `ready` accepts.
/// With `empty`, ranges that are not exact and hold no entry are dropped
/// first (a date-time filter on a string attribute no customer holds a
/// date-time in is then decided by the index).
list_plan plan_list(const list_query& q, const index_layout& layout,
                    const index_ready& ready, const range_empty& empty = {});

/// True when `plan` reads every customer (a scan or a top-k over one):
/// such queries go to the readers that may be busy for long.
bool reads_everything(const list_plan& plan) noexcept;

/// The key ranges of one filter term in the index `spec` (sorted, merged),
/// or false when the index cannot help (`ne`, a regex without a literal
/// prefix anchored with `^`).
bool term_ranges(const filter_term& term, const index_spec& spec,
                 std::vector<key_range>& out);

/// The literal prefix a regex requires at the start of the value (`^abc`
/// -> `abc`, `^ab*` -> `a`), empty when it has none; `whole` is set when
/// the pattern is that literal prefix alone.
std::string regex_literal_prefix(std::string_view pattern, bool& whole);

/// True when `key` lies in one of `ranges`.
bool in_ranges(std::string_view key, const std::vector<key_range>& ranges);

} // namespace tmf::domain
