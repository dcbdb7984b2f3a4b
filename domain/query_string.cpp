#include "domain/query_string.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

#include "domain/customer_query.hpp"
#include "domain/date_time.hpp"
#include "domain/list_cursor.hpp"

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

/// The symbolic operator `>` or `<` at `text[pos]`, written as itself or
/// as `%3E`/`%3C`: its sign and length in `text`; 0 when there is none.
size_t symbol_at(std::string_view text, size_t pos, char& sign) {
  auto c = text[pos];
  if (c == '>' || c == '<') {
    sign = c;
    return 1;
  }
  if (c != '%' || pos + 2 >= text.size() || text[pos + 1] != '3')
    return 0;
  auto x = text[pos + 2];
  if (x == 'E' || x == 'e')
    sign = '>';
  else if (x == 'C' || x == 'c')
    sign = '<';
  else
    return 0;
  return 3;
}

/// Splits one raw `name=value` pair into `out`: at the first `=` (a name
/// ending in `>` or `<` makes `>=`/`<=`), else at the first `>` or `<`;
/// the value at its commas; then decodes every part once.
bool split_pair(std::string_view pair, query_param& out, std::string& error) {
  std::string_view name = pair;
  std::string_view value;
  char sign = 0;
  if (auto eq = pair.find('='); eq != std::string_view::npos) {
    name = pair.substr(0, eq);
    value = pair.substr(eq + 1);
    for (size_t len : {1, 3}) {
      if (name.size() >= len
          && symbol_at(name, name.size() - len, sign) == len) {
        out.symbol = {sign, '='};
        name.remove_suffix(len);
        break;
      }
    }
  } else {
    for (size_t pos = 0; pos < pair.size(); ++pos) {
      if (auto len = symbol_at(pair, pos, sign)) {
        out.symbol = std::string(1, sign);
        name = pair.substr(0, pos);
        value = pair.substr(pos + len);
        break;
      }
    }
  }
  if (!percent_decode(name, out.name, error))
    return false;
  for (;;) {
    auto comma = value.find(',');
    if (!percent_decode(value.substr(0, comma), out.values.emplace_back(),
                        error))
      return false;
    if (comma == std::string_view::npos)
      return true;
    value.remove_prefix(comma + 1);
  }
}

std::string_view trim(std::string_view text) {
  constexpr std::string_view space = " \t";
  auto first = text.find_first_not_of(space);
  if (first == std::string_view::npos)
    return {};
  auto last = text.find_last_not_of(space);
  return text.substr(first, last - first + 1);
}

/// The items of a value joined again, for messages.
std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const auto& v : values) {
    if (!out.empty())
      out += ',';
    out += v;
  }
  return out;
}

