#include "domain/json_body.hpp"

#include <cstring>

#include <nlohmann/json.hpp>

namespace tmf::domain {

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

} // namespace tmf::domain
