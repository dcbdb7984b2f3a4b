// List queries answered from the secondary indexes, against the real
// tmf629d: counts, sorted pages, missing values, continuation tokens, the
// sort window, and an index added to the configuration.

#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include <signal.h>

#include <nlohmann/json.hpp>

#include "support/service_fixture.hpp"

using json = nlohmann::json;
using namespace tmf::test;

namespace {

const std::string base = service::base_path();

struct fixture : service_fixture {
  using service_fixture::service_fixture;

  std::string create(const json& body) {
    return post_customer(body)["id"];
  }

  /// The items of a list query (200 or 206) and its total.
  std::pair<json, uint64_t> list(const std::string& query) {
    auto r = http.get(base + "/customer?" + query);
    INFO(query << ": " << r.body);
    REQUIRE((r.status == 200 || r.status == 206));
    return {json::parse(r.body), std::stoull(r.header("x-total-count"))};
  }
};

/// rel -> target of a Link header.
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

json person(int i) {
  auto body = json::parse(sample_customer("P" + std::to_string(100 + i)));
  const char* statuses[] = {"Approved", "Pending", "Rejected"};
  if (i % 4 != 3)
    body["status"] = statuses[i % 3];
  else
    body.erase("status"); // some customers have none
  // Offsets differ: the text order is not the instant order.
  body["validFor"]["startDateTime"]
    = "2024-05-01T1" + std::to_string(i % 10) + ":00:00+0"
      + std::to_string(i % 7) + ":00";
  return body;
}

} // namespace

TEST_CASE("indexed filters count from the index and agree with a scan") {
  fixture f;
  for (int i = 0; i < 40; ++i)
    f.create(person(i));
  for (std::string status : {"Approved", "Pending", "Rejected", "None"}) {
    auto [items, total] = f.list("status=" + status + "&limit=3");
    // `.regex=...$` without `^` cannot use the index: a scan.
    auto [scanned, scan_total] = f.list("status.regex=" + status + "$");
    CHECK(total == scan_total);
    CHECK(items.size() == std::min<uint64_t>(3, total));
    for (auto& c : items)
      CHECK(c["status"] == status);
  }
  CHECK(f.list("status=Approved,Pending").second
        == f.list("status.regex=Approved$").second
             + f.list("status.regex=Pending$").second);
  CHECK(f.list("name.regex=^P1").second == 40);
  CHECK(f.list("name.regex=^P10").second == 10);
  CHECK(f.list("name.regex=^P10&limit=2").first.size() == 2);
  CHECK(f.list("name.gte=P120&name.lt=P130").second == 10);
  CHECK(f.list("validFor.startDateTime.lt=2024-05-01T10:00:00Z").second
        == f.list("validFor.startDateTime.lt=2024-05-01T10:00:00Z&"
                  "name.ne=x")
             .second);
}

TEST_CASE("sorted pages walk the index, missing values last") {
  fixture f;
  std::vector<json> all;
  for (int i = 0; i < 30; ++i) {
    auto body = person(i);
    body["id"] = f.create(body);
    all.push_back(body);
  }
  auto expected = [&](bool descending) {
    auto docs = all;
    std::stable_sort(docs.begin(), docs.end(), [&](auto& a, auto& b) {
      bool ha = a.contains("status");
      bool hb = b.contains("status");
      if (ha != hb)
        return ha; // missing last
      if (ha && a["status"] != b["status"])
        return descending ? a["status"] > b["status"]
                          : a["status"] < b["status"];
      return a["id"] < b["id"];
    });
    std::vector<std::string> ids;
    for (auto& d : docs)
      ids.push_back(d["id"]);
    return ids;
  };
  for (bool descending : {false, true}) {
    std::vector<std::string> got;
    for (int offset = 0; offset < 30; offset += 7) {
      auto [items, total] = f.list(std::string{"sort="}
                                   + (descending ? "-" : "") + "status&limit=7"
                                   + "&offset=" + std::to_string(offset));
      CHECK(total == 30);
      for (auto& c : items)
        got.push_back(c["id"]);
    }
    CHECK(got == expected(descending));
  }
  // Date-times sort as instants: 1H:00+0K:00 is hour H+10-K in UTC.
  auto [by_start, total] = f.list("sort=validFor.startDateTime&limit=30");
  REQUIRE(by_start.size() == 30);
  auto utc_hour = [](const json& c) {
    auto t = c["validFor"]["startDateTime"].get<std::string>();
    return (t[12] - '0') + 10 - (t[21] - '0');
  };
  for (size_t i = 1; i < by_start.size(); ++i) {
    auto a = std::make_pair(utc_hour(by_start[i - 1]),
                            by_start[i - 1]["id"].get<std::string>());
    auto b = std::make_pair(utc_hour(by_start[i]),
                            by_start[i]["id"].get<std::string>());
    CHECK(a < b);
  }
  auto [names, n] = f.list("sort=-name&limit=3");
  CHECK(names[0]["name"] == "P129");
  CHECK(names[2]["name"] == "P127");
}