/// `"text"`, cut to a length fit for a message.
std::string quoted(std::string_view text) {
  constexpr size_t max_len = 64;
  std::string out = "\"";
  out += text.substr(0, max_len);
  if (text.size() > max_len)
    out += "...";
  out += '"';
  return out;
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

filter_op symbol_op(const std::string& symbol) {
  if (symbol == ">")
    return filter_op::gt;
  if (symbol == ">=")
    return filter_op::gte;
  if (symbol == "<")
    return filter_op::lt;
  return filter_op::lte;
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

bool is_scalar(attribute_type t) {
  return t != attribute_type::unknown && t != attribute_type::structured
         && t != attribute_type::invalid;
}

} // namespace

bool split_query(std::string_view raw, query_params& out, std::string& error) {
  query_params result;
  while (!raw.empty()) {
    auto amp = raw.find('&');
    auto pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view{}
                                        : raw.substr(amp + 1);
    if (pair.empty())
      continue;
    if (!split_pair(pair, result.emplace_back(), error))
      return false;
  }
  out = std::move(result);
  return true;
}

namespace {

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

bool append_fields(const std::vector<std::string>& items,
                   const list_limits& limits, std::vector<std::string>& out,
                   std::string& error) {
  for (auto& item : items) {
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

/// Checks a filter against what the schema says about its path; returns
/// a message naming `param`, or an empty string.
std::string check_typed(const std::string& param, const filter_term& term,
                        bool explicit_op, attribute_typer typer) {
  if (typer == nullptr || term.path.empty())
    return {};
  auto info = typer(term.path);
  if (info.type == attribute_type::invalid) {
    auto dot = term.path.rfind('.');
    if (!explicit_op && dot != std::string::npos
        && is_scalar(typer(term.path.substr(0, dot)).type))
      return param + ": unknown operator "
             + quoted(std::string_view{term.path}.substr(dot + 1))
             + "; the operators are eq, ne, gt, gte, lt, lte and regex";
    return param + ": invalid attribute path; a string, number or boolean "
                   "attribute has no members";
  }
  if (term.op == filter_op::regex)
    return {};
  for (const auto& value : term.values) {
    switch (info.type) {
      case attribute_type::integer:
      case attribute_type::number:
        if (!parse_filter_number(value))
          return param + ": expected a number, got " + quoted(value);
        break;
      case attribute_type::date_time:
        if (!parse_instant(value))
          return param + ": expected an RFC 3339 date-time, got "
                 + quoted(value);
        break;
      case attribute_type::boolean:
        if (value != "true" && value != "false")
          return param + ": expected true or false, got " + quoted(value);
        break;
      default:
        break;
    }
  }
  return {};
}

/// Parses one list-request parameter at a time, enforcing every cap as it
/// goes (so a huge query is refused after reading little of it).
class list_parser {
public:
  list_parser(const list_limits& limits, attribute_typer typer)
    : limits_(limits), typer_(typer) {
    result_.query.limit = limits.default_limit;
  }

  bool add(const query_param& p) {
    bool reserved = p.name == "fields" || p.name == "sort"
                    || p.name == "offset" || p.name == "limit"
                    || p.name == "cursor";
    if (reserved && !p.symbol.empty()) {
      error_ = p.name + ": takes no operator, got \"" + p.name + p.symbol
               + "\"";
      return false;
    }
    if (p.name == "fields")
      return append_fields(p.values, limits_, result_.fields, error_);
    if (p.name == "sort")
      return add_sort(p.values);
    if (p.name == "offset" || p.name == "limit")
      return add_count(p.name, joined(p.values));
    if (p.name == "cursor")
      return add_cursor(joined(p.values));
    return add_filter(p);
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
  bool add_sort(const std::vector<std::string>& items) {
    auto& keys = result_.query.sort;
    for (auto& item : items) {
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

  bool add_cursor(std::string value) {
    if (has_cursor_) {
      error_ = "cursor: given more than once";
      return false;
    }
    has_cursor_ = true;
    if (value.size() > max_cursor_length) {
      error_ = "cursor: at most " + std::to_string(max_cursor_length)
               + " characters";
      return false;
    }
    result_.query.cursor = std::move(value);
    return true;
  }

  /// The filter of `p`: its path, and its operator from the symbol or the
  /// last path segment. Returns false (and sets the error) when it has
  /// both.
  bool read_term(const query_param& p, filter_term& term, bool& explicit_op) {
    std::string_view path = p.name;
    filter_op op = filter_op::eq;
    auto dot = path.rfind('.');
    bool suffix = dot != std::string_view::npos
                  && parse_op(path.substr(dot + 1), op);
    if (!p.symbol.empty() && suffix) {
      error_ = p.name + p.symbol + ": two operators";
      return false;
    }
    if (suffix)
      path = path.substr(0, dot);
    term.op = p.symbol.empty() ? op : symbol_op(p.symbol);
    term.path = std::string{path};
    explicit_op = suffix || !p.symbol.empty();
    return true;
  }

  bool add_filter(const query_param& p) {
    filter_term term;
    bool explicit_op = false;
    if (!read_term(p, term, explicit_op))
      return false;
    auto name = p.name + p.symbol;
    if (!check_path(name, term.path, limits_, error_))
      return false;
    values_ += p.values.size();
    if (values_ > limits_.max_filter_values) {
      error_ = too_many(name, limits_.max_filter_values,
                        "max-filter-values: values of all filters", values_);
      return false;
    }
    term.values = p.values;
    if (term.op == filter_op::regex)
      for (const auto& pattern : term.values)
        if (pattern.size() > limits_.max_regex_length) {
          error_ = name + ": a pattern of " + std::to_string(pattern.size())
                   + " bytes; at most "
                   + std::to_string(limits_.max_regex_length)
                   + " (max-regex-length)";
          return false;
        }
    if (error_ = check_typed(name, term, explicit_op, typer_);
        !error_.empty())
      return false;
    return merge(std::move(term));
  }

  /// Adds `term`, ORing its values into an earlier term of the same path
  /// and operator.
  bool merge(filter_term term) {
    auto& filters = result_.query.filters;
    auto same = std::find_if(filters.begin(), filters.end(),
                             [&](const filter_term& other) {
                               return other.op == term.op
                                      && other.path == term.path;
                             });
    if (same != filters.end()) {
      same->values.insert(same->values.end(),
                          std::make_move_iterator(term.values.begin()),
                          std::make_move_iterator(term.values.end()));
      return true;
    }
    if (filters.size() == limits_.max_filters) {
      error_ = too_many("filters", limits_.max_filters, "max-filters",
                        filters.size() + 1);
      return false;
    }
    filters.push_back(std::move(term));
    return true;
  }

  const list_limits& limits_;
  attribute_typer typer_;
  list_request result_;
  std::string error_;
  size_t values_ = 0;
  bool has_offset_ = false;
  bool has_limit_ = false;
  bool has_cursor_ = false;
};

} // namespace

bool parse_fields(const query_params& params, const list_limits& limits,
                  std::vector<std::string>& out, std::string& error) {
  std::vector<std::string> fields;
  for (const auto& p : params)
    if (p.name == "fields" && !append_fields(p.values, limits, fields, error))
      return false;
  out = std::move(fields);
  return true;
}

bool parse_list_request(const query_params& params, const list_limits& limits,
                        list_request& out, std::string& error,
                        attribute_typer typer) {
  list_parser parser{limits, typer};
  for (const auto& p : params) {
    if (!parser.add(p)) {
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
