#include "domain/query_plan.hpp"

#include <algorithm>
#include <cctype>

#include "domain/date_time.hpp"

namespace tmf::domain {

namespace {

constexpr index_tag all_tags[] = {index_tag::null, index_tag::boolean,
                                  index_tag::number, index_tag::date_time,
                                  index_tag::string};

char next_tag(index_tag tag) {
  return static_cast<char>(static_cast<char>(tag) + 1);
}

/// Every entry of one type in the index at `prefix`.
key_range whole_class(const std::string& prefix, index_tag tag, bool exact) {
  return key_range{prefix + static_cast<char>(tag), prefix + next_tag(tag),
                   exact};
}

/// The entries of `op` against the value key `key` (with its tag) in the
/// index at `prefix`, or false when the operator has no range.
bool op_range(filter_op op, const std::string& prefix, index_tag tag,
              const std::string& key, key_range& out) {
  auto at = prefix + key;
  auto begin = prefix + static_cast<char>(tag);
  auto end = prefix + next_tag(tag);
  // Entries of this exact value are `at \0 id`; greater values sort from
  // `at \x01` on (a value key holds no NUL).
  switch (op) {
    case filter_op::eq:
      out = {at + '\0', at + '\x01', true};
      return true;
    case filter_op::gt:
      out = {at + '\x01', end, true};
      return true;
    case filter_op::gte:
      out = {at + '\0', end, true};
      return true;
    case filter_op::lt:
      out = {begin, at + '\0', true};
      return true;
    case filter_op::lte:
      out = {begin, at + '\x01', true};
      return true;
    default:
      return false;
  }
}

/// True when the value key is short enough to be stored whole, so that
/// comparing it with a stored (possibly cut) key decides the comparison.
bool decidable(const std::string& key) {
  return key.size() + 2 <= max_index_value;
}

bool comparison_ranges(const filter_term& term, const std::string& prefix,
                       std::vector<key_range>& out) {
  for (const auto& value : term.values) {
    for (auto tag : all_tags) {
      auto key = index_value_key(value, tag);
      if (!key) {
        // A date-time customer value compares with a value that is no
        // date-time as text, which the index does not keep: read them.
        if (tag == index_tag::date_time)
          out.push_back(whole_class(prefix, tag, false));
        continue;
      }
      key_range r;
      if (!op_range(term.op, prefix, tag, *key, r))
        return false;
      r.exact = decidable(*key);
      out.push_back(std::move(r));
    }
  }
  return true;
}

bool regex_ranges(const filter_term& term, const std::string& prefix,
                  std::vector<key_range>& out) {
  for (const auto& pattern : term.values) {
    bool whole = false;
    auto literal = regex_literal_prefix(pattern, whole);
    if (literal.empty())
      return false;
    auto key = *index_value_key(literal, index_tag::string);
    auto from = prefix + key;
    out.push_back(key_range{from, prefix_end(from), whole && decidable(key)});
    // Booleans, numbers and date-times match by their text, which the
    // index does not keep (or not in text order): read them.
    for (auto tag : {index_tag::boolean, index_tag::number,
                     index_tag::date_time})
      out.push_back(whole_class(prefix, tag, false));
  }
  return true;
}

/// Sorts and merges overlapping ranges; a merged range is exact only when
/// all its parts are.
void merge(std::vector<key_range>& ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const key_range& a, const key_range& b) {
              return a.from < b.from;
            });
  std::vector<key_range> out;
  for (auto& r : ranges) {
    if (!r.to.empty() && r.from >= r.to)
      continue; // empty
    if (!out.empty() && (out.back().to.empty() || r.from < out.back().to)) {
      auto& last = out.back();
      if (!last.to.empty() && (r.to.empty() || r.to > last.to))
        last.to = r.to;
      last.exact = last.exact && r.exact;
      continue;
    }
    out.push_back(std::move(r));
  }
  ranges = std::move(out);
}

/// How good a term is at driving a query: lower is better.
int score(const filter_term& term, const std::vector<key_range>& ranges) {
  bool exact = std::all_of(ranges.begin(), ranges.end(),
                           [](const key_range& r) { return r.exact; });
  if (term.op == filter_op::eq)
    return exact ? 0 : 1;
  if (term.op == filter_op::regex)
    return exact ? 2 : 3;
  return exact ? 2 : 4;
}

bool is_id_term(const filter_term& t) {
  return t.path == "id" && t.op == filter_op::eq;
}

