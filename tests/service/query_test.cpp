// TMF630 list queries against the real tmf629d: typed comparisons,
// operators, decoding, errors naming the parameter, exact types of posted
// attributes, paging headers.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <tuple>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/service_fixture.hpp"

using json = nlohmann::json;
using namespace tmf::test;

namespace {

const std::string base = service::base_path();

struct fixture : service_fixture {
  using service_fixture::service_fixture;

  /// Creates `body` and returns its id.
  std::string create_body(const json& body) {
    return post_customer(body)["id"];
  }

  std::string create(const std::string& name) {
    return create_body(json::parse(sample_customer(name)));
  }

  /// The sorted ids a list query answers (200 or 206).
  std::vector<std::string> ids(const std::string& query) {
    auto r = http.get(base + "/customer?" + query);
    INFO(query << ": " << r.body);
    REQUIRE((r.status == 200 || r.status == 206));
    std::vector<std::string> out;
    for (auto& item : json::parse(r.body))
      out.push_back(item["id"]);
    std::sort(out.begin(), out.end());
    return out;
  }
};

/// Checks the TMF Error shape and returns the message.
std::string error_message(const response& r) {
  auto body = json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["@type"] == "Error");
  CHECK(body["status"] == std::to_string(r.status));
  REQUIRE(body["message"].is_string());
  return body["message"].get<std::string>();
}

std::vector<std::string> sorted(std::vector<std::string> xs) {
  std::sort(xs.begin(), xs.end());
  return xs;
}

json with(const std::string& name, const std::string& path, json value) {
  auto body = json::parse(sample_customer(name));
  body[json::json_pointer(path)] = std::move(value);
  return body;
}

} // namespace

TEST_CASE("numbers compare numerically and date-times as instants") {
  fixture f;
  auto low = f.create_body(
    with("Low", "/creditProfile",
         json::parse(R"([{"creditProfileDate":"2024-01-01T00:00:00Z",
           "validFor":{"startDateTime":"2024-01-01T00:00:00Z"},
           "creditScore":90}])")));
  auto high = f.create_body(
    with("High", "/creditProfile",
         json::parse(R"([{"creditProfileDate":"2024-01-01T00:00:00Z",
           "validFor":{"startDateTime":"2024-01-01T00:00:00Z"},
           "creditScore":500}])")));
  // As text, "90" > "500"; as numbers it is the other way round.
  CHECK(f.ids("creditProfile.creditScore.gte=100")
        == std::vector<std::string>{high});
  CHECK(f.ids("creditProfile.creditScore>=500")
        == std::vector<std::string>{high});
  CHECK(f.ids("creditProfile.creditScore>90")
        == std::vector<std::string>{high});
  CHECK(f.ids("creditProfile.creditScore<500")
        == std::vector<std::string>{low});
  CHECK(f.ids("creditProfile.creditScore<=500") == sorted({low, high}));
  CHECK(f.ids("creditProfile.creditScore%3E=100")
        == std::vector<std::string>{high});
  auto early = f.create_body(with("Early", "/validFor/startDateTime",
                                  "2024-05-01T12:00:00+02:00"));
  auto late = f.create_body(with("Late", "/validFor/startDateTime",
                                 "2024-05-01T11:00:00Z"));
  // 12:00+02:00 is 10:00Z: before 11:00Z although its text sorts after.
  CHECK(f.ids("validFor.startDateTime.lt=2024-05-01T10:30:00Z&"
              "validFor.startDateTime.gt=2024-04-30T00:00:00Z")
        == std::vector<std::string>{early});
  CHECK(f.ids("validFor.startDateTime=2024-05-01T10:00:00.000Z")
        == std::vector<std::string>{early});
  CHECK(f.ids("validFor.startDateTime>2024-05-01T12:30:00%2B02:00")
        == std::vector<std::string>{late});
  CHECK(f.ids("validFor.startDateTime.gte=2024-05-01T00:00:00Z&"
              "validFor.startDateTime.lte=2024-05-01T23:59:59Z")
        == sorted({early, late}));
}

