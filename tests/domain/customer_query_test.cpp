#include "domain/customer_query.hpp"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using json = nlohmann::json;
using tmf::domain::filter_op;
using tmf::domain::filter_term;
using tmf::domain::sort_key;
using tmf::domain::check_term;
using tmf::domain::compiled_filters;
using tmf::domain::matches;
using tmf::domain::sort_before;

namespace {

json customer() {
  return json::parse(R"({
    "id": "00a-1",
    "name": "Moon Football Club",
    "status": "Approved",
    "engagedParty": {"id": "org-42", "@referredType": "Organization"},
    "contactMedium": [
      {"mediumType": "email", "preferred": true,
       "characteristic": {"emailAddress": "office@moonfc.example"}},
      {"mediumType": "phone", "preferred": false,
       "characteristic": {"phoneNumber": "+1 555 0100"}}
    ],
    "characteristic": [
      {"name": "segment", "value": "gold"},
      {"name": "seats", "value": 42000},
      {"name": "tags", "value": ["sports", "football"]}
    ],
    "creditProfile": [{"creditScore": 710, "creditRiskRating": 2}],
    "ratio": 0.25
  })");
}

filter_term term(std::string path, filter_op op,
                 std::vector<std::string> values) {
  return filter_term{std::move(path), op, std::move(values)};
}

bool one(filter_term t) {
  return matches(customer(), {std::move(t)});
}

} // namespace

TEST_CASE("no filters match every document") {
  CHECK(matches(customer(), {}));
}

TEST_CASE("eq matches a top-level string exactly") {
  CHECK(one(term("name", filter_op::eq, {"Moon Football Club"})));
  CHECK_FALSE(one(term("name", filter_op::eq, {"Moon"})));
  CHECK_FALSE(one(term("name", filter_op::eq, {"moon football club"})));
}

TEST_CASE("the values of one term are ORed") {
  CHECK(one(term("status", filter_op::eq, {"Pending", "Approved"})));
  CHECK_FALSE(one(term("status", filter_op::eq, {"Pending", "Rejected"})));
}

TEST_CASE("different terms are ANDed") {
  auto doc = customer();
  CHECK(matches(doc, {term("status", filter_op::eq, {"Approved"}),
                      term("engagedParty.id", filter_op::eq, {"org-42"})}));
  CHECK_FALSE(matches(doc, {term("status", filter_op::eq, {"Approved"}),
                            term("engagedParty.id", filter_op::eq, {"x"})}));
}

TEST_CASE("dotted paths descend into objects and arrays") {
  CHECK(one(term("engagedParty.@referredType", filter_op::eq,
                 {"Organization"})));
  CHECK(one(term("contactMedium.characteristic.emailAddress", filter_op::eq,
                 {"office@moonfc.example"})));
  CHECK(one(term("contactMedium.mediumType", filter_op::eq, {"phone"})));
  CHECK(one(term("characteristic.name", filter_op::eq, {"seats"})));
  CHECK_FALSE(one(term("characteristic.name", filter_op::eq, {"nope"})));
  // An array leaf: any element may match.
  CHECK(one(term("characteristic.value", filter_op::eq, {"football"})));
}

TEST_CASE("a missing attribute matches only ne") {
  for (auto op : {filter_op::eq, filter_op::gt, filter_op::gte, filter_op::lt,
                  filter_op::lte, filter_op::regex})
    CHECK_FALSE(one(term("statusReason", op, {"x"})));
  CHECK(one(term("statusReason", filter_op::ne, {"x"})));
  CHECK(one(term("engagedParty.name", filter_op::ne, {"x"})));
}

TEST_CASE("ne matches when no value at the path equals any value") {
  CHECK(one(term("status", filter_op::ne, {"Pending"})));
  CHECK_FALSE(one(term("status", filter_op::ne, {"Approved"})));
  CHECK_FALSE(one(term("status", filter_op::ne, {"Pending", "Approved"})));
  // One array element equal is enough to fail ne.
  CHECK_FALSE(one(term("contactMedium.mediumType", filter_op::ne,
                       {"email"})));
  CHECK(one(term("contactMedium.mediumType", filter_op::ne, {"fax"})));
}

