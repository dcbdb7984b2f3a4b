// The operations endpoints in process: /health/live, /health/ready and
// /metrics on the real HTTP server in front of stub actors whose probe
// answers each test controls.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/metrics.hpp"
#include "actors/protocol.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;
using tmf::customer_doc;
using tmf::test::http_client;
using tmf::test::response;

namespace {

const std::string base = "/tmf-api/customerManagement/v4";
const std::string known = "00a-aaaaaaaaaaaaaaaaaaaaaaaaaa";

/// What the stub actors answer to their probes.
struct probe_script {
  std::atomic<bool> router_answers{true};
  std::atomic<uint64_t> backlog{0};
  std::string store_problem; ///< set before the first probe
};

using script_ptr = std::shared_ptr<probe_script>;

tmf::store_writer_actor::behavior_type stub_writer(script_ptr script) {
  return {
    [](tmf::write_atom, const tmf::store_write&) { return uint64_t{1}; },
    [](tmf::index_atom, const std::vector<tmf::index_write>& writes) {
      return std::vector<uint64_t>(writes.size(), 0);
    },
    [](tmf::subscribe_atom, const std::string&, const std::string&) {
      return uint64_t{0};
    },
    [](tmf::write_atom, const std::vector<tmf::notifier_write>&) {
      return true;
    },
    [](tmf::start_atom, const tmf::notifier_actor&) {},
    [](tmf::flush_atom) {},
    [script](tmf::probe_atom) { return script->store_problem; },
    [](tmf::import_atom, const tmf::shard_chunk&) { return uint64_t{0}; },
    [](tmf::held_atom, uint16_t, const std::vector<std::string>&) {
      return true;
    },
    [](tmf::release_atom, uint16_t) { return uint64_t{0}; },
    [](tmf::held_atom, const std::vector<uint16_t>&) { return true; },
  };
}

tmf::router_actor::behavior_type
stub_router(tmf::router_actor::pointer self, script_ptr script) {
  auto doc = [](const std::string& id) {
    return customer_doc{id, 1, R"({"id":")" + id + R"(","name":"Stub"})"};
  };
  return {
    [=](tmf::create_atom, const std::string&, const std::vector<std::string>&,
        const std::string&) { return doc(known); },
    [=](tmf::retrieve_atom, const std::string& id) { return doc(id); },
    [=](tmf::retrieve_atom, const std::string& id,
        const std::vector<std::string>&) { return doc(id); },
    [=](tmf::patch_atom, const std::string& id, const tmf::patch_request&) {
      return doc(id);
    },
    [=](tmf::erase_atom, const std::string&, const std::string&,
        const std::string&) { return true; },
    [=](tmf::list_atom, const tmf::list_query&) {
      return tmf::list_page{};
    },
    [=](tmf::list_atom, tmf::local_atom, const tmf::list_query&) {
      return tmf::list_page{};
    },
    [=](tmf::idle_atom, const std::string&, uint64_t) {},
    [=](tmf::sweep_atom) {},
    [=](tmf::index_atom, const std::vector<std::string>&) {},
    [=](tmf::held_atom, const std::vector<uint16_t>&, uint64_t) {},
    [=](tmf::probe_atom) -> caf::result<uint64_t> {
      if (script->router_answers)
        return uint64_t{3};
      return self->make_response_promise<uint64_t>(); // never answered
    },
  };
}

tmf::notifier_actor::behavior_type stub_notifier(script_ptr script) {
  return {
    [](tmf::subscribe_atom, const std::string& cb, const std::string& q) {
      return tmf::hub_record{known, cb, q};
    },
    [](tmf::hub_atom) { return std::vector<tmf::hub_record>{}; },
    [](tmf::hub_atom, const std::string& id) {
      return tmf::hub_record{id, "", ""};
    },
    [](tmf::unsubscribe_atom, const std::string&) { return true; },
    [](tmf::parked_atom, const std::string&) {
      return std::vector<tmf::parked_event>{};
    },
    [](tmf::replay_atom, const std::string&) { return uint64_t{0}; },
    [](tmf::start_atom, const std::string&) {},
    [](tmf::outbox_atom, uint64_t) {},
    [](tmf::delivered_atom, const tmf::delivery_result&) {},
    [](tmf::retry_atom, uint64_t) {},
    [](tmf::flush_atom) {},
    [](tmf::sweep_atom) {},
    [](tmf::start_atom, const std::vector<tmf::link_actor>&) {},
    [](tmf::sync_atom) { return tmf::hub_sync{}; },
    [](tmf::sync_atom, const tmf::hub_sync&) {},
    [script](tmf::probe_atom) { return script->backlog.load(); },
  };
}

struct ops_fixture {
  static caf::actor_system_config& make_config(caf::actor_system_config& cfg) {
    tmf::add_message_types(cfg);
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{make_config(cfg)};
  script_ptr script = std::make_shared<probe_script>();
  std::shared_ptr<tmf::metrics_registry> metrics
    = std::make_shared<tmf::metrics_registry>();
  tmf::store_writer_actor writer;
  tmf::router_actor router;
  tmf::notifier_actor notifier;
  std::unique_ptr<tmf::http::server> server;
  std::unique_ptr<http_client> http;

  /// Starts the server; `with_metrics` false leaves metrics off.
  void start(bool with_metrics = true) {
    writer = sys.spawn(stub_writer, script);
    router = sys.spawn(stub_router, script);
    notifier = sys.spawn(stub_notifier, script);
    tmf::http::server_settings s;
    s.address = "127.0.0.1";
    s.port = 0;
    s.request_timeout = 2s;
    s.request_log_level = 4; // off
    s.writer = writer;
    s.ready_timeout = 200ms;
    s.ready_max_backlog = 10;
    if (with_metrics)
      s.metrics = metrics;
    server = std::make_unique<tmf::http::server>(sys, router, notifier, s);
    http = std::make_unique<http_client>(server->port());
  }

  ~ops_fixture() {
    if (server)
      server->stop(1s);
    for (auto h : {caf::actor_cast<caf::actor>(writer),
                   caf::actor_cast<caf::actor>(router),
                   caf::actor_cast<caf::actor>(notifier)})
      caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
  }

  /// GET /health/ready: the status and the parsed body.
  json ready(int expected_status) {
    auto r = http->get("/health/ready");
    CHECK(r.status == expected_status);
    auto body = json::parse(r.body, nullptr, false);
    REQUIRE(body.is_object());
    CHECK(body["status"] == (expected_status == 200 ? "pass" : "fail"));
    return body;
  }
};

/// The value of the sample `name{labels}` in a Prometheus text body, or -1.
double sample(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos)
    return -1;
  pos += series.size() + 2;
  return std::stod(text.substr(pos, text.find('\n', pos) - pos));
}

} // namespace

