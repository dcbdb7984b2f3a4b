#include "domain/query_string.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "domain/customer_query.hpp"

namespace tmf::domain {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// Percent-decodes `in` into `out`; `+` stays `+` (RFC 3986, not HTML forms).
bool percent_decode(std::string_view in, std::string& out,
                    std::string& error) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    int hi = i + 1 < in.size() ? hex_value(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      error = "malformed percent-escape \"";
      error += in.substr(i, std::min<size_t>(3, in.size() - i));
      error += "\" in the query string";
      return false;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view space = " \t";
  auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

/// Splits on commas, keeping empty items.
std::vector<std::string> split_commas(std::string_view text) {
  std::vector<std::string> result;
  for (;;) {
    auto comma = text.find(',');
    result.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos)
      return result;
    text.remove_prefix(comma + 1);
  }
}

bool parse_op(std::string_view name, filter_op& op) {
  static constexpr std::pair<std::string_view, filter_op> ops[] = {
    {"eq", filter_op::eq},   {"ne", filter_op::ne},   {"gt", filter_op::gt},
    {"gte", filter_op::gte}, {"lt", filter_op::lt},   {"lte", filter_op::lte},
    {"regex", filter_op::regex},
  };
  for (const auto& [text, value] : ops) {
    if (name == text) {
      op = value;
      return true;
    }
  }
  return false;
}

bool parse_count(const std::string& name, const std::string& text,
                 uint64_t& out, std::string& error) {
  const char* first = text.data();
  const char* last = first + text.size();
  bool only_digits = !text.empty()
                     && std::all_of(first, last,
                                    [](char c) { return c >= '0' && c <= '9'; });
  if (only_digits) {
    auto [ptr, ec] = std::from_chars(first, last, out);
    if (ec == std::errc{} && ptr == last)
      return true;
  }
  error = name + ": expected a non-negative integer, got \"" + text + "\"";
  return false;
}

} // namespace

bool split_query(std::string_view raw,
                 std::vector<std::pair<std::string, std::string>>& out,
                 std::string& error) {
  std::vector<std::pair<std::string, std::string>> result;
  while (!raw.empty()) {
    auto amp = raw.find('&');
    auto pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{}
                                        : raw.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    std::string name;
    std::string value;
    if (!percent_decode(pair.substr(0, eq), name, error))
      return false;
    if (eq != std::string_view::npos
        && !percent_decode(pair.substr(eq + 1), value, error))
      return false;
    result.emplace_back(std::move(name), std::move(value));
  }
  out = std::move(result);
  return true;
}

namespace {

using params_t = std::vector<std::pair<std::string, std::string>>;

/// `what: at most N (key); got M`.
std::string too_many(const std::string& what, size_t limit, const char* key,
                     size_t got) {
  return what + ": at most " + std::to_string(limit) + " (" + key
         + "); got " + std::to_string(got);
}

/// Checks one attribute path of `fields`, `sort` or a filter.
bool check_path(const std::string& param, std::string_view path,
                const list_limits& limits, std::string& error) {
  if (path.size() <= limits.max_path_length)
    return true;
  error = param + ": an attribute path of " + std::to_string(path.size())
          + " characters; at most " + std::to_string(limits.max_path_length);
  return false;
}

bool append_fields(const std::string& value, const list_limits& limits,
                   std::vector<std::string>& out, std::string& error) {
  for (auto& item : split_commas(value)) {
    auto field = trim(item);
    if (field.empty())
      continue;
    if (!check_path("fields", field, limits, error))
      return false;
    if (out.size() == limits.max_fields) {
      error = too_many("fields", limits.max_fields, "max-fields",
                       out.size() + 1);
      return false;
    }
    out.emplace_back(field);
  }
  return true;
}

/// Parses one list-request parameter at a time, enforcing every cap as it
/// goes (so a huge query is refused after reading little of it).
class list_parser {
public:
  explicit list_parser(const list_limits& limits) : limits_(limits) {
    result_.query.limit = limits.default_limit;
  }

  bool add(const std::string& name, const std::string& value) {
    if (name == "fields")
      return append_fields(value, limits_, result_.fields, error_);
    if (name == "sort")
      return add_sort(value);
    if (name == "offset" || name == "limit")
      return add_count(name, value);
    return add_filter(name, value);
  }

