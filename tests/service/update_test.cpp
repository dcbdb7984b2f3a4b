// PATCH by media type and concurrency control against the real tmf629d:
// JSON Patch (RFC 6902), ETag, If-Match, If-None-Match, 304, 412, 415.

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/service.hpp"

using json = nlohmann::json;
using namespace tmf::test;

namespace {

const std::string base = service::base_path();

struct fixture {
  temp_dir dir;
  service svc;
  http_client http;
  std::string id;
  std::string target;
  fixture() : svc(dir.path() + "/data"), http(svc.port()) {
    auto r = http.post_json(base + "/customer", sample_customer("Patchy"));
    REQUIRE(r.status == 201);
    id = json::parse(r.body)["id"];
    target = base + "/customer/" + id;
  }

  response json_patch(const std::string& body,
                      std::map<std::string, std::string> headers = {}) {
    headers["Content-Type"] = "application/json-patch+json";
    return http.request("PATCH", target, body, headers);
  }

  response get(std::map<std::string, std::string> headers = {}) {
    return http.request("GET", target, {}, headers);
  }
};

std::string error_message(const response& r) {
  auto body = json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["@type"] == "Error");
  CHECK(body["status"] == std::to_string(r.status));
  return body["message"].get<std::string>();
}

} // namespace

TEST_CASE("JSON Patch applies add, remove, replace, move, copy and test") {
  fixture f;
  auto r = f.json_patch(R"([
    {"op":"test","path":"/status","value":"initialized"},
    {"op":"replace","path":"/status","value":"Approved"},
    {"op":"add","path":"/characteristic/-","value":{"name":"n","value":1}},
    {"op":"add","path":"/characteristic/0","value":{"name":"m","value":0}},
    {"op":"copy","from":"/name","path":"/description"},
    {"op":"move","from":"/@baseType","path":"/x-moved"},
    {"op":"remove","path":"/contactMedium"}])");
  INFO(r.body);
  REQUIRE(r.status == 200);
  auto body = json::parse(r.body);
  CHECK(body["status"] == "Approved");
  CHECK(body["characteristic"].size() == 3);
  CHECK(body["characteristic"][0]["name"] == "m");
  CHECK(body["characteristic"][2]["name"] == "n");
  CHECK(body["description"] == "Patchy");
  CHECK(body["x-moved"] == "PartyRole");
  CHECK_FALSE(body.contains("@baseType"));
  CHECK_FALSE(body.contains("contactMedium"));
  CHECK(body["href"] == f.svc.url() + "/customer/" + f.id);
  CHECK(r.header("etag") == "\"2\"");
  CHECK(json::parse(f.get().body) == body);
}

TEST_CASE("a JSON Patch that does not apply answers 409 and changes "
          "nothing") {
  fixture f;
  auto before = f.get();
  for (auto patch :
       {R"([{"op":"replace","path":"/status","value":"Closed"},
            {"op":"test","path":"/name","value":"Other"}])",
        R"([{"op":"replace","path":"/status","value":"Closed"},
            {"op":"remove","path":"/nothing"}])",
        R"([{"op":"add","path":"/relatedParty/0/id","value":"x"}])"}) {
    INFO(patch);
    auto r = f.json_patch(patch);
    CHECK(r.status == 409);
    CHECK(error_message(r).rfind("the patch does not apply", 0) == 0);
    auto after = f.get();
    CHECK(after.body == before.body);
    CHECK(after.header("etag") == "\"1\"");
  }
}

TEST_CASE("a JSON Patch is checked like any update") {
  fixture f;
  auto before = f.get().body;
  auto message = [&](const std::string& patch) {
    auto r = f.json_patch(patch);
    INFO(patch);
    CHECK(r.status == 400);
    return error_message(r);
  };
  CHECK(message(R"([{"op":"remove","path":"/name"}])")
        == "name: required attribute is missing");
  CHECK(message(R"([{"op":"add","path":"/creditProfile","value":[
          {"creditProfileDate":"2024-01-01T00:00:00Z",
           "validFor":{"startDateTime":"2024-01-01T00:00:00Z"},
           "creditScore":7.2e2}]}])")
          .rfind("creditProfile[0].creditScore: expected integer", 0)
        == 0);
  CHECK(message(R"([{"op":"replace","path":"/id","value":"x"}])")
        == "the patch: operation 0: id: cannot be changed");
  CHECK(message(R"([{"op":"add","path":"/href","value":"x"}])")
        == "the patch: operation 0: href: cannot be changed");
  CHECK(message(R"({"status":"x"})")
            .rfind("the patch: a JSON Patch must be an array", 0)
        == 0);
  CHECK(message(R"([{"op":"delete","path":"/status"}])").find("not one of")
        != std::string::npos);
  CHECK(message("[").rfind("the body is not valid JSON", 0) == 0);
  CHECK(f.get().body == before);
}

TEST_CASE("PATCH answers 415 to other media types, listing the accepted "
          "ones") {
  fixture f;
  for (std::string type : {"text/plain", "application/xml", ""}) {
    auto r = f.http.request("PATCH", f.target, R"({"status":"x"})",
                            {{"Content-Type", type}});
    CHECK(r.status == 415);
    auto msg = error_message(r);
    for (auto accepted : {"application/merge-patch+json",
                          "application/json-patch+json", "application/json"})
      CHECK(msg.find(accepted) != std::string::npos);
    CHECK(r.header("accept-patch").find("application/json-patch+json")
          != std::string::npos);
  }
  auto merge = f.http.request("PATCH", f.target, R"({"status":"x"})",
                              {{"Content-Type", "application/json"}});
  CHECK(merge.status == 200);
}