TEST_CASE("regex searches, anchors ask for the whole value") {
  fixture f;
  auto moon = f.create("Moon Football Club");
  auto sun = f.create("Sun Rugby Club");
  CHECK(f.ids("name.regex=Football") == std::vector<std::string>{moon});
  CHECK(f.ids("name.regex=Club") == sorted({moon, sun}));
  CHECK(f.ids("name.regex=%5EMoon") == std::vector<std::string>{moon});
  CHECK(f.ids("name.regex=^Sun").size() == 1);
  CHECK(f.ids("name.regex=^Club").empty());
  CHECK(f.ids("name.regex=^Moon%20Football%20Club$")
        == std::vector<std::string>{moon});
  CHECK(f.ids("name.regex=^Moon$").empty());
  auto bad = f.http.get(base + "/customer?name.regex=(unclosed");
  CHECK(bad.status == 400);
  CHECK(error_message(bad).rfind("name.regex: invalid regular expression", 0)
        == 0);
}

TEST_CASE("values are decoded once: %2C is a comma inside a value") {
  fixture f;
  auto smith = f.create("Smith, John");
  auto doe = f.create("Doe");
  f.create("Smith");
  CHECK(f.ids("name=Smith%2C%20John") == std::vector<std::string>{smith});
  CHECK(f.ids("name=Smith%2C%20John,Doe") == sorted({smith, doe}));
  CHECK(f.ids("name=Smith%2C%20John&limit=5&offset=0")
        == std::vector<std::string>{smith});
}

TEST_CASE("bad filters answer 400 naming the parameter") {
  fixture f;
  f.create("Any");
  auto message = [&](const std::string& query) {
    auto r = f.http.get(base + "/customer?" + query);
    INFO(query);
    CHECK(r.status == 400);
    return error_message(r);
  };
  CHECK(message("name.foo=x").rfind("name.foo: unknown operator \"foo\"", 0)
        == 0);
  CHECK(message("=x") == "filter: the attribute path is empty");
  CHECK(message(".eq=x") == "filter: the attribute path is empty");
  CHECK(message("creditProfile.creditScore.gt=high")
        == "creditProfile.creditScore.gt: expected a number, got \"high\"");
  CHECK(message("validFor.startDateTime%3E=2024-13-01")
            .rfind("validFor.startDateTime>=: expected an RFC 3339", 0)
        == 0);
  CHECK(message("name.regex=a(").rfind("name.regex: ", 0) == 0);
}

TEST_CASE("every route refuses a malformed query string the same way") {
  fixture f;
  auto id = f.create("Query");
  auto target = base + "/customer/" + id;
  std::vector<response> answers{
    f.http.get(base + "/customer?a=%zz"),
    f.http.get(target + "?a=%zz"),
    f.http.request("DELETE", target + "?a=%zz"),
    f.http.request("PATCH", target + "?a=%zz", R"({"status":"x"})",
                   {{"Content-Type", "application/merge-patch+json"}}),
    f.http.post_json(base + "/customer?a=%zz", sample_customer("Other")),
    f.http.get(base + "/hub?a=%zz"),
    f.http.get(base + "/customer/schema?a=%zz"),
  };
  for (const auto& r : answers) {
    CHECK(r.status == 400);
    CHECK(error_message(r)
          == "query: malformed percent-escape \"%zz\" in the query string");
  }
  // Nothing was deleted, patched or created.
  CHECK(f.http.get(target).status == 200);
  CHECK(json::parse(f.http.get(target).body)["status"] == "initialized");
  CHECK(f.ids("").size() == 1);
}

TEST_CASE("an integer attribute must be an integer in the JSON text") {
  fixture f;
  auto profile = [](const std::string& score) {
    return R"({"name":"Int","engagedParty":{"id":"p","@referredType":"O"},)"
           R"("creditProfile":[{"creditProfileDate":"2024-01-01T00:00:00Z",)"
           R"("validFor":{"startDateTime":"2024-01-01T00:00:00Z"},)"
           R"("creditScore":)"
           + score + "}]}";
  };
  for (auto spelling : {"7.2e2", "1E2", "720.0", "720.5", "-1e0"}) {
    INFO(spelling);
    auto r = f.http.post_json(base + "/customer", profile(spelling));
    CHECK(r.status == 400);
    CHECK(error_message(r).rfind("creditProfile[0].creditScore: expected "
                                 "integer",
                                 0)
          == 0);
  }
  auto ok = f.http.post_json(base + "/customer", profile("720"));
  REQUIRE(ok.status == 201);
  CHECK(ok.body.find(R"("creditScore":720})") != std::string::npos);
  auto id = json::parse(ok.body)["id"].get<std::string>();
  auto patched = f.http.merge_patch(
    base + "/customer/" + id,
    R"({"creditProfile":[{"creditProfileDate":"2024-01-01T00:00:00Z",)"
    R"("validFor":{"startDateTime":"2024-01-01T00:00:00Z"},)"
    R"("creditScore":7.2e2}]})");
  CHECK(patched.status == 400);
  CHECK(error_message(patched).find("creditScore") != std::string::npos);
  CHECK(f.http.get(base + "/customer/" + id).body == ok.body);
}

