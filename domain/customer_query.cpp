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

/// Parses a filter value as a number (JSON-like grammar, no spaces). Integers
/// up to 64 bits are exact: long double has a 64-bit mantissa on x86.
std::optional<long double> parse_number(const std::string& text) {
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

/// Compares a document value with a filter value: <0, 0 or >0, or nothing
/// when they cannot be compared (an object, a non-numeric value for a number,
/// ...).
std::optional<int> compare(const json& value, const std::string& text) {
  switch (value.type()) {
    case json::value_t::string:
      return three_way(value.get_ref<const std::string&>(), text);
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      if (auto x = parse_number(text))
        return three_way(number_of(value), *x);
      return std::nullopt;
    case json::value_t::boolean:
      if (text == "true" || text == "false")
        return three_way(value.get<bool>(), text == "true");
      return std::nullopt;
    case json::value_t::null:
      if (text == "null")
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

bool regex_matches(const json& value, const RE2& re) {
  if (value.is_string())
    return RE2::FullMatch(value.get_ref<const std::string&>(), re);
  if (value.is_number() || value.is_boolean())
    return RE2::FullMatch(value.dump(), re);
  return false;
}

bool holds(filter_op op, const json& value, const std::string& text) {
  auto c = compare(value, text);
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

/// `patterns`: the compiled values of a regex term, else empty.
bool term_matches(const json& doc, const filter_term& term,
                  const std::vector<std::unique_ptr<RE2>>& patterns) {
  auto any_value = [&](const json& value) {
    if (term.op == filter_op::regex) {
      for (const auto& re : patterns)
        if (regex_matches(value, *re))
          return true;
      return false;
    }
    for (const auto& text : term.values)
      if (holds(term.op, value, text))
        return true;
    return false;
  };
  bool found = visit(doc, term.path, any_value);
  return term.op == filter_op::ne ? !found : found;
}
// -- sorting ------------------------------------------------------------------

int rank(const json* value) {
  if (value == nullptr)
    return 0;
  switch (value->type()) {
    case json::value_t::null:
      return 1;
    case json::value_t::boolean:
      return 2;
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return 3;
    case json::value_t::string:
      return 4;
    case json::value_t::array:
      return 5;
    case json::value_t::object:
      return 6;
    default:
      return 7;
  }
}

int compare_values(const json* x, const json* y) {
  auto rx = rank(x);
  auto ry = rank(y);
  if (rx != ry)
    return rx < ry ? -1 : 1;
  switch (rx) {
    case 2:
      return three_way(x->get<bool>(), y->get<bool>());
    case 3:
      return three_way(number_of(*x), number_of(*y));
    case 4:
      return three_way(x->get_ref<const std::string&>(),
                       y->get_ref<const std::string&>());
    case 5:
    case 6:
      return *x == *y ? 0 : (*x < *y ? -1 : 1);
    default:
      return 0; // both missing, both null
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

// -- text prefilter ---------------------------------------------------------------

text_prefilter::text_prefilter(const std::vector<filter_term>& filters) {
  for (const auto& term : filters) {
    if (term.op != filter_op::eq || term.values.empty())
      continue;
    std::vector<std::string> tokens;
    bool string_only = true;
    for (const auto& value : term.values) {
      if (parse_number(value) || value == "true" || value == "false"
          || value == "null") {
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

/// One entry per term: the compiled patterns of a regex term, else empty.
struct compiled_filters::regexes {
  std::vector<std::vector<std::unique_ptr<RE2>>> per_term;
};

compiled_filters::compiled_filters(std::vector<filter_term> filters)
  : terms_(std::move(filters)), regexes_(std::make_unique<regexes>()) {
  static const RE2::Options opts = regex_options();
  regexes_->per_term.resize(terms_.size());
  for (size_t i = 0; i < terms_.size() && error_.empty(); ++i) {
    if (terms_[i].op != filter_op::regex)
      continue;
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
      regexes_->per_term[i].push_back(std::move(re));
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
      if (!term_matches(doc, terms_[i], regexes_->per_term[i]))
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
      auto c = compare_values(first_value(a, key.path),
                              first_value(b, key.path));
      if (c != 0)
        return key.descending ? c > 0 : c < 0;
    }
    auto id = [](const json& doc) -> const json* {
      if (!doc.is_object())
        return nullptr;
      auto i = doc.find("id");
      return i != doc.end() ? &*i : nullptr;
    };
    return compare_values(id(a), id(b)) < 0;
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
      || path.find("..") != std::string_view::npos)
    return term.path + ": invalid attribute path";
  if (term.values.empty())
    return parameter_name(term) + ": no filter value";
  return {};
}

} // namespace tmf::domain
