#include "domain/customer_index.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "domain/customer_rules.hpp"
#include "domain/date_time.hpp"
#include "domain/json_body.hpp"

namespace tmf::domain {

namespace {

using json = nlohmann::json;

/// Appends `bytes` with NUL as 01 01 and 0x01 as 01 02: order-preserving,
/// and no NUL is left.
void append_escaped(std::string& out, std::string_view bytes) {
  for (char c : bytes) {
    if (c == '\0' || c == '\x01') {
      out += '\x01';
      out += static_cast<char>(c + 1);
    } else {
      out += c;
    }
  }
}

/// Cuts a key to `max_index_value` bytes, never inside an escape pair.
void cut(std::string& key) {
  if (key.size() <= max_index_value)
    return;
  key.resize(max_index_value);
  // An escape pair starts with 0x01; count the 0x01 bytes before the end:
  // an odd run means the last pair is split.
  size_t run = 0;
  while (run < key.size() && key[key.size() - 1 - run] == '\x01')
    ++run;
  if (run % 2 == 1)
    key.pop_back();
}

void put_u64(std::string& out, uint64_t bits) {
  for (int i = 7; i >= 0; --i)
    out += static_cast<char>((bits >> (8 * i)) & 0xFF);
}

/// 16 bytes whose order is the numeric order: the value as a double
/// (sign-adjusted bits), then what an integer differs from that double.
std::string number_bytes(double d, __int128 correction) {
  if (d == 0)
    d = 0; // -0 sorts as 0
  uint64_t bits;
  std::memcpy(&bits, &d, sizeof bits);
  bits = (bits >> 63) != 0 ? ~bits : bits ^ (uint64_t{1} << 63);
  std::string out;
  put_u64(out, bits);
  put_u64(out, static_cast<uint64_t>(static_cast<int64_t>(correction))
                 ^ (uint64_t{1} << 63));
  return out;
}

std::string integer_bytes(__int128 x) {
  auto d = static_cast<double>(x);
  return number_bytes(d, x - static_cast<__int128>(d));
}

std::string tagged(index_tag tag, std::string_view bytes) {
  std::string key(1, static_cast<char>(tag));
  append_escaped(key, bytes);
  cut(key);
  return key;
}

std::string string_key(const std::string& text) {
  if (auto when = parse_instant(text))
    return tagged(index_tag::date_time, instant_key(*when));
  return tagged(index_tag::string, text);
}

/// Calls `f` on every scalar value at the dotted `path` below `node`,
/// descending into arrays (like the filters do).
template <class F>
void each_value(const json& node, std::string_view path, F& f) {
  if (node.is_array()) {
    for (const auto& element : node)
      each_value(element, path, f);
    return;
  }
  if (path.empty()) {
    f(node);
    return;
  }
  if (!node.is_object())
    return;
  auto dot = path.find('.');
  auto i = node.find(path.substr(0, dot));
  if (i != node.end())
    each_value(*i, dot == std::string_view::npos ? std::string_view{}
                                                 : path.substr(dot + 1),
               f);
}

bool is_scalar(attribute_type t) {
  return t == attribute_type::string || t == attribute_type::date_time
         || t == attribute_type::integer || t == attribute_type::number
         || t == attribute_type::boolean;
}

} // namespace

const std::vector<std::string>& builtin_index_paths() {
  static const std::vector<std::string> paths{
    "name", "status", "engagedParty.id", "validFor.startDateTime"};
  return paths;
}

std::optional<std::string> check_index_path(std::string_view path) {
  if (path.empty() || path.size() > max_index_path)
    return "an index path has 1 to " + std::to_string(max_index_path)
           + " characters";
  if (path == "id" || path == "href")
    return std::string{path} + " is the primary key; it needs no index";
  if (path.front() == '.' || path.back() == '.'
      || path.find("..") != std::string_view::npos)
    return "\"" + std::string{path} + "\" is not an attribute path";
  for (unsigned char c : path)
    if (c <= 0x20 || c == 0x7F || c == ',' || c == '<' || c == '>')
      return "\"" + std::string{path} + "\" is not an attribute path";
  if (customer_attribute(path).type == attribute_type::invalid)
    return std::string{path}
           + ": a string, number or boolean attribute has no members";
  return std::nullopt;
}

std::string index_spec::prefix() const {
  std::string out = path;
  out += '\0';
  out += std::to_string(generation);
  out += '\0';
  return out;
}

bool index_spec::sortable() const noexcept {
  return !info.multi && is_scalar(info.type);
}

std::optional<std::string> index_value_key(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return tagged(index_tag::null, {});
    case json::value_t::boolean:
      return tagged(index_tag::boolean, value.get<bool>() ? "1" : "0");
    case json::value_t::number_integer:
      return tagged(index_tag::number, integer_bytes(value.get<int64_t>()));
    case json::value_t::number_unsigned:
      return tagged(index_tag::number, integer_bytes(value.get<uint64_t>()));
    case json::value_t::number_float:
      return tagged(index_tag::number, number_bytes(value.get<double>(), 0));
    case json::value_t::string:
      return string_key(value.get_ref<const std::string&>());
    default:
      return std::nullopt;
  }
}