TEST_CASE("every single-resource response carries the version's ETag") {
  fixture f;
  CHECK(f.get().header("etag") == "\"1\"");
  auto created = f.http.post_json(base + "/customer", sample_customer("E"));
  CHECK(created.header("etag") == "\"1\"");
  auto patched = f.http.merge_patch(f.target, R"({"status":"Approved"})");
  CHECK(patched.header("etag") == "\"2\"");
  CHECK(f.get().header("etag") == "\"2\"");
  CHECK(f.http.get(f.target + "?fields=name").header("etag") == "\"2\"");
  // A patch that changes nothing keeps the version.
  auto same = f.http.merge_patch(f.target, R"({"status":"Approved"})");
  CHECK(same.header("etag") == "\"2\"");
}

TEST_CASE("If-None-Match on GET answers 304 while the copy is current") {
  fixture f;
  auto first = f.get();
  auto tag = first.header("etag");
  for (std::string header :
       std::vector<std::string>{tag, "W/" + tag, "\"9\", " + tag, "*"}) {
    INFO(header);
    auto r = f.get({{"If-None-Match", header}});
    CHECK(r.status == 304);
    CHECK(r.body.empty());
    CHECK(r.header("etag") == tag);
  }
  CHECK(f.get({{"If-None-Match", "\"9\""}}).status == 200);
  REQUIRE(f.http.merge_patch(f.target, R"({"status":"Approved"})").status
          == 200);
  auto changed = f.get({{"If-None-Match", tag}});
  CHECK(changed.status == 200);
  CHECK(changed.header("etag") == "\"2\"");
}

TEST_CASE("If-Match on PATCH and DELETE answers 412 when stale") {
  fixture f;
  auto stale = f.http.request("PATCH", f.target, R"({"status":"A"})",
                              {{"Content-Type", "application/json"},
                               {"If-Match", "\"7\""}});
  CHECK(stale.status == 412);
  CHECK(error_message(stale).find("ETag \"1\"") != std::string::npos);
  CHECK(f.get().header("etag") == "\"1\"");
  auto weak = f.json_patch(R"([{"op":"replace","path":"/status","value":"A"}])",
                           {{"If-Match", "W/\"1\""}});
  CHECK(weak.status == 412);
  auto current = f.json_patch(
    R"([{"op":"replace","path":"/status","value":"A"}])",
    {{"If-Match", "\"1\""}});
  CHECK(current.status == 200);
  // The first writer with "1" won; a second one with "1" is stale now.
  auto second = f.http.request("PATCH", f.target, R"({"status":"B"})",
                               {{"Content-Type", "application/json"},
                                {"If-Match", "\"1\""}});
  CHECK(second.status == 412);
  CHECK(json::parse(f.get().body)["status"] == "A");
  auto del_stale = f.http.request("DELETE", f.target, {},
                                  {{"If-Match", "\"1\""}});
  CHECK(del_stale.status == 412);
  CHECK(f.get().status == 200);
  auto del = f.http.request("DELETE", f.target, {}, {{"If-Match", "\"2\""}});
  CHECK(del.status == 204);
  CHECK(f.get().status == 404);
}

TEST_CASE("the service serves its customer schema and its OpenAPI "
          "document") {
  fixture f;
  auto schema = f.http.get(base + "/customer/schema");
  REQUIRE(schema.status == 200);
  auto doc = json::parse(schema.body);
  CHECK(doc["id"] == f.svc.url() + "/customer/schema");
  CHECK(doc["title"] == "Customer");
  // What the service validates with: the posted sample names this schema.
  auto body = json::parse(sample_customer("Schema"));
  body["@schemaLocation"] = doc["id"];
  CHECK(f.http.post_json(base + "/customer", body.dump()).status == 201);
  for (auto& [name, value] : body.items())
    if (name.front() != '@')
      CHECK(doc["properties"].contains(name));
  auto api = f.http.get(base + "/api-docs");
  REQUIRE(api.status == 200);
  auto swagger = json::parse(api.body);
  CHECK(swagger["basePath"] == base);
  CHECK(swagger["host"] == "127.0.0.1:" + std::to_string(f.svc.port()));
  CHECK(swagger["paths"].contains("/customer/schema"));
  CHECK(f.http.request("DELETE", base + "/customer/schema").status == 405);
}

TEST_CASE("sixteen concurrent JSON Patch appends all land") {
  fixture f;
  constexpr int clients = 16;
  std::vector<int> statuses(clients);
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i)
    threads.emplace_back([&, i] {
      http_client own{f.svc.port()};
      auto r = own.request(
        "PATCH", f.target,
        R"([{"op":"add","path":"/characteristic/-","value":{"name":"c)"
          + std::to_string(i) + R"(","value":)" + std::to_string(i) + "}}]",
        {{"Content-Type", "application/json-patch+json"}});
      statuses[i] = r.status;
    });
  for (auto& t : threads)
    t.join();
  for (auto st : statuses)
    CHECK(st == 200);
  auto body = json::parse(f.get().body);
  std::set<std::string> names;
  for (auto& c : body["characteristic"])
    names.insert(c["name"].get<std::string>());
  CHECK(names.size() == clients + 1); // the sample's own "segment" too
  for (int i = 0; i < clients; ++i)
    CHECK(names.count("c" + std::to_string(i)) == 1);
  CHECK(f.get().header("etag") == "\"" + std::to_string(clients + 1) + "\"");
}
