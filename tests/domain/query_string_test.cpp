#include "domain/query_string.hpp"

#include "domain/customer_rules.hpp"

#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

using tmf::domain::filter_op;
using tmf::domain::list_limits;
using tmf::domain::list_request;
using tmf::domain::parse_list_request;
using tmf::domain::split_query;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;
using tmf::domain::query_params;

/// `params` as name (with its symbol) and value items joined by `|`.
pairs flat(const query_params& params) {
  pairs out;
  for (const auto& p : params) {
    std::string value;
    for (size_t i = 0; i < p.values.size(); ++i)
      value += (i > 0 ? "|" : "") + p.values[i];
    out.emplace_back(p.name + p.symbol, value);
  }
  return out;
}

query_params split_params(std::string_view raw) {
  query_params out;
  std::string error;
  REQUIRE(split_query(raw, out, error));
  CHECK(error.empty());
  return out;
}

pairs split(std::string_view raw) {
  return flat(split_params(raw));
}

std::string split_error(std::string_view raw) {
  query_params out;
  std::string error;
  REQUIRE_FALSE(split_query(raw, out, error));
  return error;
}

list_request parse(std::string_view raw, list_limits limits = {}) {
  list_request out;
  std::string error;
  INFO(raw);
  auto ok = parse_list_request(split_params(raw), limits, out, error,
                               tmf::domain::customer_attribute);
  INFO(error);
  REQUIRE(ok);
  return out;
}

std::string parse_error(std::string_view raw, list_limits limits = {}) {
  list_request out;
  std::string error;
  INFO(raw);
  REQUIRE_FALSE(parse_list_request(split_params(raw), limits, out, error,
                                   tmf::domain::customer_attribute));
  return error;
}

} // namespace

TEST_CASE("split_query decodes names and values") {
  CHECK(split("a=1&b=x%20y") == pairs{{"a", "1"}, {"b", "x y"}});
  CHECK(split("name=Moon%20Football%20Club")
        == pairs{{"name", "Moon Football Club"}});
  CHECK(split("n%41me=%c3%A9") == pairs{{"nAme", "\xc3\xa9"}});
}

TEST_CASE("split_query keeps + literally") {
  CHECK(split("phone=+1+555") == pairs{{"phone", "+1+555"}});
  CHECK(split("v=%2B") == pairs{{"v", "+"}});
}

TEST_CASE("split_query skips empty pairs and allows names without =") {
  CHECK(split("") == pairs{});
  CHECK(split("&&a=1&&") == pairs{{"a", "1"}});
  CHECK(split("flag&b=") == pairs{{"flag", ""}, {"b", ""}});
  CHECK(split("a=b=c") == pairs{{"a", "b=c"}});
}

TEST_CASE("split_query splits values at raw commas before decoding") {
  auto params = split_params("a=x,y%2Cz,&b=%2C");
  REQUIRE(params.size() == 2);
  CHECK(params[0].values == std::vector<std::string>{"x", "y,z", ""});
  CHECK(params[1].values == std::vector<std::string>{","});
  // %26 and %3D are an ampersand and an equals sign inside a value.
  CHECK(split("name=a%26b%3Dc&x=1") == pairs{{"name", "a&b=c"}, {"x", "1"}});
  // Decoded once: %2525 is the text %25, not %.
  CHECK(split("v=%2525") == pairs{{"v", "%25"}});
}

TEST_CASE("split_query reads symbolic operators, also escaped") {
  CHECK(split("creditScore>=500") == pairs{{"creditScore>=", "500"}});
  CHECK(split("creditScore<=500") == pairs{{"creditScore<=", "500"}});
  CHECK(split("creditScore>500") == pairs{{"creditScore>", "500"}});
  CHECK(split("creditScore<500") == pairs{{"creditScore<", "500"}});
  CHECK(split("a%3E=1&b%3c2&c%3e3") == pairs{{"a>=", "1"}, {"b<", "2"},
                                             {"c>", "3"}});
  // Inside a value the characters are data.
  CHECK(split("name=a>b") == pairs{{"name", "a>b"}});
  CHECK(split("name=>b") == pairs{{"name", ">b"}});
  CHECK(split("d>2024-01-01T00:00:00%2B02:00")
        == pairs{{"d>", "2024-01-01T00:00:00+02:00"}});
}

TEST_CASE("split_query rejects malformed escapes") {
  CHECK(split_error("a=%zz").find("%zz") != std::string::npos);
  CHECK_FALSE(split_error("a=%4").empty());
  CHECK_FALSE(split_error("a=%").empty());
  CHECK_FALSE(split_error("%g1=x").empty());
}

