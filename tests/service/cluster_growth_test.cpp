// A local cluster growing, and the event hub across its nodes (real
// tmf629d processes started by scripts/cluster.sh on 127.0.0.1, data under
// a temporary folder, always stopped at the end): growing from two nodes
// to three under a stream of creates loses and duplicates no customer; a
// subscription made on any node reaches every node, survives a node's
// absence, and receives the events of every node's shards.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/cluster.hpp"
#include "support/http_client.hpp"
#include "support/listener.hpp"
#include "support/samples.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;
using namespace tmf::test;

namespace {

const std::string base = "/tmf-api/customerManagement/v4";

/// Every customer id a list through `port` returns, page by page (the
/// cluster caps offset + limit at 1000, so at most that many); the
/// X-Total-Count of the first page in `total`.
std::vector<std::string> list_ids(uint16_t port, size_t& total) {
  http_client http{port};
  std::vector<std::string> ids;
  total = 0;
  for (size_t offset = 0; offset < 1000; offset += 200) {
    auto r = http.get(base + "/customer?fields=id&limit=200&offset="
                      + std::to_string(offset));
    INFO("list at offset " << offset << ": " << r.status << " " << r.body);
    REQUIRE((r.status == 200 || r.status == 206));
    if (offset == 0)
      total = std::stoul(r.header("x-total-count"));
    auto page = json::parse(r.body);
    for (const auto& item : page)
      ids.push_back(item.at("id").get<std::string>());
    if (page.size() < 200)
      break;
  }
  return ids;
}

/// The subscription ids `GET /hub` lists through `port`.
std::set<std::string> hub_ids(uint16_t port) {
  http_client http{port};
  auto r = http.get(base + "/hub");
  std::set<std::string> out;
  if (r.status != 200)
    return out;
  for (const auto& sub : json::parse(r.body))
    out.insert(sub.at("id").get<std::string>());
  return out;
}

std::string subscribe(uint16_t port, const std::string& callback,
                      const std::string& query) {
  http_client http{port};
  auto r = http.post_json(base + "/hub",
                          json{{"callback", callback}, {"query", query}}
                            .dump());
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == 201);
  return json::parse(r.body).at("id").get<std::string>();
}

} // namespace

TEST_CASE("growing from two nodes to three under a stream of creates loses "
          "and duplicates no customer") {
  local_cluster c{2};
  std::mutex mtx;
  std::vector<std::string> acked;
  std::map<int, int> statuses;
  std::atomic<bool> writing{true};
  // The stream goes to the first two nodes (restarted during the growth).
  auto first = c.nodes();
  std::thread writer{[&, first] {
    std::mt19937 rng{7};
    std::map<std::string, std::unique_ptr<http_client>> conns;
    for (int i = 0; writing; ++i) {
      const auto& nd = first[rng() % first.size()];
      auto& conn = conns[nd.name];
      if (!conn)
        conn = std::make_unique<http_client>(nd.port);
      auto r = conn->post_json(base + "/customer",
                               sample_customer("Grow " + std::to_string(i)));
      std::lock_guard<std::mutex> guard{mtx};
      ++statuses[r.status];
      if (r.status == 201)
        acked.push_back(json::parse(r.body).at("id").get<std::string>());
      else
        std::this_thread::sleep_for(20ms); // 503 while moving, or a restart
      std::this_thread::sleep_for(5ms);    // a light stream
    }
  }};
  std::this_thread::sleep_for(1s);
  c.grow();
  std::this_thread::sleep_for(1s);
  writing = false;
  writer.join();

  INFO("statuses during the growth: " << [&] {
    std::string out;
    for (auto [st, n] : statuses)
      out += std::to_string(st) + "x" + std::to_string(n) + " ";
    return out;
  }());
  // Only creates and refusals while shards moved or nodes restarted (a
  // connection closed by a restarting node shows as status 0).
  for (auto [st, n] : statuses)
    CHECK((st == 201 || st == 503 || st == 0));
  REQUIRE(acked.size() >= 50);
  REQUIRE(acked.size() < 1000); // lists reach 1000 in a cluster
  REQUIRE(c.nodes().size() == 3);
  std::set<std::string> unique_acked{acked.begin(), acked.end()};
  REQUIRE(unique_acked.size() == acked.size());

  // Every acknowledged customer exactly once, through every node, and
  // served by its owner under the new membership.
  size_t moved = 0;
  for (const auto& nd : c.nodes()) {
    size_t total = 0;
    auto listed = list_ids(nd.port, total);
    std::multiset<std::string> seen{listed.begin(), listed.end()};
    CHECK(total == acked.size());
    CHECK(listed.size() == acked.size());
    for (const auto& id : acked)
      CHECK(seen.count(id) == 1);
    http_client http{nd.port};
    for (const auto& id : acked) {
      auto r = http.get(base + "/customer/" + id);
      INFO("GET " << id << " via " << nd.name << ": " << r.status);
      REQUIRE(r.status == 200);
      CHECK(r.header("x-served-by") == c.owner_of(id));
      if (nd.name == "n1" && c.owner_of(id) == "n3")
        ++moved;
    }
  }
  // Some customers made before the growth now live on the new node.
  CHECK(moved > 0);
  CHECK(occurrences(c.log("n3"), "cluster: took over") == 1);
}