  bool finish(list_request& out) {
    for (const auto& term : result_.query.filters) {
      if (auto msg = check_term(term); !msg.empty()) {
        error_ = std::move(msg);
        return false;
      }
    }
    result_.paged = has_offset_ || has_limit_;
    out = std::move(result_);
    return true;
  }

  std::string& error() {
    return error_;
  }

private:
  bool add_sort(const std::string& value) {
    auto& keys = result_.query.sort;
    for (auto& item : split_commas(value)) {
      auto key = trim(item);
      if (key.empty())
        continue;
      sort_key sk;
      if (key.front() == '-' || key.front() == '+') {
        sk.descending = key.front() == '-';
        key = trim(key.substr(1));
      }
      if (key.empty()) {
        error_ = "sort: expected an attribute name after \"" + item + "\"";
        return false;
      }
      if (!check_path("sort", key, limits_, error_))
        return false;
      if (keys.size() == limits_.max_sort_keys) {
        error_ = too_many("sort", limits_.max_sort_keys, "max-sort-keys",
                          keys.size() + 1);
        return false;
      }
      sk.path = std::string{key};
      keys.push_back(std::move(sk));
    }
    return true;
  }

  bool add_count(const std::string& name, const std::string& value) {
    bool& seen = name == "offset" ? has_offset_ : has_limit_;
    if (seen) {
      error_ = name + ": given more than once";
      return false;
    }
    seen = true;
    auto& target = name == "offset" ? result_.query.offset
                                    : result_.query.limit;
    if (!parse_count(name, value, target, error_))
      return false;
    if (name == "limit" && target > limits_.max_limit) {
      error_ = "limit: must not exceed " + std::to_string(limits_.max_limit)
               + ", got \"" + value + "\"";
      return false;
    }
    return true;
  }

  bool add_filter(const std::string& name, const std::string& value) {
    filter_term term;
    std::string_view path = name;
    if (auto dot = path.rfind('.');
        dot != std::string_view::npos
        && parse_op(path.substr(dot + 1), term.op))
      path = path.substr(0, dot);
    term.path = std::string{path};
    if (!check_path(name, path, limits_, error_))
      return false;
    auto values = split_commas(value);
    values_ += values.size();
    if (values_ > limits_.max_filter_values) {
      error_ = too_many(name, limits_.max_filter_values,
                        "max-filter-values: values of all filters", values_);
      return false;
    }
    if (term.op == filter_op::regex)
      for (const auto& pattern : values)
        if (pattern.size() > limits_.max_regex_length) {
          error_ = name + ": a pattern of " + std::to_string(pattern.size())
                   + " bytes; at most "
                   + std::to_string(limits_.max_regex_length)
                   + " (max-regex-length)";
          return false;
        }
    auto& filters = result_.query.filters;
    auto same = std::find_if(filters.begin(), filters.end(),
                             [&](const filter_term& other) {
                               return other.op == term.op
                                      && other.path == term.path;
                             });
    if (same != filters.end()) {
      same->values.insert(same->values.end(),
                          std::make_move_iterator(values.begin()),
                          std::make_move_iterator(values.end()));
      return true;
    }
    if (filters.size() == limits_.max_filters) {
      error_ = too_many("filters", limits_.max_filters, "max-filters",
                        filters.size() + 1);
      return false;
    }
    term.values = std::move(values);
    filters.push_back(std::move(term));
    return true;
  }

  const list_limits& limits_;
  list_request result_;
  std::string error_;
  size_t values_ = 0;
  bool has_offset_ = false;
  bool has_limit_ = false;
};

} // namespace

bool parse_fields(const params_t& params, const list_limits& limits,
                  std::vector<std::string>& out, std::string& error) {
  std::vector<std::string> fields;
  for (const auto& [name, value] : params)
    if (name == "fields" && !append_fields(value, limits, fields, error))
      return false;
  out = std::move(fields);
  return true;
}

bool parse_list_request(const params_t& params, const list_limits& limits,
                        list_request& out, std::string& error) {
  list_parser parser{limits};
  for (const auto& [name, value] : params) {
    if (!parser.add(name, value)) {
      error = std::move(parser.error());
      return false;
    }
  }
  if (!parser.finish(out)) {
    error = std::move(parser.error());
    return false;
  }
  return true;
}

} // namespace tmf::domain
