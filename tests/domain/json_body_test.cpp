#include "domain/json_body.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using json = nlohmann::json;
using tmf::domain::canonical_text;

namespace {

std::string canon(const std::string& raw) {
  return canonical_text(raw, json::parse(raw));
}

} // namespace

TEST_CASE("canonical_text keeps a compact body as sent") {
  std::string raw = R"({"name":"Moon FC","engagedParty":{"id":"p",)"
                    R"("@referredType":"Organization"},"tags":["a","b"]})";
  CHECK(canon(raw) == raw); // member order as posted, no re-dump
}

TEST_CASE("canonical_text drops white space outside strings only") {
  std::string raw = "{ \"name\" : \"Moon  FC\",\n  \"list\" : [ 1 , 2 ],"
                    "\t\"o\" : { \"k\" : \"a b\" } }\r\n";
  auto out = canon(raw);
  CHECK(out
        == R"({"name":"Moon  FC","list":[1,2],"o":{"k":"a b"}})");
  CHECK(json::parse(out) == json::parse(raw));
}

TEST_CASE("canonical_text dumps bodies with escapes or duplicate keys") {
  auto escaped = std::string{R"({"name":"Mo\u006fn","path":"a\/b"})"};
  CHECK(canon(escaped) == R"({"name":"Moon","path":"a/b"})");
  auto duplicate = std::string{R"({"name":5,"o":{"a":1,"a":2},"name":"x"})"};
  CHECK(canon(duplicate) == json::parse(duplicate).dump());
  CHECK(canon(duplicate).find("5") == std::string::npos);
}

TEST_CASE("canonical_text counts keys in nested arrays of objects") {
  std::string raw = R"({"cm":[{"t":"e","c":{"x":"y:z"}},{"t":"p"}],)"
                    R"("q":"a:b"})";
  CHECK(canon(raw) == raw);
}

TEST_CASE("parse_json takes exactly one JSON value with white space") {
  json out;
  std::string error;
  CHECK(tmf::domain::parse_json(" {\"a\":[1,2]}\r\n", 8, out, error));
  CHECK(out == json{{"a", {1, 2}}});
  for (std::string bad : {std::string{"{} {}"}, std::string{"{}x"},
                          std::string{""}, std::string{"{\"a\":1,}"}}) {
    INFO(bad);
    CHECK_FALSE(tmf::domain::parse_json(bad, 8, out, error));
    CHECK(error.rfind("is not valid JSON: ", 0) == 0);
    CHECK(out.is_null());
  }
}

TEST_CASE("parse_json refuses a byte order mark and NUL bytes") {
  json out;
  std::string error;
  CHECK_FALSE(tmf::domain::parse_json("\xEF\xBB\xBF{}", 8, out, error));
  CHECK(error.find("byte order mark") != std::string::npos);
  // nlohmann alone would stop at the NUL and accept what came before.
  auto with_nul = std::string{"{\"a\":1}"} + '\0' + "garbage";
  CHECK_FALSE(tmf::domain::parse_json(with_nul, 8, out, error));
  CHECK(error == "holds a NUL byte at offset 7");
}

TEST_CASE("parse_json refuses numbers out of range without throwing") {
  json out;
  std::string error;
  CHECK_FALSE(tmf::domain::parse_json("[1e400]", 8, out, error));
  CHECK(error.find("number overflow") != std::string::npos);
}

TEST_CASE("parse_json bounds the nesting depth while parsing") {
  json out;
  std::string error;
  auto nested = [](size_t depth) {
    return std::string(depth, '[') + std::string(depth, ']');
  };
  CHECK(tmf::domain::parse_json(nested(32), 32, out, error));
  CHECK_FALSE(tmf::domain::parse_json(nested(33), 32, out, error));
  CHECK(error == "nests deeper than 32 levels of arrays and objects");
  // Far deeper than any stack: refused after 33 levels, nothing built.
  CHECK_FALSE(tmf::domain::parse_json(nested(1000000), 32, out, error));
  CHECK(out.is_null());
}

TEST_CASE("scan_object checks a body and reports top-level members") {
  std::vector<tmf::domain::member_info> m;
  std::string error;
  CHECK(tmf::domain::scan_object(
    R"({"id":"x","o":{"id":"inner"},"href":5})", 8, {"id", "href", "name"},
    m, error));
  REQUIRE(m.size() == 3);
  CHECK(m[0].present);
  CHECK(m[0].string == std::optional<std::string>{"x"});
  CHECK(m[1].present);
  CHECK_FALSE(m[1].string);
  CHECK_FALSE(m[2].present);
  CHECK_FALSE(tmf::domain::scan_object("[1]", 8, {"id"}, m, error));
  CHECK(error == "is not a JSON object");
  CHECK_FALSE(tmf::domain::scan_object("{\"a\":[[[1]]]}", 3, {}, m, error));
  CHECK(error.find("deeper than 3") != std::string::npos);
  CHECK_FALSE(tmf::domain::scan_object("{}\xEF", 8, {}, m, error));
  auto with_nul = std::string{"{}"} + '\0' + "x";
  CHECK_FALSE(tmf::domain::scan_object(with_nul, 8, {}, m, error));
}

TEST_CASE("canonical_text of a parsed body parses back to it") {
  for (std::string raw :
       {std::string{R"( {"a" : [1, 2.50, -0, 1e3], "b":{"c":null}} )"},
        std::string{R"({"s":"tab\tand \"quote\"","u":"\u00e9"})"},
        std::string{R"({"k":1,"k":2})"}}) {
    INFO(raw);
    json parsed;
    std::string error;
    REQUIRE(tmf::domain::parse_json(raw, 8, parsed, error));
    json back;
    REQUIRE(tmf::domain::parse_json(canon(raw), 8, back, error));
    CHECK(back == parsed);
  }
}

// Found by the fuzz targets: an empty view may hold a null pointer, and
// passing it to memchr is undefined behaviour (the sanitizer build stops).
TEST_CASE("parse_json and scan_object refuse an empty view") {
  std::string_view none;
  REQUIRE(none.data() == nullptr);
  json out;
  std::string error;
  CHECK_FALSE(tmf::domain::parse_json(none, 8, out, error));
  CHECK(error.rfind("is not valid JSON", 0) == 0);
  std::vector<tmf::domain::member_info> m;
  CHECK_FALSE(tmf::domain::scan_object(none, 8, {"id"}, m, error));
  CHECK(error.rfind("is not valid JSON", 0) == 0);
  CHECK(m.size() == 1);
}
