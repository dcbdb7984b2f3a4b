// The event hub end to end: the real tmf629d delivering to a listener in
// the test process on 127.0.0.1.

#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>

#include <nlohmann/json.hpp>

#include "domain/events.hpp"
#include "support/listener.hpp"
#include "support/service.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;
using namespace tmf::test;

namespace {

const std::string base = service::base_path();

/// Fast retries so that failure paths finish in a second.
const std::vector<std::string> fast_hub{
  "--tmf.hub-first-retry=100ms", "--tmf.hub-max-retry=400ms",
  "--tmf.hub-delivery-timeout=400ms", "--tmf.hub-connect-timeout=400ms"};

struct fixture {
  temp_dir dir;
  std::unique_ptr<service> svc;
  std::unique_ptr<http_client> http;

  explicit fixture(std::vector<std::string> args = fast_hub) {
    start(std::move(args));
  }

  void start(std::vector<std::string> args = fast_hub) {
    svc = std::make_unique<service>(dir.path() + "/data", std::move(args));
    http = std::make_unique<http_client>(svc->port());
  }

  std::string subscribe(const std::string& callback,
                        const std::string& query = "") {
    auto r = http->post_json(base + "/hub",
                             json{{"callback", callback}, {"query", query}}
                               .dump());
    REQUIRE(r.status == 201);
    auto body = json::parse(r.body);
    CHECK(r.header("location") == svc->url() + "/hub/"
                                    + body["id"].get<std::string>());
    return body["id"];
  }

  std::string create(const std::string& name,
                     std::map<std::string, std::string> headers = {}) {
    headers["Content-Type"] = "application/json";
    auto r = http->request("POST", base + "/customer", sample_customer(name),
                           headers);
    REQUIRE(r.status == 201);
    return json::parse(r.body)["id"];
  }

  void patch(const std::string& id, const std::string& body) {
    REQUIRE(http->merge_patch(base + "/customer/" + id, body).status == 200);
  }
};

/// The events a listener received, parsed.
std::vector<json> events(test_listener& l) {
  std::vector<json> out;
  for (auto& r : l.received())
    out.push_back(json::parse(r.body));
  return out;
}

std::string error_message(const response& r) {
  auto body = json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["@type"] == "Error");
  CHECK(body["code"] == std::to_string(r.status));
  return body["message"];
}

} // namespace

TEST_CASE("each write emits its events with the swagger's envelope") {
  test_listener listener;
  fixture f;
  f.subscribe(listener.url("/events"));
  auto id = f.create("Env", {{"X-Correlation-ID", "corr-42"}});
  f.patch(id, R"({"name":"Env2","status":"Approved"})");
  f.patch(id, R"({"status":"Validated"})");
  f.patch(id, R"({"status":"Validated"})"); // no change: no event
  REQUIRE(f.http->request("DELETE", base + "/customer/" + id).status == 204);
  REQUIRE(listener.wait_for(5));
  std::this_thread::sleep_for(300ms);
  auto got = events(listener);
  REQUIRE(got.size() == 5);
  std::vector<std::string> types;
  std::set<std::string> ids;
  for (auto& e : got) {
    types.push_back(e["eventType"]);
    ids.insert(e["eventId"].get<std::string>());
    CHECK(tmf::domain::rfc3339_utc(0).size() == e["eventTime"].get<std::string>().size());
    CHECK(e["event"]["customer"]["id"] == id);
    CHECK(e["event"]["customer"]["href"] == f.svc->url() + "/customer/" + id);
  }
  CHECK(types
        == std::vector<std::string>{"CustomerCreateEvent",
                                    "CustomerAttributeValueChangeEvent",
                                    "CustomerStateChangeEvent",
                                    "CustomerStateChangeEvent",
                                    "CustomerDeleteEvent"});
  CHECK(ids.size() == 5);
  CHECK(got[0]["correlationId"] == "corr-42");
  CHECK_FALSE(got[1].contains("correlationId"));
  CHECK(got[1]["fieldPath"] == "name");
  CHECK(got[1]["event"]["customer"]["name"] == "Env2");
  CHECK(got[4]["event"]["customer"]["status"] == "Validated"); // last state
  auto raw = listener.received();
  CHECK(raw[0].method == "POST");
  CHECK(raw[0].target == "/events");
  CHECK(raw[0].headers["content-type"] == "application/json");
  CHECK(raw[0].headers["x-event-id"] == got[0]["eventId"]);
}