TEST_CASE("an empty query gives the defaults, unpaged") {
  auto req = parse("");
  CHECK(req.query.filters.empty());
  CHECK(req.query.sort.empty());
  CHECK(req.fields.empty());
  CHECK(req.query.offset == 0);
  CHECK(req.query.limit == 100);
  CHECK_FALSE(req.paged);
  CHECK(parse("", list_limits{7, 10}).query.limit == 7);
}

TEST_CASE("offset and limit are parsed and mark the request paged") {
  auto req = parse("offset=20&limit=5");
  CHECK(req.query.offset == 20);
  CHECK(req.query.limit == 5);
  CHECK(req.paged);
  auto only_offset = parse("offset=3");
  CHECK(only_offset.paged);
  CHECK(only_offset.query.limit == 100);
  CHECK(parse("limit=0").query.limit == 0);
  CHECK(parse("offset=18446744073709551615").query.offset
        == 18446744073709551615ull);
}

TEST_CASE("offset and limit must be non-negative integers") {
  CHECK(parse_error("limit=-1")
        == R"(limit: expected a non-negative integer, got "-1")");
  CHECK(parse_error("offset=abc")
        == R"(offset: expected a non-negative integer, got "abc")");
  CHECK_FALSE(parse_error("limit=").empty());
  CHECK_FALSE(parse_error("limit=1.5").empty());
  CHECK_FALSE(parse_error("limit=+5").empty());
  CHECK_FALSE(parse_error("limit=%205").empty());
  CHECK_FALSE(parse_error("offset=18446744073709551616").empty());
  CHECK_FALSE(parse_error("limit=1&limit=2").empty());
}

TEST_CASE("a limit above max_limit is an error") {
  CHECK(parse("limit=1000").query.limit == 1000);
  CHECK(parse_error("limit=1001").rfind("limit: ", 0) == 0);
  CHECK(parse("limit=10", list_limits{5, 10}).query.limit == 10);
  CHECK_FALSE(parse_error("limit=11", list_limits{5, 10}).empty());
}

TEST_CASE("fields is a trimmed comma list") {
  auto req = parse("fields=name,%20status%20,,engagedParty.id,");
  CHECK(req.fields
        == std::vector<std::string>{"name", "status", "engagedParty.id"});
  CHECK(parse("fields=").fields.empty());
  CHECK(parse("fields=a&fields=b").fields
        == std::vector<std::string>{"a", "b"});
}

TEST_CASE("sort is a comma list with optional - or + prefixes") {
  auto req = parse("sort=name,-status,+id,,creditProfile.creditScore");
  REQUIRE(req.query.sort.size() == 4);
  CHECK(req.query.sort[0].path == "name");
  CHECK_FALSE(req.query.sort[0].descending);
  CHECK(req.query.sort[1].path == "status");
  CHECK(req.query.sort[1].descending);
  CHECK(req.query.sort[2].path == "id");
  CHECK_FALSE(req.query.sort[2].descending);
  CHECK(req.query.sort[3].path == "creditProfile.creditScore");
  CHECK_FALSE(parse_error("sort=-").empty());
}

// Found by the query fuzz target: white space after the sign stayed in the
// attribute name (" status"), which names no attribute a client can filter
// or select, so the sort silently did nothing.
TEST_CASE("sort names are trimmed after the sign as well") {
  auto req = parse("sort=-%20status,+%09name%20");
  REQUIRE(req.query.sort.size() == 2);
  CHECK(req.query.sort[0].path == "status");
  CHECK(req.query.sort[0].descending);
  CHECK(req.query.sort[1].path == "name");
  CHECK_FALSE(req.query.sort[1].descending);
  CHECK(parse_error("sort=-%20").rfind("sort: ", 0) == 0);
}

TEST_CASE("a plain attribute is an eq filter with the full value") {
  auto req = parse("href=http://127.0.0.1:8080/tmf-api/customerManagement/v4/"
                   "customer/abc-def");
  REQUIRE(req.query.filters.size() == 1);
  CHECK(req.query.filters[0].path == "href");
  CHECK(req.query.filters[0].op == filter_op::eq);
  CHECK(req.query.filters[0].values
        == std::vector<std::string>{
          "http://127.0.0.1:8080/tmf-api/customerManagement/v4/customer/"
          "abc-def"});
  auto named = parse("name=Moon%20Football%20Club");
  REQUIRE(named.query.filters.size() == 1);
  CHECK(named.query.filters[0].values
        == std::vector<std::string>{"Moon Football Club"});
  CHECK_FALSE(named.paged);
}

