#include "http/paging.hpp"

#include <algorithm>
#include <cctype>

#include "domain/query_string.hpp"

namespace tmf::http {

namespace {

/// True for characters a URI may hold as they are (RFC 3986 unreserved,
/// sub-delims, `:`, `@`, `/`, `?` and the `%` of an escape).
bool uri_char(unsigned char c) {
  if (std::isalnum(c))
    return true;
  constexpr std::string_view allowed = "-._~!$&'()*+,;=:@/?%";
  return allowed.find(static_cast<char>(c)) != std::string_view::npos;
}

void append_escaped(std::string& out, std::string_view text) {
  constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : text) {
    if (uri_char(c)) {
      out += static_cast<char>(c);
      continue;
    }
    out += '%';
    out += hex[c >> 4];
    out += hex[c & 0xF];
  }
}

/// True when the raw pair names a paging parameter.
bool is_paging(std::string_view pair) {
  domain::query_params params;
  std::string error;
  if (!domain::split_query(pair, params, error) || params.size() != 1)
    return false;
  const auto& name = params.front().name;
  return params.front().symbol.empty()
         && (name == "offset" || name == "limit" || name == "cursor");
}

/// The other parameters of `raw_query`, as sent, each followed by `&`.
std::string kept_parameters(std::string_view raw_query) {
  std::string out;
  while (!raw_query.empty()) {
    auto amp = raw_query.find('&');
    auto pair = raw_query.substr(0, amp);
    raw_query = amp == std::string_view::npos ? std::string_view{}
                                              : raw_query.substr(amp + 1);
    if (pair.empty() || is_paging(pair))
      continue;
    append_escaped(out, pair);
    out += '&';
  }
  return out;
}

} // namespace

std::string link_header(std::string_view list_url, std::string_view raw_query,
                        const page_position& pos) {
  auto prefix = std::string{list_url} + '?' + kept_parameters(raw_query);
  std::string out;
  auto link = [&](uint64_t offset, uint64_t limit, const char* rel,
                  const std::string& cursor = {}) {
    if (!out.empty())
      out += ", ";
    out += '<' + prefix + "offset=" + std::to_string(offset)
           + "&limit=" + std::to_string(limit);
    if (!cursor.empty())
      out += "&cursor=" + cursor;
    out += ">; rel=\"";
    out += rel;
    out += '"';
  };
  link(pos.offset, pos.limit, "self");
  link(0, pos.limit, "first");
  if (pos.limit == 0)
    return out;
  if (pos.offset > 0) {
    // The items before this page, at most `limit` of them.
    auto before = std::min(pos.offset, pos.limit);
    link(pos.offset - before, before, "prev");
  }
  auto end = pos.offset + pos.count;
  if (pos.count > 0 && end < pos.total)
    link(end, pos.limit, "next", pos.next_cursor);
  auto last = pos.total == 0 ? 0 : (pos.total - 1) / pos.limit * pos.limit;
  link(last, pos.limit, "last");
  return out;
}

} // namespace tmf::http
