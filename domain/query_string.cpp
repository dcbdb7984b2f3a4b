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

void append_fields(const std::string& value, std::vector<std::string>& out) {
  for (auto& item : split_commas(value))
    if (auto field = trim(item); !field.empty())
      out.emplace_back(field);
}

} // namespace

std::vector<std::string>
parse_fields(const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::string> fields;
  for (const auto& [name, value] : params)
    if (name == "fields")
      append_fields(value, fields);
  return fields;
}

bool parse_list_request(
  const std::vector<std::pair<std::string, std::string>>& params,
  const list_limits& limits, list_request& out, std::string& error) {
  list_request result;
  bool has_offset = false;
  bool has_limit = false;
  result.query.limit = limits.default_limit;
  for (const auto& [name, value] : params) {
    if (name == "fields") {
      append_fields(value, result.fields);
    } else if (name == "sort") {
      for (auto& item : split_commas(value)) {
        auto key = trim(item);
        if (key.empty())
          continue;
        sort_key sk;
        if (key.front() == '-' || key.front() == '+') {
          sk.descending = key.front() == '-';
          key.remove_prefix(1);
        }
        if (key.empty()) {
          error = "sort: expected an attribute name after \"" + item + "\"";
          return false;
        }
        sk.path = std::string{key};
        result.query.sort.push_back(std::move(sk));
      }
    } else if (name == "offset" || name == "limit") {
      bool& seen = name == "offset" ? has_offset : has_limit;
      if (seen) {
        error = name + ": given more than once";
        return false;
      }
      seen = true;
      auto& target = name == "offset" ? result.query.offset
                                      : result.query.limit;
      if (!parse_count(name, value, target, error))
        return false;
      if (name == "limit" && target > limits.max_limit) {
        error = "limit: must not exceed " + std::to_string(limits.max_limit)
                + ", got \"" + value + "\"";
        return false;
      }
    } else {
      filter_term term;
      std::string_view path = name;
      if (auto dot = path.rfind('.'); dot != std::string_view::npos
                                      && parse_op(path.substr(dot + 1),
                                                  term.op))
        path = path.substr(0, dot);
      term.path = std::string{path};
      auto values = split_commas(value);
      auto& filters = result.query.filters;
      auto same = std::find_if(filters.begin(), filters.end(),
                               [&](const filter_term& other) {
                                 return other.op == term.op
                                        && other.path == term.path;
                               });
      if (same != filters.end()) {
        same->values.insert(same->values.end(),
                            std::make_move_iterator(values.begin()),
                            std::make_move_iterator(values.end()));
      } else {
        term.values = std::move(values);
        filters.push_back(std::move(term));
      }
    }
  }
  for (const auto& term : result.query.filters) {
    if (auto msg = check_term(term); !msg.empty()) {
      error = std::move(msg);
      return false;
    }
  }
  result.paged = has_offset || has_limit;
  out = std::move(result);
  return true;
}

} // namespace tmf::domain