TEST_CASE("a subscription's query selects events and fields trims them") {
  test_listener approved;
  test_listener deleted;
  fixture f;
  f.subscribe(approved.url("/a"),
              "eventType=CustomerStateChangeEvent"
              "&event.customer.status=Approved&fields=status");
  f.subscribe(deleted.url("/d"), "eventType=CustomerDeleteEvent");
  auto id = f.create("Sel");
  f.patch(id, R"({"status":"Validated"})");
  f.patch(id, R"({"status":"Approved"})");
  REQUIRE(f.http->request("DELETE", base + "/customer/" + id).status == 204);
  REQUIRE(approved.wait_for(1));
  REQUIRE(deleted.wait_for(1));
  std::this_thread::sleep_for(300ms);
  auto a = events(approved);
  REQUIRE(a.size() == 1);
  CHECK(a[0]["event"]["customer"]
        == json{{"id", id},
                {"href", f.svc->url() + "/customer/" + id},
                {"status", "Approved"}});
  auto d = events(deleted);
  REQUIRE(d.size() == 1);
  CHECK(d[0]["eventType"] == "CustomerDeleteEvent");
}

TEST_CASE("failed attempts are retried until delivered, with one eventId") {
  test_listener listener;
  listener.script({{500, 0ms, ""}, {201, 1000ms, ""}, {503, 0ms, "0"}});
  fixture f;
  f.subscribe(listener.url("/retry"));
  f.create("Retry");
  REQUIRE(listener.wait_for(4));
  std::this_thread::sleep_for(300ms);
  auto raw = listener.received();
  REQUIRE(raw.size() == 4); // 500, timeout, 503, 201
  for (auto& r : raw)
    CHECK(r.headers["x-event-id"] == raw[0].headers["x-event-id"]);
}

TEST_CASE("a subscriber down for a while receives every event once up") {
  test_listener listener;
  fixture f;
  f.subscribe(listener.url("/later"));
  listener.stop();
  std::set<std::string> created;
  for (int i = 0; i < 3; ++i)
    created.insert(f.create("Down" + std::to_string(i)));
  std::this_thread::sleep_for(800ms); // several refused attempts
  listener.start();
  REQUIRE(listener.wait_for(3, 10000ms));
  std::set<std::string> delivered;
  for (auto& e : events(listener))
    delivered.insert(e["event"]["customer"]["id"].get<std::string>());
  CHECK(delivered == created);
}

TEST_CASE("a dead subscriber delays no other subscriber") {
  test_listener alive;
  test_listener hanging;
  hanging.set_fallback({201, 5000ms, ""}); // answers after every timeout
  fixture f;
  f.subscribe("http://127.0.0.1:1/refused");
  f.subscribe(hanging.url("/slow"));
  f.subscribe(alive.url("/fast"));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i)
    f.create("Busy" + std::to_string(i));
  REQUIRE(alive.wait_for(20, 5000ms));
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("one customer's events arrive in commit order") {
  test_listener listener;
  // The first event fails once: the later events of its customer must
  // wait for its retry instead of overtaking it.
  listener.script({{500, 0ms, ""}});
  fixture f;
  f.subscribe(listener.url("/order"),
              "eventType=CustomerAttributeValueChangeEvent");
  auto id = f.create("Order");
  for (int i = 0; i < 10; ++i)
    f.patch(id, R"({"name":"N)" + std::to_string(i) + "\"}");
  REQUIRE(listener.wait_for(11));
  auto got = events(listener);
  std::vector<std::string> names;
  for (size_t i = 1; i < got.size(); ++i) // after the failed attempt
    names.push_back(got[i]["event"]["customer"]["name"]);
  std::vector<std::string> expected;
  for (int i = 0; i < 10; ++i)
    expected.push_back("N" + std::to_string(i));
  CHECK(names == expected);
}

TEST_CASE("kill -9 before delivery loses no event and no subscription") {
  test_listener listener;
  listener.stop();
  fixture f;
  auto sub = f.subscribe(listener.url("/crash"));
  std::set<std::string> created;
  for (int i = 0; i < 10; ++i)
    created.insert(f.create("Crash" + std::to_string(i)));
  REQUIRE(f.svc->stop(SIGKILL) != -1);
  listener.start();
  f.start();
  CHECK(f.http->get(base + "/hub/" + sub).status == 200);
  REQUIRE(listener.wait_for(10, 10000ms));
  std::set<std::string> delivered;
  for (auto& e : events(listener))
    delivered.insert(e["event"]["customer"]["id"].get<std::string>());
  CHECK(delivered == created);
}