TEST_CASE_METHOD(ops_fixture, "live and ready pass when every check does") {
  start();
  auto r = http->get("/health/live");
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["status"] == "pass");
  auto body = ready(200);
  for (auto name : {"shutdown", "store", "actors", "hub"})
    CHECK(body["checks"][name]["status"] == "pass");
  CHECK(body["checks"]["actors"]["residentCustomers"] == 3);
  CHECK(body["checks"]["hub"]["backlog"] == 0);
  CHECK(http->request("POST", "/health/ready").status == 405);
}

TEST_CASE_METHOD(ops_fixture, "ready fails when the store cannot write") {
  script->store_problem = "data.mdb was replaced by another file";
  start();
  auto body = ready(503);
  CHECK(body["checks"]["store"]["status"] == "fail");
  CHECK(body["checks"]["store"]["output"]
        == "data.mdb was replaced by another file");
  CHECK(body["checks"]["actors"]["status"] == "pass");
  CHECK(http->get("/health/live").status == 200);
}

TEST_CASE_METHOD(ops_fixture,
                 "ready fails when the router does not answer in time") {
  script->router_answers = false;
  start();
  auto t0 = std::chrono::steady_clock::now();
  auto body = ready(503);
  CHECK(std::chrono::steady_clock::now() - t0 < 2s);
  CHECK(body["checks"]["actors"]["status"] == "fail");
  CHECK(body["checks"]["actors"]["output"] == "no answer within ready-timeout");
  CHECK(body["checks"]["store"]["status"] == "pass");
  script->router_answers = true;
  ready(200);
}

