// RFC 6902 JSON Patch on customers and entity tags (domain/customer_rules,
// domain/etag).

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_rules.hpp"
#include "domain/etag.hpp"

using json = nlohmann::json;
using tmf::domain::apply_json_patch;
using tmf::domain::check_json_patch;

namespace {

json doc() {
  return json::parse(R"({"id":"00a-1","name":"Moon","status":"Approved",
    "engagedParty":{"id":"p","@referredType":"Organization"},
    "characteristic":[{"name":"a","value":1},{"name":"b","value":2}]})");
}

/// The patched document; fails the test when the patch does not apply.
json patched(const std::string& patch) {
  json out;
  auto failure = apply_json_patch(doc(), json::parse(patch), out);
  INFO(patch << ": " << (failure ? failure->message : ""));
  REQUIRE_FALSE(failure);
  return out;
}

/// The failure of a patch that must not apply, checking that neither the
/// input nor the output changed.
tmf::domain::patch_failure failed(const std::string& patch) {
  auto input = doc();
  json out = "untouched";
  auto failure = apply_json_patch(input, json::parse(patch), out);
  INFO(patch);
  REQUIRE(failure);
  CHECK(input == doc());
  CHECK(out == "untouched");
  return *failure;
}

} // namespace

TEST_CASE("add sets members, inserts into arrays and appends with /-") {
  auto d = patched(R"([{"op":"add","path":"/description","value":"x"}])");
  CHECK(d["description"] == "x");
  d = patched(R"([{"op":"add","path":"/characteristic/0",
                  "value":{"name":"z","value":0}}])");
  CHECK(d["characteristic"][0]["name"] == "z");
  CHECK(d["characteristic"].size() == 3);
  d = patched(R"([{"op":"add","path":"/characteristic/-",
                  "value":{"name":"c","value":3}}])");
  CHECK(d["characteristic"][2]["name"] == "c");
  d = patched(R"([{"op":"add","path":"/status","value":"Validated"}])");
  CHECK(d["status"] == "Validated");
}

TEST_CASE("remove, replace, move, copy and test") {
  auto d = patched(R"([{"op":"remove","path":"/status"}])");
  CHECK_FALSE(d.contains("status"));
  d = patched(R"([{"op":"remove","path":"/characteristic/0"}])");
  CHECK(d["characteristic"].size() == 1);
  d = patched(R"([{"op":"replace","path":"/name","value":"Sun"}])");
  CHECK(d["name"] == "Sun");
  d = patched(R"([{"op":"move","from":"/status","path":"/description"}])");
  CHECK(d["description"] == "Approved");
  CHECK_FALSE(d.contains("status"));
  d = patched(R"([{"op":"copy","from":"/name","path":"/description"}])");
  CHECK(d["description"] == "Moon");
  CHECK(d["name"] == "Moon");
  d = patched(R"([{"op":"test","path":"/status","value":"Approved"},
                  {"op":"test","path":"/id","value":"00a-1"},
                  {"op":"replace","path":"/status","value":"Closed"}])");
  CHECK(d["status"] == "Closed");
}

TEST_CASE("a failing test or a missing path applies nothing") {
  auto f = failed(R"([{"op":"replace","path":"/status","value":"Closed"},
                      {"op":"test","path":"/name","value":"Sun"}])");
  CHECK(f.conflict);
  CHECK(f.message.find("test") != std::string::npos);
  CHECK(failed(R"([{"op":"add","path":"/name","value":"x"},
                   {"op":"remove","path":"/nothing"}])")
          .conflict);
  CHECK(failed(R"([{"op":"replace","path":"/nothing","value":1}])").conflict);
  CHECK(failed(R"([{"op":"add","path":"/missing/deeper","value":1}])")
          .conflict);
  CHECK(failed(R"([{"op":"add","path":"/characteristic/9","value":1}])")
          .conflict);
  CHECK(failed(R"([{"op":"move","from":"/nothing","path":"/x"}])").conflict);
  CHECK(failed(R"([{"op":"test","path":"/nothing","value":null}])").conflict);
}

TEST_CASE("malformed patches are refused before anything applies") {
  CHECK_FALSE(failed(R"({"op":"add"})").conflict);
  auto message = [](const std::string& patch) {
    auto msg = check_json_patch(json::parse(patch));
    REQUIRE(msg);
    return *msg;
  };
  CHECK(message(R"({"op":"add"})").rfind("a JSON Patch must be an array", 0)
        == 0);
  CHECK(message(R"([1])") == "operation 0: expected an operation object");
  CHECK(message(R"([{"op":"merge","path":"/a"}])")
        == "operation 0: op: \"merge\" is not one of add, remove, replace, "
           "move, copy, test");
  CHECK(message(R"([{"op":"add","path":"/a"}])")
        == "operation 0: value: required by add");
  CHECK(message(R"([{"op":"remove","path":"a"}])")
        == "operation 0: path: \"a\" is not a JSON Pointer");
  CHECK(message(R"([{"op":"copy","path":"/a"}])")
        == "operation 0: from: a JSON Pointer string is required");
  CHECK(check_json_patch(json::array()) == std::nullopt);
}

TEST_CASE("id and href cannot be changed by a JSON Patch") {
  for (auto patch :
       {R"([{"op":"replace","path":"/id","value":"x"}])",
        R"([{"op":"remove","path":"/id"}])",
        R"([{"op":"add","path":"/href","value":"http://x"}])",
        R"([{"op":"add","path":"/id/x","value":1}])",
        R"([{"op":"move","from":"/id","path":"/x"}])",
        R"([{"op":"replace","path":"","value":{}}])"}) {
    INFO(patch);
    auto msg = check_json_patch(json::parse(patch));
    REQUIRE(msg);
    CHECK_FALSE(failed(patch).conflict);
  }
  CHECK(check_json_patch(json::parse(
          R"([{"op":"copy","from":"/id","path":"/x"},
              {"op":"test","path":"/id","value":"00a-1"}])"))
        == std::nullopt);
  CHECK(*check_json_patch(json::parse(
          R"([{"op":"replace","path":"/href","value":"x"}])"))
        == "operation 0: href: cannot be changed");
}

TEST_CASE("ETags are the quoted version, If-Match compares strongly") {
  using tmf::domain::etag_of;
  using tmf::domain::if_match;
  using tmf::domain::if_none_match;
  CHECK(etag_of(7) == "\"7\"");
  CHECK(if_match("\"7\"", 7));
  CHECK(if_match("\"3\", \"7\"", 7));
  CHECK(if_match("*", 7));
  CHECK_FALSE(if_match("\"6\"", 7));
  CHECK_FALSE(if_match("W/\"7\"", 7));
  CHECK_FALSE(if_match("7", 7));
  CHECK_FALSE(if_match("\"7", 7));
  CHECK_FALSE(if_match("\"*\"", 7));
  CHECK(if_none_match("W/\"7\"", 7));
  CHECK(if_none_match("\"1\",\"7\"", 7));
  CHECK(if_none_match("*", 7));
  CHECK_FALSE(if_none_match("\"6\"", 7));
  CHECK_FALSE(if_none_match("garbage", 7));
}