TEST_CASE("a trailing operator segment becomes the filter operator") {
  auto req = parse("creditProfile.creditScore.gte=700&name.regex=Moon.*&"
                   "status.ne=Rejected&a.gt=1&a.lt=9&b.lte=2&c.eq=3");
  auto& f = req.query.filters;
  REQUIRE(f.size() == 7);
  CHECK(f[0].path == "creditProfile.creditScore");
  CHECK(f[0].op == filter_op::gte);
  CHECK(f[1].path == "name");
  CHECK(f[1].op == filter_op::regex);
  CHECK(f[1].values == std::vector<std::string>{"Moon.*"});
  CHECK(f[2].op == filter_op::ne);
  CHECK(f[3].op == filter_op::gt);
  CHECK(f[4].op == filter_op::lt);
  CHECK(f[5].op == filter_op::lte);
  CHECK(f[6].path == "c");
  CHECK(f[6].op == filter_op::eq);
}

TEST_CASE("a non-operator last segment stays part of the path") {
  auto req = parse("contactMedium.characteristic.emailAddress=a@b.c&"
                   "regex=x");
  REQUIRE(req.query.filters.size() == 2);
  CHECK(req.query.filters[0].path
        == "contactMedium.characteristic.emailAddress");
  CHECK(req.query.filters[0].op == filter_op::eq);
  CHECK(req.query.filters[1].path == "regex");
  CHECK(req.query.filters[1].op == filter_op::eq);
}

TEST_CASE("commas and repeated attributes OR into one term") {
  auto req = parse("status=Approved,Pending&status=Rejected&"
                   "status.ne=Closed&name=x");
  auto& f = req.query.filters;
  REQUIRE(f.size() == 3);
  CHECK(f[0].path == "status");
  CHECK(f[0].op == filter_op::eq);
  CHECK(f[0].values
        == std::vector<std::string>{"Approved", "Pending", "Rejected"});
  CHECK(f[1].op == filter_op::ne);
  CHECK(f[1].values == std::vector<std::string>{"Closed"});
  CHECK(f[2].path == "name");
}

TEST_CASE("an explicit eq merges with the plain form") {
  auto req = parse("status=a&status.eq=b");
  REQUIRE(req.query.filters.size() == 1);
  CHECK(req.query.filters[0].values == std::vector<std::string>{"a", "b"});
}

TEST_CASE("an invalid filter is reported by check_term") {
  CHECK_FALSE(parse_error(".eq=x").empty());
  CHECK_FALSE(parse_error("a..b=x").empty());
  // Patterns are compiled (and their syntax checked) by the readers,
  // never on the HTTP thread.
  CHECK(parse("name.regex=(x").query.filters.size() == 1);
}

TEST_CASE("every count a client controls is capped, naming the key") {
  list_limits limits;
  limits.max_filters = 2;
  limits.max_filter_values = 4;
  limits.max_sort_keys = 2;
  limits.max_fields = 2;
  limits.max_regex_length = 8;
  limits.max_path_length = 10;
  CHECK(parse("a=1&b=2&a=3", limits).query.filters.size() == 2);
  CHECK(parse_error("a=1&b=2&c=3", limits).find("max-filters")
        != std::string::npos);
  CHECK(parse_error("a=1,2,3&b=4,5", limits).find("max-filter-values")
        != std::string::npos);
  CHECK(parse_error("sort=a,b,c", limits).find("max-sort-keys")
        != std::string::npos);
  CHECK(parse_error("sort=a&sort=b&sort=-c", limits).find("max-sort-keys")
        != std::string::npos);
  CHECK(parse_error("fields=a,b,c", limits).find("max-fields")
        != std::string::npos);
  CHECK(parse_error("name.regex=aaaaaaaaa", limits).find("max-regex-length")
        != std::string::npos);
  CHECK(parse_error("abcdefghijk=1", limits).rfind("abcdefghijk: ", 0) == 0);
  CHECK(parse_error("sort=abcdefghijk", limits).rfind("sort: ", 0) == 0);
  // The parser stops at the first cap: a huge query costs little.
  std::string huge = "sort=";
  for (int i = 0; i < 13000; ++i)
    huge += "k" + std::to_string(i) + ",";
  CHECK(parse_error(huge).find("max-sort-keys") != std::string::npos);
}

TEST_CASE("parse_fields caps the names of fields=") {
  list_limits limits;
  limits.max_fields = 2;
  std::vector<std::string> fields;
  std::string error;
  CHECK(tmf::domain::parse_fields(split_params("fields=a,b"), limits, fields,
                                  error));
  CHECK(fields == std::vector<std::string>{"a", "b"});
  CHECK_FALSE(tmf::domain::parse_fields(split_params("fields=a&fields=b,c"),
                                        limits, fields, error));
  CHECK(error.find("max-fields") != std::string::npos);
}