std::optional<std::string> index_value_key(std::string_view text,
                                           index_tag tag) {
  switch (tag) {
    case index_tag::null:
      if (text == "null")
        return tagged(tag, {});
      return std::nullopt;
    case index_tag::boolean:
      if (text == "true" || text == "false")
        return tagged(tag, text == "true" ? "1" : "0");
      return std::nullopt;
    case index_tag::number: {
      auto first = text.data();
      auto last = first + text.size();
      if (first != last && *first == '+')
        ++first;
      int64_t i;
      if (auto [p, ec] = std::from_chars(first, last, i);
          ec == std::errc{} && p == last && first != last)
        return tagged(tag, integer_bytes(i));
      uint64_t u;
      if (auto [p, ec] = std::from_chars(first, last, u);
          ec == std::errc{} && p == last && first != last)
        return tagged(tag, integer_bytes(u));
      double d;
      if (auto [p, ec] = std::from_chars(first, last, d);
          ec == std::errc{} && p == last && first != last && std::isfinite(d))
        return tagged(tag, number_bytes(d, 0));
      return std::nullopt;
    }
    case index_tag::date_time:
      if (auto when = parse_instant(text))
        return tagged(tag, instant_key(*when));
      return std::nullopt;
    case index_tag::string:
      return tagged(tag, text);
    case index_tag::absent:
      return std::nullopt; // no filter value stands for "no value"
  }
  return std::nullopt;
}

index_layout::index_layout(std::vector<index_spec> specs)
  : specs_(std::move(specs)) {
  // nop
}

const index_spec* index_layout::find(std::string_view path) const noexcept {
  for (const auto& spec : specs_)
    if (spec.path == path)
      return &spec;
  return nullptr;
}

std::vector<std::string> index_layout::terms(const index_spec& spec,
                                             const json& doc) {
  std::vector<std::string> out;
  auto prefix = spec.prefix();
  auto add = [&](const json& value) {
    if (auto key = index_value_key(value))
      out.push_back(prefix + *key);
  };
  try {
    each_value(doc, spec.path, add);
  } catch (const std::exception&) {
    out.clear();
  }
  if (out.empty())
    out.push_back(prefix + static_cast<char>(index_tag::absent));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> index_layout::terms(const json& doc) const {
  std::vector<std::string> out;
  for (const auto& spec : specs_) {
    auto more = terms(spec, doc);
    out.insert(out.end(), more.begin(), more.end());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string>
index_layout::terms_of_text(std::string_view text) const {
  json doc;
  std::string error;
  if (parse_json(text, max_stored_depth, doc, error))
    return terms(doc);
  // Too deep (or broken) to parse: the string members at the top level
  // can still be read, so that such a customer's entries can be found.
  std::vector<std::string_view> names;
  std::vector<const index_spec*> specs;
  for (const auto& spec : specs_)
    if (spec.path.find('.') == std::string::npos) {
      names.push_back(spec.path);
      specs.push_back(&spec);
    }
  std::vector<member_info> members;
  std::vector<std::string> out;
  if (!scan_object(text, std::numeric_limits<size_t>::max(), names, members,
                   error))
    return out;
  for (size_t i = 0; i < names.size(); ++i)
    if (members[i].string)
      out.push_back(specs[i]->prefix() + string_key(*members[i].string));
    else if (!members[i].present)
      out.push_back(specs[i]->prefix()
                    + static_cast<char>(index_tag::absent));
  std::sort(out.begin(), out.end());
  return out;
}

std::string index_key(std::string_view term, std::string_view id) {
  std::string key;
  key.reserve(term.size() + 1 + id.size());
  key += term;
  key += '\0';
  key += id;
  return key;
}

std::vector<std::string> index_keys(std::vector<std::string> terms,
                                    std::string_view id) {
  for (auto& term : terms) {
    term += '\0';
    term += id;
  }
  return terms;
}

std::string_view index_key_term(std::string_view key) noexcept {
  auto nul = key.rfind('\0');
  return nul == std::string_view::npos ? key : key.substr(0, nul);
}

std::string_view index_key_id(std::string_view key) noexcept {
  auto nul = key.rfind('\0');
  return nul == std::string_view::npos ? std::string_view{}
                                       : key.substr(nul + 1);
}

std::string prefix_end(std::string_view prefix) {
  std::string out{prefix};
  while (!out.empty()) {
    auto& last = out.back();
    if (static_cast<unsigned char>(last) != 0xFF) {
      last = static_cast<char>(static_cast<unsigned char>(last) + 1);
      return out;
    }
    out.pop_back();
  }
  return out;
}

std::string index_marker_key(std::string_view path) {
  return std::string{index_marker_prefix} + std::string{path};
}

std::string render_marker(const index_marker& m) {
  return std::string{m.ready ? "ready " : "building "}
         + std::to_string(m.layout) + " " + std::to_string(m.generation);
}

std::optional<index_marker> parse_marker(std::string_view text) {
  index_marker m;
  auto space = text.find(' ');
  auto state = text.substr(0, space);
  if (state != "ready" && state != "building")
    return std::nullopt;
  m.ready = state == "ready";
  if (space == std::string_view::npos)
    return std::nullopt;
  auto rest = text.substr(space + 1);
  auto second = rest.find(' ');
  if (second == std::string_view::npos)
    return std::nullopt;
  auto layout = rest.substr(0, second);
  auto gen = rest.substr(second + 1);
  if (std::from_chars(layout.data(), layout.data() + layout.size(), m.layout)
        .ec
      != std::errc{})
    return std::nullopt;
  if (std::from_chars(gen.data(), gen.data() + gen.size(), m.generation).ec
      != std::errc{})
    return std::nullopt;
  return m;
}

} // namespace tmf::domain