/// The sort order when the whole store (or every candidate) is read.
void plan_order(const list_query& q, const index_layout& layout,
                const index_ready& ready, list_plan& plan) {
  if (q.sort.empty())
    return;
  plan.order = list_plan::top_k;
  if (q.sort.size() != 1)
    return;
  const auto& key = q.sort.front();
  const index_spec* spec = nullptr;
  if (key.path != "id") {
    spec = layout.find(key.path);
    if (spec == nullptr || !spec->sortable() || !ready(*spec))
      return;
  }
  plan.sort_spec = spec;
  plan.descending = key.descending;
  if (plan.kind == list_plan::all) {
    plan.order = list_plan::walk;
  } else if (plan.kind == list_plan::index && plan.filter.decided
             && spec == plan.filter.spec) {
    plan.order = list_plan::walk; // the filter's own ranges, in order
  } else if (plan.kind == list_plan::index) {
    plan.can_walk = true;
  }
}

} // namespace

std::string regex_literal_prefix(std::string_view pattern, bool& whole) {
  whole = false;
  if (pattern.empty() || pattern.front() != '^'
      || pattern.find('|') != std::string_view::npos)
    return {};
  std::string literal;
  size_t i = 1;
  constexpr std::string_view meta = ".[]()*+?{}^$|\\";
  constexpr std::string_view quantifiers = "*+?{";
  while (i < pattern.size()) {
    auto c = pattern[i];
    size_t len = 1;
    if (c == '\\') {
      // An escaped punctuation character is itself; \d, \w, ... are not.
      if (i + 1 >= pattern.size()
          || std::isalnum(static_cast<unsigned char>(pattern[i + 1])))
        break;
      c = pattern[i + 1];
      len = 2;
    } else if (meta.find(c) != std::string_view::npos) {
      break;
    }
    auto next = i + len;
    if (next < pattern.size()
        && quantifiers.find(pattern[next]) != std::string_view::npos)
      return literal; // the character is optional or repeated
    literal += c;
    i = next;
  }
  whole = i == pattern.size();
  return literal;
}

bool term_ranges(const filter_term& term, const index_spec& spec,
                 std::vector<key_range>& out) {
  out.clear();
  auto prefix = spec.prefix();
  bool ok = term.op == filter_op::regex
              ? regex_ranges(term, prefix, out)
              : comparison_ranges(term, prefix, out);
  if (!ok)
    return false;
  merge(out);
  return true;
}

bool in_ranges(std::string_view key, const std::vector<key_range>& ranges) {
  for (const auto& r : ranges)
    if (key >= r.from && (r.to.empty() || key < r.to))
      return true;
  return false;
}

list_plan plan_list(const list_query& q, const index_layout& layout,
                    const index_ready& ready, const range_empty& empty) {
  list_plan plan;
  if (std::any_of(q.filters.begin(), q.filters.end(), is_id_term)) {
    plan.kind = list_plan::ids;
    if (!q.sort.empty())
      plan.order = list_plan::top_k;
    return plan;
  }
  if (!q.filters.empty()) {
    plan.kind = list_plan::scan;
    int best = 100;
    std::vector<key_range> ranges;
    for (size_t i = 0; i < q.filters.size(); ++i) {
      const auto* spec = layout.find(q.filters[i].path);
      if (spec == nullptr || !ready(*spec)
          || !term_ranges(q.filters[i], *spec, ranges))
        continue;
      if (empty)
        ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                                    [&](const key_range& r) {
                                      return !r.exact && empty(r);
                                    }),
                     ranges.end());
      auto s = score(q.filters[i], ranges);
      if (s >= best)
        continue;
      best = s;
      plan.kind = list_plan::index;
      plan.filter = index_plan{i, spec, ranges, false};
    }
    if (plan.kind == list_plan::index) {
      const auto& rs = plan.filter.ranges;
      plan.filter.decided = q.filters.size() == 1
                            && !plan.filter.spec->info.multi
                            && std::all_of(rs.begin(), rs.end(),
                                           [](const key_range& r) {
                                             return r.exact;
                                           });
    }
  }
  plan_order(q, layout, ready, plan);
  return plan;
}

bool reads_everything(const list_plan& plan) noexcept {
  return plan.kind == list_plan::scan
         || (plan.kind == list_plan::all && plan.order == list_plan::top_k);
}

} // namespace tmf::domain