TEST_CASE("numbers compare numerically") {
  CHECK(one(term("creditProfile.creditScore", filter_op::gt, {"700"})));
  CHECK(one(term("creditProfile.creditScore", filter_op::gte, {"710"})));
  CHECK_FALSE(one(term("creditProfile.creditScore", filter_op::gt, {"710"})));
  CHECK(one(term("creditProfile.creditScore", filter_op::lt, {"1000"})));
  CHECK(one(term("creditProfile.creditScore", filter_op::lte, {"710.0"})));
  CHECK(one(term("creditProfile.creditScore", filter_op::eq, {"710"})));
  CHECK(one(term("creditProfile.creditScore", filter_op::eq, {"7.1e2"})));
  // Lexicographically "9" > "710", numerically it is not.
  CHECK_FALSE(one(term("creditProfile.creditScore", filter_op::lt, {"9"})));
  CHECK(one(term("ratio", filter_op::lt, {"0.5"})));
  CHECK(one(term("ratio", filter_op::gt, {"-1"})));
  // A non-numeric value never compares with a number.
  CHECK_FALSE(one(term("creditProfile.creditScore", filter_op::eq, {"abc"})));
  CHECK_FALSE(one(term("creditProfile.creditScore", filter_op::gt, {"abc"})));
}

TEST_CASE("numbers inside arrays compare numerically") {
  auto doc = json::parse(R"({"c": [{"v": [3, 12]}, {"v": 7}]})");
  CHECK(matches(doc, {term("c.v", filter_op::gt, {"10"})}));
  CHECK(matches(doc, {term("c.v", filter_op::eq, {"7"})}));
  CHECK_FALSE(matches(doc, {term("c.v", filter_op::gt, {"12"})}));
  CHECK_FALSE(matches(doc, {term("c.v", filter_op::lt, {"3"})}));
  CHECK(one(term("characteristic.value", filter_op::eq, {"42000"})));
}

TEST_CASE("strings compare lexicographically") {
  CHECK(one(term("name", filter_op::gt, {"Moon"})));
  CHECK(one(term("name", filter_op::lt, {"N"})));
  CHECK(one(term("name", filter_op::gte, {"Moon Football Club"})));
  CHECK(one(term("name", filter_op::lte, {"Moon Football Club"})));
  CHECK_FALSE(one(term("name", filter_op::lt, {"Moon"})));
}

TEST_CASE("booleans compare with true and false") {
  CHECK(one(term("contactMedium.preferred", filter_op::eq, {"true"})));
  CHECK(one(term("contactMedium.preferred", filter_op::eq, {"false"})));
  CHECK_FALSE(one(term("contactMedium.preferred", filter_op::eq, {"yes"})));
  auto doc = customer();
  doc["contactMedium"][1]["preferred"] = true;
  CHECK_FALSE(matches(doc, {term("contactMedium.preferred", filter_op::eq,
                                 {"false"})}));
  CHECK_FALSE(matches(doc, {term("contactMedium.preferred", filter_op::ne,
                                 {"true"})}));
}

TEST_CASE("regex searches the string, anchors ask for the whole value") {
  CHECK(one(term("name", filter_op::regex, {"Moon.*"})));
  CHECK(one(term("name", filter_op::regex, {"Football"})));
  CHECK(one(term("name", filter_op::regex, {"ball C"})));
  CHECK_FALSE(one(term("name", filter_op::regex, {"Rugby"})));
  CHECK(one(term("name", filter_op::regex, {"^Moon"})));
  CHECK_FALSE(one(term("name", filter_op::regex, {"^Football"})));
  CHECK(one(term("name", filter_op::regex, {"Club$"})));
  CHECK_FALSE(one(term("name", filter_op::regex, {"^Football$"})));
  CHECK(one(term("name", filter_op::regex, {"^Moon\\s\\w+ Club$"})));
  CHECK(one(term("contactMedium.characteristic.emailAddress", filter_op::regex,
                 {"@moonfc\\.example$"})));
  CHECK(one(term("name", filter_op::regex, {"x", "Moon"})));
}

TEST_CASE("regex applies to numbers by their text") {
  CHECK(one(term("creditProfile.creditScore", filter_op::regex, {"^7\\d+"})));
  CHECK(one(term("creditProfile.creditScore", filter_op::regex, {"1"})));
  CHECK_FALSE(one(term("creditProfile.creditScore", filter_op::regex, {"^8"})));
}

TEST_CASE("an invalid regex never matches and compiling reports it") {
  auto t = term("name", filter_op::regex, {"(unclosed"});
  CHECK_FALSE(one(t));
  CHECK(check_term(t).empty()); // the syntax is checked by compiling
  compiled_filters f{{t}};
  CHECK_FALSE(f.ok());
  CHECK(f.error().rfind("name.regex: invalid regular expression "
                        "\"(unclosed\"",
                        0)
        == 0);
  CHECK_FALSE(f.matches(customer()));
}