TEST_CASE_METHOD(ops_fixture, "ready fails while the event backlog is too long") {
  script->backlog = 11;
  start();
  auto body = ready(503);
  CHECK(body["checks"]["hub"]["status"] == "fail");
  CHECK(body["checks"]["hub"]["backlog"] == 11);
  CHECK(body["checks"]["hub"]["maxBacklog"] == 10);
  script->backlog = 10;
  ready(200);
}

TEST_CASE_METHOD(ops_fixture,
                 "ready fails once shutdown begins while requests are served") {
  start();
  ready(200);
  server->mark_unready();
  auto body = ready(503);
  CHECK(body["checks"]["shutdown"]["status"] == "fail");
  CHECK(http->get(base + "/customer/" + known).status == 200);
  CHECK(http->get("/health/live").status == 200);
}

TEST_CASE_METHOD(ops_fixture, "metrics count requests by route, method and status") {
  start();
  for (int i = 0; i < 3; ++i)
    REQUIRE(http->get(base + "/customer/" + known).status == 200);
  REQUIRE(http->get(base + "/nowhere").status == 404);
  REQUIRE(http->request("PUT", base + "/customer").status == 405);
  // A request leaves the in-flight gauge just after its response was handed
  // over, which the client can see first: scrape until only the scrape
  // itself is in flight (at most 2 s; a leak never gets there).
  auto r = http->get("/metrics");
  for (int i = 0; i < 200 && r.status == 200
                  && sample(r.body, "tmf_http_requests_in_flight") != 1;
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    r = http->get("/metrics");
  }
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type").rfind("text/plain; version=0.0.4", 0) == 0);
  const auto& text = r.body;
  CHECK(sample(text, R"(tmf_http_requests_total{method="GET",route="/customer/{id}",status="200"})")
        == 3);
  CHECK(sample(text, R"(tmf_http_requests_total{method="GET",route="unmatched",status="404"})")
        == 1);
  CHECK(sample(text, R"(tmf_http_requests_total{method="PUT",route="/customer",status="405"})")
        == 1);
  CHECK(sample(text, R"(tmf_http_request_duration_seconds_count{method="GET",route="/customer/{id}"})")
        == 3);
  CHECK(sample(text, R"(tmf_http_request_duration_seconds_bucket{method="GET",route="/customer/{id}",le="+Inf"})")
        == 3);
  // The scrape itself is in flight while it renders.
  CHECK(sample(text, "tmf_http_requests_in_flight") == 1);
  CHECK(text.find("# TYPE tmf_store_commit_batch_size histogram")
        != std::string::npos);
  // Every scrape so far is counted before its response left.
  // (sample() is -1 for a series not rendered yet: no scrape counted.)
  auto scrapes = std::max(0.0, sample(text, R"(tmf_http_requests_total{method="GET",route="/metrics",status="200"})"));
  r = http->get("/metrics");
  CHECK(sample(r.body, R"(tmf_http_requests_total{method="GET",route="/metrics",status="200"})")
        == scrapes + 1);
}

TEST_CASE_METHOD(ops_fixture, "metrics off: no /metrics") {
  start(false);
  auto r = http->get("/metrics");
  CHECK(r.status == 404);
  CHECK(http->get("/health/live").status == 200);
}
