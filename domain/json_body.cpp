#include "domain/json_body.hpp"

#include <cstring>

#include <nlohmann/json.hpp>

namespace tmf::domain {

namespace {

using json = nlohmann::json;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// nlohmann's exception text without its `[json.exception...] ` prefix.
std::string short_what(const std::exception& ex) {
  std::string what = ex.what();
  if (auto pos = what.find("] "); what.front() == '[' && pos != what.npos)
    what.erase(0, pos + 2);
  return what;
}

/// Builds the document like nlohmann's own DOM parser, refusing to nest
/// deeper than `max_depth` and recording the first error instead of
/// throwing.
class bounded_dom : public nlohmann::detail::json_sax_dom_parser<json> {
public:
  using base = nlohmann::detail::json_sax_dom_parser<json>;

  bounded_dom(json& root, size_t max_depth)
    : base(root, false), max_depth_(max_depth) {
    // nop
  }

  bool start_object(size_t len) {
    return enter() && base::start_object(len);
  }

  bool end_object() {
    --depth_;
    return base::end_object();
  }

  bool start_array(size_t len) {
    return enter() && base::start_array(len);
  }

  bool end_array() {
    --depth_;
    return base::end_array();
  }

  template <class Exception>
  bool parse_error(size_t, const std::string&, const Exception& ex) {
    error = "is not valid JSON: " + short_what(ex);
    return false;
  }

  std::string error;

private:
  bool enter() {
    if (++depth_ <= max_depth_)
      return true;
    error = "nests deeper than " + std::to_string(max_depth_)
            + " levels of arrays and objects";
    return false;
  }

  size_t max_depth_;
  size_t depth_ = 0;
};

/// Members of every object in `doc`, nested ones included (`doc` was parsed
/// by `parse_json`, so the recursion is bounded).
size_t member_count(const json& doc) {
  size_t n = 0;
  if (doc.is_object()) {
    n += doc.size();
    for (const auto& kvp : doc.items())
      n += member_count(kvp.value());
  } else if (doc.is_array()) {
    for (const auto& x : doc)
      n += member_count(x);
  }
  return n;
}

/// Validates a text as one bounded JSON object and records chosen
/// top-level members; keeps nothing else.
class object_scanner : public nlohmann::json_sax<json> {
public:
  object_scanner(size_t max_depth, const std::vector<std::string_view>& names,
                 std::vector<member_info>& out)
    : max_depth_(max_depth), names_(names), out_(out) {
    out_.assign(names_.size(), member_info{});
  }

  bool null() override {
    return value();
  }
  bool boolean(bool) override {
    return value();
  }
  bool number_integer(number_integer_t) override {
    return value();
  }
  bool number_unsigned(number_unsigned_t) override {
    return value();
  }
  bool number_float(number_float_t, const string_t&) override {
    return value();
  }
  bool binary(binary_t&) override {
    return value();
  }
  bool string(string_t& val) override {
    if (depth_ == 1 && wanted_ < names_.size())
      out_[wanted_].string = std::move(val);
    return value();
  }
  bool start_object(size_t) override {
    if (depth_ == 0)
      object = true;
    return enter();
  }
  bool key(string_t& val) override {
    wanted_ = names_.size();
    if (depth_ != 1)
      return true;
    for (size_t i = 0; i < names_.size(); ++i) {
      if (names_[i] == val) {
        wanted_ = i;
        out_[i] = member_info{true, std::nullopt};
      }
    }
    return true;
  }
  bool end_object() override {
    --depth_;
    return value();
  }
  bool start_array(size_t) override {
    return enter();
  }
  bool end_array() override {
    --depth_;
    return value();
  }
  bool parse_error(size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error = "is not valid JSON: " + short_what(ex);
    return false;
  }

  bool object = false;
  std::string error;

private:
  bool enter() {
    if (++depth_ <= max_depth_)
      return true;
    error = "nests deeper than " + std::to_string(max_depth_)
            + " levels of arrays and objects";
    return false;
  }

