#include "domain/etag.hpp"

namespace tmf::domain {

namespace {

/// Calls `f(tag, weak, false)` for every entity tag of a list header,
/// `f({}, false, true)` for a star; false when the header is malformed.
template <class F>
bool each_tag(std::string_view header, F f) {
  size_t pos = 0;
  bool any = false;
  auto skip = [&] {
    while (pos < header.size()
           && (header[pos] == ' ' || header[pos] == '\t' || header[pos] == ','))
      ++pos;
  };
  for (skip(); pos < header.size(); skip()) {
    any = true;
    if (header[pos] == '*') {
      f(std::string_view{}, false, true);
      ++pos;
      continue;
    }
    bool weak = header.substr(pos, 2) == "W/";
    if (weak)
      pos += 2;
    if (pos >= header.size() || header[pos] != '"')
      return false;
    auto close = header.find('"', pos + 1);
    if (close == std::string_view::npos)
      return false;
    f(header.substr(pos + 1, close - pos - 1), weak, false);
    pos = close + 1;
  }
  return any;
}

} // namespace

std::string etag_of(uint64_t version) {
  return '"' + std::to_string(version) + '"';
}

bool if_match(std::string_view header, uint64_t version) {
  auto current = std::to_string(version);
  bool found = false;
  auto ok = each_tag(header, [&](std::string_view tag, bool weak, bool star) {
    if (star || (!weak && tag == current))
      found = true;
  });
  return ok && found;
}

bool if_none_match(std::string_view header, uint64_t version) {
  auto current = std::to_string(version);
  bool found = false;
  auto ok = each_tag(header, [&](std::string_view tag, bool, bool star) {
    if (star || tag == current)
      found = true;
  });
  return ok && found;
}

} // namespace tmf::domain
