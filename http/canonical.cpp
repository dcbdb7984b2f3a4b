#include "http/canonical.hpp"

#include <cstring>

#include <nlohmann/json.hpp>

namespace tmf::http {

namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/// Members of every object in `doc`, nested ones included.
size_t member_count(const nlohmann::json& doc) {
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

} // namespace

std::string canonical_text(std::string_view raw, const nlohmann::json& parsed) {
  // Escapes (\u00e9, \/, ...) have several spellings: only nlohmann's own
  // is safe for byte-level matching (list prefilters), so dump those.
  if (std::memchr(raw.data(), '\\', raw.size()) != nullptr)
    return parsed.dump();
  std::string out;
  out.reserve(raw.size());
  size_t keys = 0;
  bool in_string = false;
  size_t string_end = std::string::npos; // position in `out`
  for (auto c : raw) {
    if (in_string) {
      out += c;
      if (c == '"') {
        in_string = false;
        string_end = out.size();
      }
      continue;
    }
    if (is_space(c))
      continue;
    if (c == ':' && string_end == out.size())
      ++keys; // a string directly followed by ':' is a key
    if (c == '"')
      in_string = true;
    out += c;
  }
  // Duplicate keys collapse when parsed: then the raw text says more.
  if (keys != member_count(parsed))
    return parsed.dump();
  return out;
}

} // namespace tmf::http