TEST_CASE("patterns RE2 cannot run in linear time are refused") {
  for (auto pattern : {"(a)\\1", "(?=a)a", "a************b"}) {
    INFO(pattern);
    CHECK_FALSE(compiled_filters{{term("name", filter_op::regex, {pattern})}}
                  .ok());
  }
}

TEST_CASE("a pattern whose program exceeds the memory cap is refused") {
  compiled_filters f{{term("name", filter_op::regex, {"\\pL{1000}"})}};
  CHECK_FALSE(f.ok());
  CHECK(f.error().find("name.regex") == 0);
}

TEST_CASE("catastrophic patterns for backtracking engines run in linear "
          "time") {
  // std::regex recursed once per input character (a stack overflow at
  // 12,000) or backtracked for minutes on these; RE2 does neither.
  auto doc = json{{"name", std::string(200000, 'a')}};
  for (auto pattern : {"(a|b)*", "(a+)+b", "(a|aa)+$", "(.*a){20}"}) {
    INFO(pattern);
    compiled_filters f{{term("name", filter_op::regex, {pattern})}};
    REQUIRE(f.ok());
    auto matched = f.matches(doc);
    CHECK(matched == (std::string{pattern} != "(a+)+b"));
  }
}

TEST_CASE("check_term accepts well-formed terms") {
  CHECK(check_term(term("name", filter_op::eq, {"x"})).empty());
  CHECK(check_term(term("a.b.c", filter_op::regex, {"^a.*$"})).empty());
}

TEST_CASE("check_term rejects empty or malformed paths") {
  CHECK_FALSE(check_term(term("", filter_op::eq, {"x"})).empty());
  CHECK_FALSE(check_term(term(".name", filter_op::eq, {"x"})).empty());
  CHECK_FALSE(check_term(term("name.", filter_op::eq, {"x"})).empty());
  CHECK_FALSE(check_term(term("a..b", filter_op::eq, {"x"})).empty());
  CHECK_FALSE(check_term(term("name", filter_op::eq, {})).empty());
}

TEST_CASE("objects never match a filter value") {
  CHECK_FALSE(one(term("engagedParty", filter_op::eq, {"org-42"})));
}

TEST_CASE("sort_before orders by a key, ascending and descending") {
  json a = {{"id", "1"}, {"name", "Alpha"}};
  json b = {{"id", "2"}, {"name", "Beta"}};
  std::vector<sort_key> asc{{"name", false}};
  std::vector<sort_key> desc{{"name", true}};
  CHECK(sort_before(a, b, asc));
  CHECK_FALSE(sort_before(b, a, asc));
  CHECK(sort_before(b, a, desc));
  CHECK_FALSE(sort_before(a, b, desc));
}

TEST_CASE("sort_before compares numbers numerically") {
  json a = {{"id", "1"}, {"score", 9}};
  json b = {{"id", "2"}, {"score", 10.5}};
  CHECK(sort_before(a, b, {{"score", false}}));
  CHECK_FALSE(sort_before(b, a, {{"score", false}}));
}

namespace {

std::vector<std::string> sorted_ids(std::vector<json> docs,
                                    const std::vector<sort_key>& keys) {
  std::sort(docs.begin(), docs.end(), [&](const json& x, const json& y) {
    return sort_before(x, y, keys);
  });
  std::vector<std::string> ids;
  for (auto& d : docs)
    ids.push_back(d["id"].get<std::string>());
  return ids;
}

} // namespace

TEST_CASE("sort_before orders by type and puts missing values last") {
  json missing = {{"id", "1"}};
  json null_v = {{"id", "2"}, {"v", nullptr}};
  json boolean = {{"id", "3"}, {"v", true}};
  json number = {{"id", "4"}, {"v", 1}};
  json date = {{"id", "5"}, {"v", "2024-01-01T00:00:00Z"}};
  json string = {{"id", "6"}, {"v", "a"}};
  std::vector<json> docs{string, date, number, boolean, null_v, missing};
  CHECK(sorted_ids(docs, {{"v", false}})
        == std::vector<std::string>{"2", "3", "4", "5", "6", "1"});
  CHECK(sorted_ids(docs, {{"v", true}})
        == std::vector<std::string>{"6", "5", "4", "3", "2", "1"});
}