  /// A value ended: the wanted member, if any, has been seen.
  bool value() {
    if (depth_ == 1)
      wanted_ = names_.size();
    return true;
  }

  size_t max_depth_;
  const std::vector<std::string_view>& names_;
  std::vector<member_info>& out_;
  size_t depth_ = 0;
  size_t wanted_ = 0;
};

/// The checks `parse_json` and `scan_object` make before parsing.
bool check_bytes(std::string_view text, std::string& error) {
  constexpr std::string_view bom = "\xEF\xBB\xBF";
  if (text.substr(0, bom.size()) == bom) {
    error = "starts with a byte order mark; send JSON text without one";
    return false;
  }
  // nlohmann's lexer takes a NUL for the end of the input: whatever
  // followed it would be ignored. No JSON text contains a NUL. (find, not
  // memchr: an empty view may hold a null pointer, which memchr must not
  // get.)
  if (auto nul = text.find('\0'); nul != std::string_view::npos) {
    error = "holds a NUL byte at offset " + std::to_string(nul);
    return false;
  }
  return true;
}

} // namespace

bool parse_json(std::string_view text, size_t max_depth, json& out,
                std::string& error) {
  out = nullptr;
  if (!check_bytes(text, error))
    return false;
  json result;
  bounded_dom sax{result, max_depth};
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &sax,
                         json::input_format_t::json, true, false);
  } catch (const std::exception& ex) { // allocation failure
    sax.error = "cannot be parsed: " + short_what(ex);
  }
  if (!ok) {
    error = sax.error.empty() ? "is not valid JSON" : std::move(sax.error);
    return false;
  }
  out = std::move(result);
  return true;
}

std::string canonical_text(std::string_view raw, const json& parsed) {
  // Escapes (\u00e9, \/, ...) have several spellings: only nlohmann's own
  // is safe for byte-level matching (list prefilters), so dump those.
  if (raw.find('\\') != std::string_view::npos)
    return parsed.dump();
  // Without backslashes a string ends at the next quote: copy strings
  // whole, drop white space between tokens, count keys (strings followed
  // by ':').
  std::string out;
  out.reserve(raw.size());
  size_t keys = 0;
  const char* p = raw.data();
  const char* const end = p + raw.size();
  while (p < end) {
    if (*p == '"') {
      auto close = static_cast<const char*>(
        std::memchr(p + 1, '"', static_cast<size_t>(end - p - 1)));
      if (close == nullptr)
        return parsed.dump(); // not what was parsed: never store it
      out.append(p, static_cast<size_t>(close + 1 - p));
      p = close + 1;
      while (p < end && is_space(*p))
        ++p;
      if (p < end && *p == ':')
        ++keys;
      continue;
    }
    const char* run = p;
    while (p < end && *p != '"' && !is_space(*p))
      ++p;
    out.append(run, static_cast<size_t>(p - run));
    while (p < end && is_space(*p))
      ++p;
  }
  // Duplicate keys collapse when parsed: then the raw text says more.
  if (keys != member_count(parsed))
    return parsed.dump();
  return out;
}

bool scan_object(std::string_view text, size_t max_depth,
                 const std::vector<std::string_view>& names,
                 std::vector<member_info>& out, std::string& error) {
  if (!check_bytes(text, error))
    return false;
  object_scanner sax{max_depth, names, out};
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &sax,
                         json::input_format_t::json, true, false);
  } catch (const std::exception& ex) { // allocation failure
    sax.error = "cannot be parsed: " + short_what(ex);
  }
  if (ok && !sax.object) {
    ok = false;
    sax.error = "is not a JSON object";
  }
  if (!ok) {
    error = sax.error.empty() ? "is not valid JSON" : std::move(sax.error);
    out.assign(names.size(), member_info{});
    return false;
  }
  return true;
}

} // namespace tmf::domain
