#pragma once

// The paging headers of a list answer: the status (200 or 206) and the
// RFC 8288 `Link` header with `self`, `first`, `prev`, `next` and `last`.

#include <cstdint>
#include <string>
#include <string_view>

namespace tmf::http {

/// Where a list page lies in its result.
struct page_position {
  uint64_t offset = 0;
  uint64_t limit = 0;
  uint64_t total = 0;  ///< matches after filtering
  uint64_t count = 0;  ///< items in this page
  /// Where the page after this one starts (a continuation token for the
  /// `cursor` parameter), empty when the query has none.
  std::string next_cursor;
};

/// The `Link` header of a page of the list at `list_url` (absolute, no
/// query) asked for with the raw query string `raw_query`: each link
/// keeps every parameter except `offset`, `limit` and `cursor` as sent
/// (characters a URI may not hold percent-encoded), then adds its own
/// `offset` and `limit`; `next` also the `cursor` when the page has one.
/// `prev` and `next` are left out on the first and last page; with
/// `limit=0` only `self` and `first` are given.
std::string link_header(std::string_view list_url, std::string_view raw_query,
                        const page_position& pos);

} // namespace tmf::http