TEST_CASE("sort_before orders date-times as instants") {
  json a = {{"id", "a"}, {"t", "2024-01-01T10:00:00+02:00"}}; // 08:00Z
  json b = {{"id", "b"}, {"t", "2024-01-01T09:00:00Z"}};
  json c = {{"id", "c"}, {"t", "2024-01-01T09:30:00.5+00:30"}}; // 09:00:00.5Z
  CHECK(sorted_ids({b, c, a}, {{"t", false}})
        == std::vector<std::string>{"a", "b", "c"});
  CHECK(sorted_ids({a, b, c}, {{"t", true}})
        == std::vector<std::string>{"c", "b", "a"});
}

TEST_CASE("sort_before breaks ties by id and is irreflexive") {
  json a = {{"id", "a"}, {"status", "x"}};
  json b = {{"id", "b"}, {"status", "x"}};
  std::vector<sort_key> keys{{"status", true}};
  CHECK(sort_before(a, b, keys));
  CHECK_FALSE(sort_before(b, a, keys));
  CHECK_FALSE(sort_before(a, a, keys));
  CHECK(sort_before(a, b, {}));
}

TEST_CASE("sort_before uses later keys when earlier ones tie") {
  json a = {{"id", "1"}, {"status", "x"}, {"name", "B"}};
  json b = {{"id", "2"}, {"status", "x"}, {"name", "A"}};
  std::vector<sort_key> keys{{"status", false}, {"name", false}};
  CHECK(sort_before(b, a, keys));
  CHECK_FALSE(sort_before(a, b, keys));
}

TEST_CASE("sort_before takes the first value of a path into arrays") {
  json a = {{"id", "1"}, {"contactMedium", {{{"mediumType", "phone"}}}}};
  json b = {{"id", "2"}, {"contactMedium", {{{"mediumType", "email"}}}}};
  CHECK(sort_before(b, a, {{"contactMedium.mediumType", false}}));
}

TEST_CASE("text_prefilter never rejects a document that matches") {
  auto doc = customer();
  auto text = doc.dump();
  std::vector<std::vector<filter_term>> queries{
    {{"name", filter_op::eq, {"Moon Football Club"}}},
    {{"name", filter_op::eq, {"Nobody", "Moon Football Club"}}},
    {{"contactMedium.characteristic.phoneNumber", filter_op::eq,
      {"+1 555 0100"}}},
    {{"characteristic.value", filter_op::eq, {"42000"}}},
    {{"contactMedium.preferred", filter_op::eq, {"true"}}},
    {{"ratio", filter_op::eq, {"0.25"}}},
    {{"status", filter_op::ne, {"Closed"}}},
    {{"name", filter_op::regex, {"Moon.*"}}},
    {{"status", filter_op::eq, {"Approved"}},
     {"engagedParty.id", filter_op::eq, {"org-42"}}},
  };
  for (const auto& filters : queries) {
    REQUIRE(matches(doc, filters));
    CHECK(tmf::domain::text_prefilter{filters}.may_match(text));
  }
}

TEST_CASE("text_prefilter rejects texts without any wanted string value") {
  auto text = customer().dump();
  using tmf::domain::text_prefilter;
  CHECK_FALSE(
    text_prefilter{{{"name", filter_op::eq, {"Sun Rugby Club"}}}}.may_match(
      text));
  // A value that occurs only inside a longer string is no token.
  CHECK_FALSE(
    text_prefilter{{{"name", filter_op::eq, {"Moon"}}}}.may_match(text));
  // Every string-only eq term must find one of its values (AND of ORs).
  CHECK_FALSE(text_prefilter{{{"status", filter_op::eq, {"Approved"}},
                              {"name", filter_op::eq, {"x", "y"}}}}
                .may_match(text));
  // Values that may match as numbers, booleans or null are not judged.
  CHECK(text_prefilter{{{"seats", filter_op::eq, {"17"}}}}.may_match(text));
  CHECK(text_prefilter{{{"flag", filter_op::eq, {"false"}}}}.may_match(text));
  CHECK(text_prefilter{{{"x", filter_op::eq, {"null"}}}}.may_match(text));
}