TEST_CASE("a subscription made on any node reaches every node and receives "
          "the events of every node's shards") {
  test_listener events;
  local_cluster c{3};
  auto sub = subscribe(c.node("n1").port, events.url("/events"),
                       "eventType=CustomerCreateEvent");
  for (const auto& nd : c.nodes())
    CHECK(wait_until([&] { return hub_ids(nd.port).count(sub) == 1; }, 5s));

  // Creates through every node: each owns what it creates and delivers
  // its own events.
  std::set<std::string> created;
  std::set<std::string> owners;
  for (const auto& nd : c.nodes()) {
    http_client http{nd.port};
    for (int i = 0; i < 5; ++i) {
      auto r = http.post_json(base + "/customer",
                              sample_customer("Event " + nd.name + " "
                                              + std::to_string(i)));
      REQUIRE(r.status == 201);
      auto id = json::parse(r.body).at("id").get<std::string>();
      created.insert(id);
      owners.insert(c.owner_of(id));
    }
  }
  CHECK(owners.size() == 3);
  REQUIRE(events.wait_for(created.size(), 10s));
  std::this_thread::sleep_for(300ms); // nothing more should come
  std::set<std::string> delivered;
  std::set<std::string> event_ids;
  for (const auto& req : events.received()) {
    auto ev = json::parse(req.body);
    CHECK(ev.at("eventType") == "CustomerCreateEvent");
    delivered.insert(ev.at("event").at("customer").at("id").get<std::string>());
    event_ids.insert(ev.at("eventId").get<std::string>());
  }
  CHECK(delivered == created);
  CHECK(event_ids.size() == events.received().size());

  // A delete on another node deletes it everywhere.
  {
    http_client http{c.node("n2").port};
    REQUIRE(http.request("DELETE", base + "/hub/" + sub).status == 204);
  }
  for (const auto& nd : c.nodes())
    CHECK(wait_until([&] { return hub_ids(nd.port).count(sub) == 0; }, 5s));
}

TEST_CASE("a node that was down catches up with the subscriptions made and "
          "deleted meanwhile") {
  test_listener events;
  local_cluster c{3};
  auto old_sub = subscribe(c.node("n1").port, events.url("/old"), "");
  REQUIRE(wait_until(
    [&] { return hub_ids(c.node("n3").port).count(old_sub) == 1; }, 5s));
  c.signal("n3", SIGKILL);
  REQUIRE(c.wait_exit("n3", 5s));
  {
    http_client http{c.node("n2").port};
    REQUIRE(http.request("DELETE", base + "/hub/" + old_sub).status == 204);
  }
  auto new_sub = subscribe(c.node("n1").port, events.url("/new"),
                           "eventType=CustomerCreateEvent");
  c.restart("n3");
  CHECK(wait_until(
    [&] {
      auto ids = hub_ids(c.node("n3").port);
      return ids.count(new_sub) == 1 && ids.count(old_sub) == 0;
    },
    5s));
  // And the restarted node delivers its own events to the new one.
  http_client http{c.node("n3").port};
  auto r = http.post_json(base + "/customer", sample_customer("After"));
  REQUIRE(r.status == 201);
  auto id = json::parse(r.body).at("id").get<std::string>();
  REQUIRE(events.wait_for(1, 10s));
  auto got = events.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].target.find("/new") != std::string::npos);
  CHECK(json::parse(got[0].body)["event"]["customer"]["id"] == id);
}