TEST_CASE("bad hub registrations answer 400 and store nothing") {
  fixture f;
  auto post = [&](const std::string& body) {
    return f.http->post_json(base + "/hub", body);
  };
  for (auto body :
       {std::string{"{not json"}, std::string{"[]"}, std::string{"{}"},
        json{{"callback", 5}}.dump(),
        json{{"callback", "/relative"}}.dump(),
        json{{"callback", "ftp://example.org/x"}}.dump(),
        json{{"callback", "http://169.254.169.254/latest"}}.dump(),
        json{{"callback", "http://[fe80::1]/x"}}.dump(),
        json{{"callback", "http://h/x"}, {"query", "a..b=1"}}.dump(),
        json{{"callback", "http://h/x"}, {"query", "sort=name"}}.dump(),
        json{{"callback", "http://h/x"}, {"query", "name.regex=(x"}}.dump(),
        json{{"callback", "http://h/x"}, {"query", 7}}.dump()}) {
    INFO(body);
    auto r = post(body);
    CHECK(r.status == 400);
    error_message(r);
  }
  auto r = f.http->request("POST", base + "/hub", "{}",
                           {{"Content-Type", "text/plain"}});
  CHECK(r.status == 415);
  CHECK(f.http->get(base + "/hub").body == "[]");
}

TEST_CASE("an event a subscriber refuses is parked and can be replayed") {
  test_listener listener;
  listener.set_fallback({410, 0ms, ""});
  fixture f;
  auto sub = f.subscribe(listener.url("/gone"));
  auto id = f.create("Parked");
  REQUIRE(listener.wait_for(1));
  std::this_thread::sleep_for(300ms);
  auto parked = f.http->get(base + "/hub/" + sub + "/parked");
  REQUIRE(parked.status == 200);
  auto list = json::parse(parked.body);
  REQUIRE(list.size() == 1);
  CHECK(list[0]["reason"] == "HTTP 410");
  CHECK(list[0]["attempts"] == 1);
  CHECK(list[0]["event"]["event"]["customer"]["id"] == id);
  listener.set_fallback({201, 0ms, ""});
  auto replay = f.http->request("POST", base + "/hub/" + sub
                                          + "/parked/replay");
  REQUIRE(replay.status == 200);
  CHECK(json::parse(replay.body)["replayed"] == 1);
  REQUIRE(listener.wait_for(2));
  auto raw = listener.received();
  CHECK(raw[1].headers["x-event-id"] == raw[0].headers["x-event-id"]);
  std::this_thread::sleep_for(300ms);
  CHECK(f.http->get(base + "/hub/" + sub + "/parked").body == "[]");
}

TEST_CASE("a deleted subscription receives nothing more") {
  test_listener listener;
  fixture f;
  auto sub = f.subscribe(listener.url("/bye"));
  REQUIRE(f.http->request("DELETE", base + "/hub/" + sub).status == 204);
  auto r = f.http->get(base + "/hub/" + sub);
  CHECK(r.status == 404);
  error_message(r);
  CHECK(f.http->request("DELETE", base + "/hub/" + sub).status == 404);
  f.create("Nobody");
  std::this_thread::sleep_for(500ms);
  CHECK(listener.received().empty());
}

TEST_CASE("the listener endpoints check and keep what they receive") {
  fixture f;
  auto event = json{{"eventId", "e1"},
                    {"eventType", "CustomerCreateEvent"},
                    {"event", {{"customer", {{"id", "x"}}}}}};
  auto r = f.http->post_json(base + "/listener/customerCreateEvent",
                             event.dump());
  CHECK(r.status == 201);
  r = f.http->post_json(base + "/listener/customerDeleteEvent", event.dump());
  CHECK(r.status == 400); // the wrong event type for this endpoint
  r = f.http->post_json(base + "/listener/somethingElse", event.dump());
  CHECK(r.status == 404);
  r = f.http->post_json(base + "/listener/customerCreateEvent",
                        R"({"eventId":"e2","eventType":"CustomerCreateEvent"})");
  CHECK(r.status == 400);
  auto kept = json::parse(f.http->get(base + "/listener").body);
  REQUIRE(kept.size() == 1);
  CHECK(kept[0]["eventId"] == "e1");
}