TEST_CASE("format uri attributes must be absolute URIs") {
  fixture f;
  auto body = json::parse(sample_customer("Uri"));
  body["@schemaLocation"] = "customer/schema";
  auto r = f.http.post_json(base + "/customer", body.dump());
  CHECK(r.status == 400);
  CHECK(error_message(r).rfind("@schemaLocation: expected URI", 0) == 0);
  body["@schemaLocation"] = f.svc.url() + "/customer/schema";
  CHECK(f.http.post_json(base + "/customer", body.dump()).status == 201);
}

TEST_CASE("fields= selects dotted paths on lists and single resources") {
  fixture f;
  auto id = f.create("Selected");
  auto one = json::parse(f.http.get(base + "/customer/" + id
                                    + "?fields=engagedParty.id,"
                                      "contactMedium.characteristic."
                                      "emailAddress,unknown.name")
                           .body);
  auto list = json::parse(f.http.get(base + "/customer?fields=engagedParty."
                                            "id,contactMedium.characteristic."
                                            "emailAddress,unknown.name")
                            .body);
  REQUIRE(list.size() == 1);
  CHECK(one == list[0]);
  CHECK(one["engagedParty"] == json{{"id", "party-Selected"}});
  CHECK(one["contactMedium"]
        == json::parse(R"([{"characteristic":)"
                       R"({"emailAddress":"info@example.com"}}])"));
  CHECK(one.size() == 4); // id, href and the two found attributes
}

