#include "http/paging.hpp"

#include <map>
#include <string>

#include <catch2/catch.hpp>

using tmf::http::link_header;
using tmf::http::page_position;

namespace {

const std::string url = "http://h:1/api/customer";

page_position at(uint64_t offset, uint64_t limit, uint64_t total,
                 uint64_t count) {
  page_position pos;
  pos.offset = offset;
  pos.limit = limit;
  pos.total = total;
  pos.count = count;
  return pos;
}

/// rel -> target of every link in `header`.
std::map<std::string, std::string> links(const std::string& header) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while ((pos = header.find('<', pos)) != std::string::npos) {
    auto close = header.find('>', pos);
    auto rel = header.find("rel=\"", close) + 5;
    auto end = header.find('"', rel);
    out[header.substr(rel, end - rel)] = header.substr(pos + 1,
                                                       close - pos - 1);
    pos = end;
  }
  return out;
}

} // namespace

TEST_CASE("a middle page links self, first, prev, next and last") {
  auto l = links(link_header(url, "name=x&offset=20&limit=10",
                             at(20, 10, 95, 10)));
  CHECK(l.size() == 5);
  CHECK(l["self"] == url + "?name=x&offset=20&limit=10");
  CHECK(l["first"] == url + "?name=x&offset=0&limit=10");
  CHECK(l["prev"] == url + "?name=x&offset=10&limit=10");
  CHECK(l["next"] == url + "?name=x&offset=30&limit=10");
  CHECK(l["last"] == url + "?name=x&offset=90&limit=10");
}

TEST_CASE("the first and the last page have no prev and no next") {
  auto first = links(link_header(url, "", at(0, 10, 25, 10)));
  CHECK(first.count("prev") == 0);
  CHECK(first["next"] == url + "?offset=10&limit=10");
  CHECK(first["last"] == url + "?offset=20&limit=10");
  auto last = links(link_header(url, "", at(20, 10, 25, 5)));
  CHECK(last.count("next") == 0);
  CHECK(last["prev"] == url + "?offset=10&limit=10");
  auto empty = links(link_header(url, "", at(0, 10, 0, 0)));
  CHECK(empty["last"] == url + "?offset=0&limit=10");
  CHECK(empty.count("next") == 0);
}

TEST_CASE("prev never overlaps the current page") {
  auto l = links(link_header(url, "", at(3, 10, 50, 10)));
  CHECK(l["prev"] == url + "?offset=0&limit=3");
}

TEST_CASE("links keep other parameters as sent and escape what a URI "
          "cannot hold") {
  auto l = links(link_header(
    url, "sort=-name&limit=5&name=Smith%2C%20J&cursor=abc&score>=5&x<3&"
         "offset=5&fields=name",
    at(5, 5, 20, 5)));
  CHECK(l["self"]
        == url + "?sort=-name&name=Smith%2C%20J&score%3E=5&x%3C3&"
                 "fields=name&offset=5&limit=5");
  auto with_cursor = page_position{at(5, 5, 20, 5)};
  with_cursor.next_cursor = "Zm9v";
  auto n = links(link_header(url, "cursor=old&offset=5&limit=5",
                             with_cursor));
  CHECK(n["next"] == url + "?offset=10&limit=5&cursor=Zm9v");
  CHECK(n["self"] == url + "?offset=5&limit=5");
}

TEST_CASE("limit=0 links only self and first") {
  auto l = links(link_header(url, "limit=0", at(0, 0, 7, 0)));
  CHECK(l.size() == 2);
  CHECK(l["first"] == url + "?offset=0&limit=0");
}