TEST_CASE("next links carry a cursor, and following them pages exactly") {
  fixture f;
  std::set<std::string> created;
  for (int i = 0; i < 26; ++i)
    created.insert(f.create(person(i)));
  for (std::string query :
       {"", "sort=name", "sort=-name", "status=Approved",
        "sort=-status&status=Pending", "sort=id", "sort=-id"}) {
    INFO(query);
    auto first = f.http.get(base + "/customer?" + query + "&limit=4");
    REQUIRE((first.status == 200 || first.status == 206));
    auto total = std::stoull(first.header("x-total-count"));
    std::multiset<std::string> seen;
    for (auto& c : json::parse(first.body))
      seen.insert(c["id"]);
    auto next = links(first.header("link"))["next"];
    int pages = 1;
    while (!next.empty() && pages < 20) {
      CHECK(next.find("cursor=") != std::string::npos);
      auto r = f.http.get(next.substr(next.find(base)));
      REQUIRE((r.status == 200 || r.status == 206));
      CHECK(std::stoull(r.header("x-total-count")) == total);
      for (auto& c : json::parse(r.body))
        seen.insert(c["id"]);
      next = links(r.header("link"))["next"];
      ++pages;
    }
    CHECK(seen.size() == total);
    CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == total);
  }
  // The cursor, not the offset, places the next page: a customer created
  // before the current position shifts offsets but not the cursor.
  auto page1 = f.http.get(base + "/customer?sort=name&limit=4");
  auto last = json::parse(page1.body)[3]["name"].get<std::string>();
  auto link = links(page1.header("link"))["next"];
  f.create(json::parse(sample_customer("A-first")));
  auto page2 = json::parse(f.http.get(link.substr(link.find(base))).body);
  CHECK(page2[0]["name"] > last);
  auto by_offset = json::parse(
    f.http.get(base + "/customer?sort=name&limit=4&offset=4").body);
  CHECK(by_offset[0]["name"] == last); // what an offset alone would give
  auto r = f.http.get(base + "/customer?sort=name&limit=4");
  auto next = links(r.header("link"))["next"];
  auto cursor = next.substr(next.find("cursor=") + 7);
  auto other = f.http.get(base + "/customer?sort=-name&limit=4&cursor="
                          + cursor);
  CHECK(other.status == 400);
  CHECK(json::parse(other.body)["message"].get<std::string>().rfind(
          "cursor: ", 0)
        == 0);
  CHECK(f.http.get(base + "/customer?sort=name&cursor=%21%21").status == 400);
}

TEST_CASE("a sort no index walks keeps at most max-sort-window entries") {
  fixture f{{"--tmf.max-sort-window=10"}};
  for (int i = 0; i < 12; ++i)
    f.create(person(i));
  auto [items, total] = f.list("sort=-engagedParty.name&limit=5&offset=5");
  CHECK(total == 12);
  CHECK(items[0]["engagedParty"]["name"] == "P106");
  auto big = f.http.get(base + "/customer?sort=engagedParty.name&offset=8&"
                               "limit=5");
  CHECK(big.status == 400);
  CHECK(json::parse(big.body)["message"].get<std::string>().find(
          "max-sort-window")
        != std::string::npos);
  // Sorts an index walks have no such bound.
  CHECK(f.list("sort=name&offset=8&limit=5").first.size() == 4);
}

TEST_CASE("an index added to the configuration is built at start-up") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  std::vector<std::string> low;
  {
    service svc{data};
    http_client http{svc.port()};
    for (int i = 0; i < 30; ++i) {
      auto body = person(i);
      body["creditProfile"] = json::parse(
        R"([{"creditProfileDate":"2024-01-01T00:00:00Z",
             "validFor":{"startDateTime":"2024-01-01T00:00:00Z"},
             "creditScore":)"
        + std::to_string(i * 40) + "}]");
      auto r = http.post_json(base + "/customer", body.dump());
      REQUIRE(r.status == 201);
      if (i * 40 < 500)
        low.push_back(json::parse(r.body)["id"]);
    }
    REQUIRE(svc.stop(SIGTERM) != -1);
  }
  {
    service svc{data, {"--tmf.indexes=creditProfile.creditScore",
                       "--tmf.log-level=info"}};
    http_client http{svc.port()};
    // Reads go on while it builds; then the index answers.
    bool ready = false;
    for (int i = 0; i < 200 && !ready; ++i) {
      ready = svc.log().find("creditProfile.creditScore is ready")
              != std::string::npos;
      if (!ready)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(ready);
    CHECK(svc.log().find("building creditProfile.creditScore over 30 "
                         "customers")
          != std::string::npos);
    auto r = http.get(base + "/customer?creditProfile.creditScore<500&"
                             "limit=100");
    REQUIRE(r.status == 200);
    std::vector<std::string> ids;
    for (auto& c : json::parse(r.body))
      ids.push_back(c["id"]);
    std::sort(ids.begin(), ids.end());
    std::sort(low.begin(), low.end());
    CHECK(ids == low);
    REQUIRE(svc.stop(SIGTERM) != -1);
  }
  std::string out;
  CHECK(run_tmf629d({"verify", "--tmf.data-dir=" + data}, out) == 0);
  CHECK(out.find("0 problem(s)") != std::string::npos);
  // Without it again, its entries go.
  service svc{data, {"--tmf.log-level=info"}};
  bool removed = false;
  for (int i = 0; i < 200 && !removed; ++i) {
    removed = svc.log().find("removed 30 entries") != std::string::npos;
    if (!removed)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(removed);
}

TEST_CASE("an indexed filter sorted by another index gives the same pages "
          "whether it walks or keeps a top-k") {
  fixture f;
  std::vector<std::string> approved;
  for (int i = 0; i < 40; ++i) {
    auto body = person(i);
    f.create(body);
    if (body.value("status", "") == "Approved")
      approved.push_back(body["name"]);
  }
  std::sort(approved.rbegin(), approved.rend());
  // limit=1 walks the name index checking each customer; limit=10 reads
  // the matches and keeps the best (the reader weighs both).
  for (int limit : {1, 10}) {
    std::vector<std::string> got;
    for (size_t offset = 0; offset < approved.size(); offset += limit) {
      auto [items, total] = f.list("status=Approved&sort=-name&limit="
                                   + std::to_string(limit) + "&offset="
                                   + std::to_string(offset));
      CHECK(total == approved.size());
      for (auto& c : items)
        got.push_back(c["name"]);
    }
    CHECK(got == approved);
  }
}