TEST_CASE("date-times compare as instants whatever their offset") {
  json doc = {{"id", "x"},
              {"validFor", {{"startDateTime", "2024-05-01T12:00:00+02:00"}}}};
  auto at = [&](filter_op op, std::string value) {
    return matches(doc, {term("validFor.startDateTime", op, {value})});
  };
  CHECK(at(filter_op::eq, "2024-05-01T10:00:00Z"));
  CHECK(at(filter_op::eq, "2024-05-01T10:00:00.000Z"));
  CHECK(at(filter_op::eq, "2024-05-01T05:00:00-05:00"));
  CHECK_FALSE(at(filter_op::eq, "2024-05-01T12:00:00Z"));
  CHECK(at(filter_op::gt, "2024-05-01T11:59:00+02:00"));
  CHECK(at(filter_op::lt, "2024-05-01T10:00:00.001Z"));
  CHECK_FALSE(at(filter_op::lt, "2024-05-01T10:00:00Z"));
  CHECK(at(filter_op::gte, "2024-05-01T10:00:00Z"));
  CHECK(at(filter_op::lte, "2024-05-01T06:00:00-04:00"));
  // Compared as text these would be the other way round.
  CHECK(at(filter_op::gt, "2024-05-01T11:00:00+05:00"));
  CHECK_FALSE(at(filter_op::ne, "2024-05-01T10:00:00Z"));
}

TEST_CASE("numbers compare numerically, never as text") {
  json doc
    = {{"id", "x"}, {"n", 9}, {"f", 1e3}, {"big", 18446744073709551615ull}};
  CHECK(matches(doc, {term("n", filter_op::lt, {"10"})}));
  CHECK(matches(doc, {term("n", filter_op::eq, {"9.0"})}));
  CHECK(matches(doc, {term("n", filter_op::eq, {"+9"})}));
  CHECK(matches(doc, {term("f", filter_op::eq, {"1000"})}));
  CHECK(matches(doc, {term("f", filter_op::gte, {"1e3"})}));
  CHECK(matches(doc, {term("big", filter_op::gt, {"18446744073709551614"})}));
  CHECK_FALSE(matches(doc, {term("n", filter_op::eq, {"nine"})}));
  CHECK_FALSE(matches(doc, {term("n", filter_op::gt, {"abc"})}));
}

TEST_CASE("strings compare as strings even when they look like numbers") {
  json doc = {{"id", "x"}, {"code", "0042"}};
  CHECK(matches(doc, {term("code", filter_op::eq, {"0042"})}));
  CHECK_FALSE(matches(doc, {term("code", filter_op::eq, {"42"})}));
  CHECK(matches(doc, {term("code", filter_op::lt, {"1"})}));
}

TEST_CASE("null matches only null") {
  json doc = {{"id", "x"}, {"v", nullptr}, {"s", "null"}};
  CHECK(matches(doc, {term("v", filter_op::eq, {"null"})}));
  CHECK(matches(doc, {term("s", filter_op::eq, {"null"})}));
  CHECK_FALSE(matches(doc, {term("v", filter_op::eq, {""})}));
}

TEST_CASE("check_term rejects operator characters in paths") {
  CHECK_FALSE(check_term(term("a>b", filter_op::eq, {"x"})).empty());
  CHECK_FALSE(check_term(term("a<", filter_op::eq, {"x"})).empty());
}

TEST_CASE("extracted sort values order like the documents") {
  std::vector<json> docs;
  std::vector<json> values{nullptr, true, 3, 2.5, "b", "a",
                           "2024-01-01T00:00:00+01:00",
                           "2023-12-31T23:30:00Z", json::array({1}),
                           json::object()};
  int n = 0;
  for (const auto& v : values) {
    docs.push_back({{"id", std::to_string(n++)}, {"v", v}, {"w", n % 3}});
    docs.push_back({{"id", std::to_string(n++)}, {"w", n % 2}}); // missing
  }
  for (auto keys : {std::vector<sort_key>{{"v", false}},
                    std::vector<sort_key>{{"v", true}},
                    std::vector<sort_key>{{"w", false}, {"v", true}}}) {
    for (const auto& a : docs)
      for (const auto& b : docs) {
        INFO(a.dump() << " " << b.dump());
        CHECK(tmf::domain::sort_values_before(
                tmf::domain::extract_sort_values(a, keys),
                tmf::domain::extract_sort_values(b, keys), keys)
              == sort_before(a, b, keys));
      }
  }
}

// Found by the fuzz targets: an empty view may hold a null pointer, and
// passing it to memmem is undefined behaviour (the sanitizer build stops).
TEST_CASE("text_prefilter takes an empty text") {
  using tmf::domain::text_prefilter;
  std::string_view none;
  REQUIRE(none.data() == nullptr);
  CHECK_FALSE(
    text_prefilter{{{"name", filter_op::eq, {"Moon"}}}}.may_match(none));
  CHECK(text_prefilter{{}}.may_match(none));
  CHECK(text_prefilter{{{"seats", filter_op::gt, {"1"}}}}.may_match(none));
}
