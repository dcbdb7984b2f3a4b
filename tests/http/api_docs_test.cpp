// The OpenAPI document the service serves describes exactly its routes.

#include <set>
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/api_docs.hpp"
#include "http/routes.hpp"

using json = nlohmann::json;

namespace {

json document() {
  tmf::domain::api_location where{"http", "h:1", "/api"};
  return json::parse(tmf::domain::api_document(where));
}

std::string upper(std::string text) {
  for (auto& c : text)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return text;
}

/// Every `$ref` below `node`.
void refs(const json& node, std::set<std::string>& out) {
  if (node.is_object()) {
    if (auto r = node.find("$ref"); r != node.end())
      out.insert(r->get<std::string>());
    for (auto& [k, v] : node.items())
      refs(v, out);
  } else if (node.is_array()) {
    for (auto& v : node)
      refs(v, out);
  }
}

} // namespace

TEST_CASE("every documented operation is routed to a handler") {
  auto doc = document();
  auto table = tmf::http::route_table();
  for (auto& [path, ops] : doc["paths"].items()) {
    auto route = tmf::http::route_of(path);
    INFO(path);
    REQUIRE(route);
    auto entry = std::find_if(table.begin(), table.end(),
                              [&](auto& d) { return d.path == *route; });
    REQUIRE(entry != table.end());
    for (auto& [method, op] : ops.items()) {
      INFO(method);
      CHECK(std::count(entry->methods.begin(), entry->methods.end(),
                       upper(method))
            == 1);
    }
  }
}

TEST_CASE("every route and method is documented") {
  auto doc = document();
  for (const auto& route : tmf::http::route_table()) {
    for (const auto& method : route.methods) {
      INFO(route.path << " " << method);
      bool documented = false;
      for (auto& [path, ops] : doc["paths"].items())
        for (auto& [m, op] : ops.items())
          if (upper(m) == method && tmf::http::route_of(path) == route.path)
            documented = true;
      CHECK(documented);
    }
  }
}

TEST_CASE("the document names the service's additions and its location") {
  auto doc = document();
  CHECK(doc["swagger"] == "2.0");
  CHECK(doc["host"] == "h:1");
  CHECK(doc["basePath"] == "/api");
  auto& list = doc["paths"]["/customer"]["get"]["responses"];
  CHECK(list.contains("206"));
  CHECK(list["200"]["headers"].contains("Link"));
  CHECK(list["200"]["headers"].contains("X-Total-Count"));
  auto& one = doc["paths"]["/customer/{id}"];
  CHECK(one["get"]["responses"].contains("304"));
  CHECK(one["get"]["responses"]["200"]["headers"].contains("ETag"));
  CHECK(one["patch"]["responses"].contains("412"));
  CHECK(one["patch"]["responses"].contains("415"));
  CHECK(one["delete"]["responses"].contains("412"));
  CHECK(std::count(one["patch"]["consumes"].begin(),
                   one["patch"]["consumes"].end(),
                   "application/json-patch+json")
        == 1);
  std::set<std::string> found;
  refs(doc, found);
  for (auto& ref : found) {
    INFO(ref);
    CHECK(doc["definitions"].contains(ref.substr(ref.rfind('/') + 1)));
  }
}

TEST_CASE("the customer schema resolves every $ref inside itself") {
  auto schema = json::parse(
    tmf::domain::customer_json_schema("http://h/api/customer/schema"));
  CHECK(schema["$schema"] == "http://json-schema.org/draft-04/schema#");
  CHECK(schema["id"] == "http://h/api/customer/schema");
  CHECK(schema["required"] == json({"id", "name", "engagedParty"}));
  CHECK(schema["properties"].contains("contactMedium"));
  std::set<std::string> found;
  refs(schema, found);
  CHECK(found.count("#/definitions/RelatedParty") == 1);
  for (auto& ref : found) {
    INFO(ref);
    REQUIRE(ref.rfind("#/definitions/", 0) == 0);
    CHECK(schema["definitions"].contains(ref.substr(14)));
  }
  CHECK(schema["definitions"]["CreditProfile"]["properties"]["creditScore"]
               ["type"]
        == "integer");
  CHECK(schema["properties"]["@schemaLocation"]["format"] == "uri");
}