namespace {

/// rel -> target of every link in a Link header.
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

TEST_CASE("lists count in headers and answer 206 only for a paged subset") {
  fixture f;
  for (int i = 0; i < 5; ++i)
    f.create("Count " + std::to_string(i));
  auto all = f.http.get(base + "/customer");
  CHECK(all.status == 200);
  CHECK(all.header("x-total-count") == "5");
  CHECK(all.header("x-result-count") == "5");
  auto page = f.http.get(base + "/customer?limit=2&name.regex=Count");
  CHECK(page.status == 206);
  CHECK(page.header("x-total-count") == "5");
  CHECK(page.header("x-result-count") == "2");
  CHECK(f.http.get(base + "/customer?limit=5").status == 200);
  CHECK(f.http.get(base + "/customer?offset=5").status == 206);
  auto none = f.http.get(base + "/customer?name=None&limit=2");
  CHECK(none.status == 200);
  CHECK(none.header("x-total-count") == "0");
  CHECK(none.header("x-result-count") == "0");
}

TEST_CASE("partial-content=false answers 200 to every list") {
  fixture f{{"--tmf.partial-content=false"}};
  for (int i = 0; i < 3; ++i)
    f.create("Whole " + std::to_string(i));
  auto page = f.http.get(base + "/customer?limit=1");
  CHECK(page.status == 200);
  CHECK(page.header("x-total-count") == "3");
  CHECK(page.header("x-result-count") == "1");
  CHECK(links(page.header("link")).count("next") == 1);
  std::string out;
  CHECK(run_tmf629d({"--tmf.partial-content=maybe",
                     "--tmf.data-dir=" + f.dir.path() + "/other"},
                    out)
        == 1);
  CHECK(out.find("tmf.partial-content: 'maybe' is not one of true, false")
        != std::string::npos);
}

TEST_CASE("Link is absolute and keeps the other parameters") {
  fixture f;
  for (int i = 0; i < 7; ++i)
    f.create("Link " + std::to_string(i));
  auto r = f.http.get(base + "/customer?name.regex=Link&sort=-name&"
                             "fields=name&offset=2&limit=2");
  REQUIRE(r.status == 206);
  auto l = links(r.header("link"));
  auto list = f.svc.url() + "/customer?name.regex=Link&sort=-name&"
                            "fields=name&";
  CHECK(l["self"] == list + "offset=2&limit=2");
  CHECK(l["first"] == list + "offset=0&limit=2");
  CHECK(l["prev"] == list + "offset=0&limit=2");
  CHECK(l["next"].rfind(list + "offset=4&limit=2", 0) == 0);
  CHECK(l["last"] == list + "offset=6&limit=2");
  // Following the links gives the pages they name.
  auto next = f.http.get(l["next"].substr(l["next"].find(base)));
  CHECK(next.status == 206);
  auto names = json::parse(next.body);
  REQUIRE(names.size() == 2);
  CHECK(names[0]["name"] == "Link 2");
  CHECK(names[1]["name"] == "Link 1");
}

TEST_CASE("paging through all pages returns every match exactly once") {
  fixture f;
  std::set<std::string> created;
  for (int i = 0; i < 23; ++i) {
    auto name = "Pager " + std::to_string(i % 4); // ties in the sort
    created.insert(f.create(name));
  }
  f.create("Other");
  for (std::string query :
       {"name.regex=^Pager", "name.regex=^Pager&sort=name",
        "name.regex=^Pager&sort=-name", "sort=-name&name.ne=Other",
        "status=initialized&name.regex=Pager&sort=validFor.startDateTime"}) {
    INFO(query);
    std::multiset<std::string> seen;
    std::string target = base + "/customer?" + query + "&limit=5";
    for (int pages = 0; !target.empty() && pages < 20; ++pages) {
      auto r = f.http.get(target);
      REQUIRE((r.status == 200 || r.status == 206));
      CHECK(r.header("x-total-count") == "23");
      for (auto& item : json::parse(r.body))
        seen.insert(item["id"].get<std::string>());
      auto l = links(r.header("link"));
      target = l.count("next") ? l["next"].substr(l["next"].find(base)) : "";
    }
    CHECK(seen.size() == 23);
    CHECK(std::set<std::string>(seen.begin(), seen.end()) == created);
  }
}

TEST_CASE("paging boundaries and sorts on several keys") {
  fixture f;
  for (int i = 0; i < 7; ++i) {
    auto body = json::parse(sample_customer("B" + std::to_string(i)));
    body["status"] = i % 2 ? "odd" : "even";
    f.create_body(body);
  }
  auto page = [&](const std::string& query) {
    auto r = f.http.get(base + "/customer?" + query);
    INFO(query << ": " << r.body);
    REQUIRE((r.status == 200 || r.status == 206));
    std::vector<std::string> names;
    for (auto& c : json::parse(r.body))
      names.push_back(c["name"]);
    return std::make_tuple(r.status, names, r.header("x-total-count"),
                           links(r.header("link")));
  };
  auto [st1, last, total1, l1] = page("sort=name&offset=5&limit=5");
  CHECK(st1 == 206);
  CHECK(last == std::vector<std::string>{"B5", "B6"});
  CHECK(l1.count("next") == 0);
  auto [st2, empty, total2, l2] = page("sort=name&offset=7");
  CHECK(st2 == 206);
  CHECK(empty.empty());
  CHECK(total2 == "7");
  auto [st3, beyond, total3, l3] = page("offset=100&limit=5");
  CHECK(beyond.empty());
  CHECK(l3["last"].find("offset=5&limit=5") != std::string::npos);
  auto [st4, none, total4, l4] = page("limit=0");
  CHECK(none.empty());
  CHECK(total4 == "7");
  auto [st5, whole, total5, l5] = page("sort=name&offset=0&limit=7");
  CHECK(st5 == 200); // the page is everything
  CHECK(whole.size() == 7);
  auto [st6, two_keys, total6, l6] = page("sort=status,-name");
  CHECK(two_keys == std::vector<std::string>{"B6", "B4", "B2", "B0", "B5",
                                             "B3", "B1"});
  auto [st7, paged, total7, l7] = page("sort=status,-name&offset=3&limit=2");
  CHECK(paged == std::vector<std::string>{"B0", "B5"});
  // A sort no index gives (a bounded top-k): missing values last too.
  for (int i = 0; i < 3; ++i) {
    auto body = json::parse(sample_customer("X" + std::to_string(i)));
    body["x-rank"] = 10 - i;
    f.create_body(body);
  }
  // The customers without x-rank tie: they come last, by id.
  auto by_id = json::parse(f.http.get(base + "/customer?sort=id").body);
  std::vector<std::string> missing;
  for (auto& c : by_id)
    if (!c.contains("x-rank"))
      missing.push_back(c["name"]);
  auto [st8, ranked, total8, l8] = page("sort=x-rank&limit=10");
  std::vector<std::string> up{"X2", "X1", "X0"};
  up.insert(up.end(), missing.begin(), missing.end());
  CHECK(ranked == up);
  auto [st9, down, total9, l9] = page("sort=-x-rank&limit=10");
  std::vector<std::string> reversed{"X0", "X1", "X2"};
  reversed.insert(reversed.end(), missing.begin(), missing.end());
  CHECK(down == reversed);
}
