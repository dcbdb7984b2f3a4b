#include "domain/customer_query.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <re2/re2.h>

#include "domain/date_time.hpp"

using json = nlohmann::json;

namespace tmf::domain {

namespace {

// -- path walking -------------------------------------------------------------

/// Calls `f` on every value at the dotted `path` below `node`, descending into
/// arrays at every level (an array stands for each of its elements). Stops
/// and returns true as soon as `f` returns true.
template <class F>
bool visit(const json& node, std::string_view path, F& f) {
  if (node.is_array()) {
    for (const auto& element : node)
      if (visit(element, path, f))
        return true;
    return false;
  }
  if (path.empty())
    return f(node);
  if (!node.is_object())
    return false;
  auto dot = path.find('.');
  auto name = path.substr(0, dot);
  auto rest = dot == std::string_view::npos ? std::string_view{}
                                            : path.substr(dot + 1);
  auto i = node.find(name);
  if (i == node.end())
    return false;
  return visit(*i, rest, f);
}

/// The first value at `path`, or nullptr.
const json* first_value(const json& doc, std::string_view path) {
  const json* result = nullptr;
  auto take = [&](const json& value) {
    result = &value;
    return true;
  };
  visit(doc, path, take);
  return result;
}

// -- comparing a document value with a filter value ---------------------------

long double number_of(const json& value) {
  if (value.is_number_unsigned())
    return static_cast<long double>(value.get<uint64_t>());
  if (value.is_number_integer())
    return static_cast<long double>(value.get<int64_t>());
  return static_cast<long double>(value.get<double>());
}

template <class T>
int three_way(const T& x, const T& y) {
  return x < y ? -1 : (y < x ? 1 : 0);
}

int sign_of(int x) {
  return x < 0 ? -1 : (x > 0 ? 1 : 0);
}

/// A filter value with every type it can be read as, worked out once.
struct typed_value {
  std::string text;
  std::optional<long double> number;
  int boolean = -1; ///< 0 or 1 for `false` or `true`, else -1
  bool null = false;
  std::optional<instant> when; ///< when it is an RFC 3339 date-time
};

typed_value type_value(const std::string& text) {
  typed_value v;
  v.text = text;
  v.number = parse_filter_number(text);
  if (text == "true" || text == "false")
    v.boolean = text == "true" ? 1 : 0;
  v.null = text == "null";
  v.when = parse_instant(text);
  return v;
}

/// Compares a document value with a filter value: <0, 0 or >0, or nothing
/// when they cannot be compared (an object, a non-numeric value for a
/// number, ...). The document value's type decides.
std::optional<int> compare(const json& value, const typed_value& v) {
  switch (value.type()) {
    case json::value_t::string: {
      const auto& text = value.get_ref<const std::string&>();
      if (v.when)
        if (auto when = parse_instant(text))
          return sign_of(compare_instants(*when, *v.when));
      return sign_of(text.compare(v.text));
    }
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      if (v.number)
        return three_way(number_of(value), *v.number);
      return std::nullopt;
    case json::value_t::boolean:
      if (v.boolean >= 0)
        return three_way(value.get<bool>(), v.boolean == 1);
      return std::nullopt;
    case json::value_t::null:
      if (v.null)
        return 0;
      return std::nullopt;
    default:
      return std::nullopt;
  }
}

// -- regular expressions --------------------------------------------------------

RE2::Options regex_options() {
  RE2::Options opts;
  opts.set_log_errors(false);
  opts.set_max_mem(static_cast<int64_t>(max_regex_memory));
  return opts;
}

/// Searches the value's text: `^` and `$` anchor where the client wants.
bool regex_matches(const json& value, const RE2& re) {
  if (value.is_string())
    return RE2::PartialMatch(value.get_ref<const std::string&>(), re);
  if (value.is_number() || value.is_boolean())
    return RE2::PartialMatch(value.dump(), re);
  return false;
}

bool holds(filter_op op, const json& value, const typed_value& v) {
  auto c = compare(value, v);
  if (!c)
    return false;
  switch (op) {
    case filter_op::eq:
    case filter_op::ne: // callers negate
      return *c == 0;
    case filter_op::gt:
      return *c > 0;
    case filter_op::gte:
      return *c >= 0;
    case filter_op::lt:
      return *c < 0;
    case filter_op::lte:
      return *c <= 0;
    default:
      return false;
  }
}

} // namespace

/// One term ready to evaluate: its typed values, or its compiled patterns.
struct compiled_term {
  std::vector<typed_value> values;
  std::vector<std::unique_ptr<RE2>> patterns;
};

namespace {

bool term_matches(const json& doc, const filter_term& term,
                  const compiled_term& ct) {
  auto any_value = [&](const json& value) {
    if (term.op == filter_op::regex) {
      for (const auto& re : ct.patterns)
        if (regex_matches(value, *re))
          return true;
      return false;
    }
    for (const auto& v : ct.values)
      if (holds(term.op, value, v))
        return true;
    return false;
  };
  bool found = visit(doc, term.path, any_value);
  return term.op == filter_op::ne ? !found : found;
}

// -- sorting ------------------------------------------------------------------

/// The sort rank of a present value; date-time strings before the others.
int rank(const json& value, std::optional<instant>& when) {
  switch (value.type()) {
    case json::value_t::null:
      return 1;
    case json::value_t::boolean:
      return 2;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return 3;
    case json::value_t::string:
      when = parse_instant(value.get_ref<const std::string&>());
      return when ? 4 : 5;
    case json::value_t::array:
      return 6;
    case json::value_t::object:
      return 7;
    default:
      return 8;
  }
}

int compare_values(const json& x, const json& y) {
  std::optional<instant> wx;
  std::optional<instant> wy;
  auto rx = rank(x, wx);
  auto ry = rank(y, wy);
  if (rx != ry)
    return rx < ry ? -1 : 1;
  switch (rx) {
    case 2:
      return three_way(x.get<bool>(), y.get<bool>());
    case 3:
      return three_way(number_of(x), number_of(y));
    case 4:
      return sign_of(compare_instants(*wx, *wy));
    case 5:
      return sign_of(x.get_ref<const std::string&>().compare(
        y.get_ref<const std::string&>()));
    case 6:
    case 7:
      return x == y ? 0 : (x < y ? -1 : 1);
    default:
      return 0; // both null
  }
}

const char* op_name(filter_op op) {
  switch (op) {
    case filter_op::eq:
      return "eq";
    case filter_op::ne:
      return "ne";
    case filter_op::gt:
      return "gt";
    case filter_op::gte:
      return "gte";
    case filter_op::lt:
      return "lt";
    case filter_op::lte:
      return "lte";
    case filter_op::regex:
      return "regex";
  }
  return "?";
}

} // namespace

std::optional<long double> parse_filter_number(std::string_view text) {
  // Integers up to 64 bits are exact: long double has a 64-bit mantissa
  // on x86.
  const char* first = text.data();
  const char* last = first + text.size();
  if (first == last)
    return std::nullopt;
  if (*first == '+')
    ++first;
  int64_t i64;
  if (auto [ptr, ec] = std::from_chars(first, last, i64);
      ec == std::errc{} && ptr == last)
    return static_cast<long double>(i64);
  uint64_t u64;
  if (auto [ptr, ec] = std::from_chars(first, last, u64);
      ec == std::errc{} && ptr == last)
    return static_cast<long double>(u64);
  double d;
  if (auto [ptr, ec] = std::from_chars(first, last, d);
      ec == std::errc{} && ptr == last && std::isfinite(d))
    return static_cast<long double>(d);
  return std::nullopt;
}

// -- text prefilter ---------------------------------------------------------------

text_prefilter::text_prefilter(const std::vector<filter_term>& filters) {
  for (const auto& term : filters) {
    if (term.op != filter_op::eq || term.values.empty())
      continue;
    std::vector<std::string> tokens;
    bool string_only = true;
    for (const auto& value : term.values) {
      // A date-time matches the same instant spelt another way.
      if (parse_filter_number(value) || value == "true" || value == "false"
          || value == "null" || parse_instant(value)) {
        string_only = false;
        break;
      }
      tokens.emplace_back(
        json(value).dump(-1, ' ', false, json::error_handler_t::replace));
    }
    if (string_only)
      tokens_.emplace_back(std::move(tokens));
  }
}

bool text_prefilter::may_match(std::string_view text) const noexcept {
  // memmem's pointers must not be null, which an empty view's may be; no
  // token (a quoted string) fits in an empty text anyway.
  if (text.empty())
    return tokens_.empty();
  for (const auto& tokens : tokens_) {
    bool found = false;
    for (const auto& token : tokens) {
      if (memmem(text.data(), text.size(), token.data(), token.size())) {
        found = true;
        break;
      }
    }
    if (!found)
      return false;
  }
  return true;
}

// -- compiled filters --------------------------------------------------------------

/// One entry per term.
struct compiled_filters::compiled {
  std::vector<compiled_term> per_term;
};

compiled_filters::compiled_filters(std::vector<filter_term> filters)
  : terms_(std::move(filters)), compiled_(std::make_unique<compiled>()) {
  static const RE2::Options opts = regex_options();
  compiled_->per_term.resize(terms_.size());
  for (size_t i = 0; i < terms_.size() && error_.empty(); ++i) {
    auto& ct = compiled_->per_term[i];
    if (terms_[i].op != filter_op::regex) {
      for (const auto& value : terms_[i].values)
        ct.values.push_back(type_value(value));
      continue;
    }
    for (const auto& pattern : terms_[i].values) {
      auto re = std::make_unique<RE2>(pattern, opts);
      if (!re->ok()) {
        json shown = pattern;
        error_ = parameter_name(terms_[i])
                 + ": invalid regular expression "
                 + shown.dump(-1, ' ', false, json::error_handler_t::replace)
                 + ": " + re->error();
        break;
      }
      ct.patterns.push_back(std::move(re));
    }
  }
}

compiled_filters::~compiled_filters() {
  // nop
}

compiled_filters::compiled_filters(compiled_filters&&) noexcept = default;

compiled_filters&
compiled_filters::operator=(compiled_filters&&) noexcept = default;

bool compiled_filters::matches(const json& doc) const {
  if (!ok())
    return false;
  try {
    for (size_t i = 0; i < terms_.size(); ++i)
      if (!term_matches(doc, terms_[i], compiled_->per_term[i]))
        return false;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

bool matches(const json& doc, const std::vector<filter_term>& filters) {
  return compiled_filters{filters}.matches(doc);
}

bool sort_before(const json& a, const json& b,
                 const std::vector<sort_key>& keys) {
  try {
    for (const auto& key : keys) {
      auto x = first_value(a, key.path);
      auto y = first_value(b, key.path);
      if (x == nullptr || y == nullptr) {
        if (x == y)
          continue; // both missing
        return y == nullptr; // missing values last, either direction
      }
      auto c = compare_values(*x, *y);
      if (c != 0)
        return key.descending ? c > 0 : c < 0;
    }
    auto id = [](const json& doc) -> const json* {
      if (!doc.is_object())
        return nullptr;
      auto i = doc.find("id");
      return i != doc.end() ? &*i : nullptr;
    };
    auto x = id(a);
    auto y = id(b);
    if (x == nullptr || y == nullptr)
      return x != nullptr && y == nullptr;
    return compare_values(*x, *y) < 0;
  } catch (const std::exception&) {
    return false;
  }
}

sort_values extract_sort_values(const json& doc,
                                const std::vector<sort_key>& keys) {
  sort_values out;
  out.values.reserve(keys.size());
  for (const auto& key : keys) {
    const json* value = nullptr;
    try {
      value = first_value(doc, key.path);
    } catch (const std::exception&) {
      value = nullptr;
    }
    out.present.push_back(value != nullptr ? 1 : 0);
    out.values.push_back(value != nullptr ? *value : json{});
  }
  if (doc.is_object())
    if (auto i = doc.find("id"); i != doc.end() && i->is_string())
      out.id = i->get<std::string>();
  return out;
}

bool sort_values_before(const sort_values& a, const sort_values& b,
                        const std::vector<sort_key>& keys) {
  try {
    for (size_t i = 0; i < keys.size(); ++i) {
      if (!a.present[i] || !b.present[i]) {
        if (a.present[i] == b.present[i])
          continue;
        return a.present[i] != 0; // missing values last
      }
      auto c = compare_values(a.values[i], b.values[i]);
      if (c != 0)
        return keys[i].descending ? c > 0 : c < 0;
    }
    return a.id < b.id;
  } catch (const std::exception&) {
    return false;
  }
}

std::string parameter_name(const filter_term& term) {
  return term.op == filter_op::eq ? term.path
                                  : term.path + "." + op_name(term.op);
}

std::string check_term(const filter_term& term) {
  if (term.path.empty())
    return "filter: the attribute path is empty";
  std::string_view path = term.path;
  if (path.front() == '.' || path.back() == '.'
      || path.find("..") != std::string_view::npos
      || path.find_first_of("<>") != std::string_view::npos)
    return term.path + ": invalid attribute path";
  if (term.values.empty())
    return parameter_name(term) + ": no filter value";
  return {};
}

} // namespace tmf::domain
