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