TEST_CASE("filters, sort, fields and paging combine") {
  auto req = parse("fields=name&sort=-name&status=Approved&offset=1&limit=2");
  CHECK(req.fields == std::vector<std::string>{"name"});
  REQUIRE(req.query.sort.size() == 1);
  REQUIRE(req.query.filters.size() == 1);
  CHECK(req.query.offset == 1);
  CHECK(req.query.limit == 2);
  CHECK(req.paged);
}

TEST_CASE("a percent-encoded comma is part of the value, not a separator") {
  auto req = parse("name=Smith%2C%20John,Doe");
  REQUIRE(req.query.filters.size() == 1);
  CHECK(req.query.filters[0].values
        == std::vector<std::string>{"Smith, John", "Doe"});
  CHECK(parse("fields=a%2Cb").fields == std::vector<std::string>{"a,b"});
}

TEST_CASE("symbolic operators become gt, gte, lt and lte") {
  auto req = parse("creditProfile.creditScore>=500&"
                   "creditProfile.creditRiskRating<3&"
                   "validFor.startDateTime>2024-01-01T00:00:00Z&"
                   "creditProfile.creditScore<=900");
  auto& f = req.query.filters;
  REQUIRE(f.size() == 4);
  CHECK(f[0].path == "creditProfile.creditScore");
  CHECK(f[0].op == filter_op::gte);
  CHECK(f[0].values == std::vector<std::string>{"500"});
  CHECK(f[1].op == filter_op::lt);
  CHECK(f[2].op == filter_op::gt);
  CHECK(f[3].op == filter_op::lte);
  // An escaped `=` is data: `%3E%3D500` is `>` with the bound "=500".
  CHECK(parse_error("creditProfile.creditScore%3E%3D500")
        == "creditProfile.creditScore>: expected a number, got \"=500\"");
}

TEST_CASE("a symbol and an operator segment together are refused") {
  CHECK(parse_error("creditProfile.creditScore.gte>=5")
        == "creditProfile.creditScore.gte>=: two operators");
}

TEST_CASE("reserved parameters take no operator") {
  CHECK(parse_error("limit>5").rfind("limit: takes no operator", 0) == 0);
  CHECK(parse_error("offset<=5").rfind("offset: ", 0) == 0);
}

TEST_CASE("an unknown operator is an error naming the parameter") {
  CHECK(parse_error("name.foo=x")
        == "name.foo: unknown operator \"foo\"; the operators are eq, ne, "
           "gt, gte, lt, lte and regex");
  CHECK(parse_error("status.equals=x").rfind("status.equals: unknown "
                                             "operator", 0)
        == 0);
  CHECK(parse_error("name.foo.bar=x").rfind("name.foo.bar: invalid "
                                            "attribute path",
                                            0)
        == 0);
  // Objects and extension attributes have members of any name.
  CHECK(parse("engagedParty.foo=x").query.filters[0].path
        == "engagedParty.foo");
  CHECK(parse("x-ext.foo=1").query.filters[0].path == "x-ext.foo");
  CHECK(parse("contactMedium.characteristic.city=x").query.filters.size()
        == 1);
}

TEST_CASE("an empty or malformed path is an error") {
  CHECK(parse_error("=x") == "filter: the attribute path is empty");
  CHECK(parse_error(".gt=5") == "filter: the attribute path is empty");
  CHECK(parse_error(">=5") == "filter: the attribute path is empty");
  CHECK(parse_error("a<b=5") == "a<b: invalid attribute path");
}

TEST_CASE("bounds are checked against the attribute's schema type") {
  CHECK(parse_error("creditProfile.creditScore.gte=abc")
        == "creditProfile.creditScore.gte: expected a number, got \"abc\"");
  CHECK(parse_error("creditProfile.creditScore>=5x")
        == "creditProfile.creditScore>=: expected a number, got \"5x\"");
  CHECK(parse_error("creditProfile.creditScore=1,two")
            .find("expected a number") != std::string::npos);
  CHECK(parse("creditProfile.creditScore.gt=499.5").query.filters.size()
        == 1);
  CHECK(parse_error("validFor.startDateTime.gt=yesterday")
        == "validFor.startDateTime.gt: expected an RFC 3339 date-time, got "
           "\"yesterday\"");
  CHECK(parse_error("contactMedium.preferred=yes")
        == "contactMedium.preferred: expected true or false, got \"yes\"");
  // A regex searches the text of any type.
  CHECK(parse("creditProfile.creditScore.regex=^7").query.filters.size()
        == 1);
  // Strings and unknown attributes take any bound.
  CHECK(parse("name.gt=5&x-ext.lt=abc").query.filters.size() == 2);
}
