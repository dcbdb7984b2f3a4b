// The HTTP layer in process: the real server on 127.0.0.1 (free port) in
// front of a stub router, so that routes, validation, the exchange's
// answers and the error mapping are tested without actors behind them.

#include <catch2/catch.hpp>

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/protocol.hpp"
#include "http/server.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;
using tmf::customer_doc;
using tmf::errc;
using tmf::test::http_client;
using tmf::test::response;

namespace {

const std::string base = "/tmf-api/customerManagement/v4";
const std::string known = "00a-aaaaaaaaaaaaaaaaaaaaaaaaaa";
const std::string silent = "00a-ssssssssssssssssssssssssss";

/// What the stub router saw, and the errors it answers with.
struct stub_script {
  std::mutex mtx;
  std::vector<std::string> seen;            ///< "verb id body", in order
  std::map<std::string, caf::error> errors; ///< id -> error to answer

  void record(std::string line) {
    std::lock_guard<std::mutex> guard{mtx};
    seen.push_back(std::move(line));
  }

  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> guard{mtx};
    return seen;
  }

  std::optional<caf::error> error_for(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = errors.find(id);
    if (i == errors.end())
      return std::nullopt;
    return i->second;
  }
};

struct stub_state {
  std::shared_ptr<stub_script> script;
};

customer_doc doc_of(const std::string& id) {
  return customer_doc{id, 1, R"({"id":")" + id + R"(","name":"Stub"})"};
}

tmf::router_actor::behavior_type
stub_router(tmf::router_actor::stateful_pointer<stub_state> self,
            std::shared_ptr<stub_script> script) {
  self->state.script = std::move(script);
  auto answer = [=](const std::string& id) -> caf::result<customer_doc> {
    if (auto err = self->state.script->error_for(id))
      return *err;
    if (id == silent)
      return self->make_response_promise<customer_doc>(); // never answered
    return doc_of(id);
  };
  return {
    [=](tmf::create_atom, const std::string& body,
        const std::vector<std::string>&,
        const std::string& correlation) -> caf::result<customer_doc> {
      if (!correlation.empty())
        self->state.script->record("correlation " + correlation);
      self->state.script->record("create " + body);
      return doc_of(known);
    },
    [=](tmf::retrieve_atom, const std::string& id) {
      self->state.script->record("retrieve " + id);
      return answer(id);
    },
    [=](tmf::retrieve_atom, const std::string& id,
        const std::vector<std::string>& fields) {
      self->state.script->record("retrieve " + id + " fields="
                                 + std::to_string(fields.size()));
      return answer(id);
    },
    [=](tmf::patch_atom, const std::string& id,
        const tmf::patch_request& req) {
      self->state.script->record("patch " + id + " " + req.body);
      return answer(id);
    },
    [=](tmf::erase_atom, const std::string& id, const std::string&,
        const std::string&) -> caf::result<bool> {
      self->state.script->record("erase " + id);
      if (auto err = self->state.script->error_for(id))
        return *err;
      return true;
    },
    [=](tmf::list_atom, const tmf::list_query& q) -> caf::result<tmf::list_page> {
      self->state.script->record("list " + std::to_string(q.filters.size()));
      return tmf::list_page{5, {doc_of(known).json, doc_of(silent).json}, {}};
    },
    [=](tmf::list_atom, tmf::local_atom,
        const tmf::list_query&) -> caf::result<tmf::list_page> {
      return tmf::list_page{};
    },
    [=](tmf::idle_atom, const std::string&, uint64_t) {
      // nop
    },
    [=](tmf::sweep_atom) {
      // nop
    },
    [=](tmf::index_atom, const std::vector<std::string>&) {
      // nop
    },
    [=](tmf::held_atom, const std::vector<uint16_t>&, uint64_t) {
      // nop
    },
    [=](tmf::probe_atom) { return uint64_t{0}; },
  };
}

/// A notifier that knows one subscription, `known`.
// Takes its one subscription as an argument: CAF 0.17 binds a reference
// to a null tuple when a function-based actor is spawned without any
// (tests/ubsan.supp), and this interface's names are too long for the
// sanitizer's symbolizer to match that suppression.
tmf::notifier_actor::behavior_type stub_notifier(tmf::hub_record rec) {
  auto missing = [](const std::string& id) {
    return caf::make_error(errc::not_found, "no subscription with id " + id);
  };
  return {
    [=](tmf::subscribe_atom, const std::string& callback,
        const std::string& query) -> caf::result<tmf::hub_record> {
      if (callback.rfind("http", 0) != 0)
        return caf::make_error(errc::invalid, std::string{"callback: bad"});
      return tmf::hub_record{known, callback, query};
    },
    [=](tmf::hub_atom) { return std::vector<tmf::hub_record>{rec}; },
    [=](tmf::hub_atom,
        const std::string& id) -> caf::result<tmf::hub_record> {
      if (id != known)
        return missing(id);
      return rec;
    },
    [=](tmf::unsubscribe_atom, const std::string& id) -> caf::result<bool> {
      if (id != known)
        return missing(id);
      return true;
    },
    [=](tmf::parked_atom, const std::string& id)
      -> caf::result<std::vector<tmf::parked_event>> {
      if (id != known)
        return missing(id);
      return std::vector<tmf::parked_event>{
        {7, "ev-7", "HTTP 410", 1, R"({"eventId":"ev-7"})"}};
    },
    [=](tmf::replay_atom, const std::string&) { return uint64_t{1}; },
    [=](tmf::start_atom, const std::string&) {},
    [=](tmf::outbox_atom, uint64_t) {},
    [=](tmf::delivered_atom, const tmf::delivery_result&) {},
    [=](tmf::retry_atom, uint64_t) {},
    [=](tmf::flush_atom) {},
    [=](tmf::sweep_atom) {},
    [=](tmf::start_atom, const std::vector<tmf::link_actor>&) {},
    [=](tmf::sync_atom) { return tmf::hub_sync{}; },
    [=](tmf::sync_atom, const tmf::hub_sync&) {},
    [=](tmf::probe_atom) { return uint64_t{0}; },
  };
}

struct http_fixture {
  static caf::actor_system_config& make_config(caf::actor_system_config& cfg) {
    tmf::add_message_types(cfg);
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{make_config(cfg)};
  std::shared_ptr<stub_script> script = std::make_shared<stub_script>();
  tmf::router_actor router = sys.spawn(stub_router, script);
  tmf::notifier_actor notifier
    = sys.spawn(stub_notifier, tmf::hub_record{known, "http://127.0.0.1:9/cb",
                                               "eventType=X"});
  std::unique_ptr<tmf::http::server> server;
  std::unique_ptr<http_client> http;

  http_fixture() {
    tmf::http::server_settings s;
    s.address = "127.0.0.1";
    s.port = 0;
    s.request_timeout = 300ms;
    s.request_log_level = 4; // off
    server = std::make_unique<tmf::http::server>(sys, router, notifier, s);
    http = std::make_unique<http_client>(server->port());
  }

  ~http_fixture() {
    server->stop(1s);
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(notifier, caf::exit_reason::user_shutdown);
  }

  response post(const std::string& body,
                const std::string& type = "application/json") {
    return http->request("POST", base + "/customer", body,
                         {{"Content-Type", type}});
  }
};

std::string error_message(const response& r) {
  auto body = json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["@type"] == "Error");
  CHECK(body["code"] == std::to_string(r.status));
  CHECK(body["status"] == std::to_string(r.status));
  CHECK(body["reason"].is_string());
  REQUIRE(body["message"].is_string());
  return body["message"];
}

} // namespace

TEST_CASE_METHOD(http_fixture,
                 "the route table answers 404 and 405 with Allow itself") {
  auto r = http->get("/elsewhere");
  CHECK(r.status == 404);
  error_message(r);
  r = http->get(base + "/customer/" + known + "/extra");
  CHECK(r.status == 404);
  r = http->request("PUT", base + "/customer");
  CHECK(r.status == 405);
  CHECK(r.header("allow") == "GET, POST");
  r = http->request("POST", base + "/customer/" + known, "{}",
                    {{"Content-Type", "application/json"}});
  CHECK(r.status == 405);
  CHECK(r.header("allow") == "GET, PATCH, DELETE");
  error_message(r);
  CHECK(script->calls().empty());
}

TEST_CASE_METHOD(http_fixture,
                 "handlers refuse bad requests before asking the router") {
  auto r = post(tmf::test::sample_customer("A"), "text/plain");
  CHECK(r.status == 415);
  CHECK(error_message(r).find("application/json") != std::string::npos);
  r = post("{\"name\":");
  CHECK(r.status == 400);
  CHECK(error_message(r).rfind("the body is not valid JSON", 0) == 0);
  r = post(R"({"name":"A"})");
  CHECK(r.status == 400);
  CHECK(error_message(r) == "engagedParty: required attribute is missing");
  r = http->get(base + "/customer/not-an-id");
  CHECK(r.status == 404);
  r = http->merge_patch(base + "/customer/" + known, R"({"id":"other"})");
  CHECK(r.status == 400);
  CHECK(error_message(r) == "id: cannot be changed");
  r = http->get(base + "/customer?limit=x");
  CHECK(r.status == 400);
  r = http->get(base + "/customer?name=%zz");
  CHECK(r.status == 400);
  CHECK(script->calls().empty());
}

TEST_CASE_METHOD(http_fixture, "replies complete each kind of request") {
  auto r = post(tmf::test::sample_customer("A"));
  REQUIRE(r.status == 201);
  auto href = "http://127.0.0.1:" + std::to_string(server->port()) + base
              + "/customer/" + known;
  CHECK(r.header("location") == href);
  CHECK(json::parse(r.body)["href"] == href);
  r = http->get(base + "/customer/" + known);
  REQUIRE(r.status == 200);
  CHECK(json::parse(r.body)["name"] == "Stub");
  r = http->get(base + "/customer?limit=2");
  REQUIRE(r.status == 206); // paged, and 2 of 5
  CHECK(r.header("x-total-count") == "5");
  CHECK(r.header("x-result-count") == "2");
  r = http->get(base + "/customer");
  CHECK(r.status == 200); // not paged: 200 whatever the count
  r = http->request("DELETE", base + "/customer/" + known);
  CHECK(r.status == 204);
  CHECK(r.body.empty());
  auto calls = script->calls();
  REQUIRE(calls.size() == 5);
  CHECK(calls[0].rfind("create {\"name\":\"A\"", 0) == 0);
  CHECK(calls[1] == "retrieve " + known);
  CHECK(calls[4] == "erase " + known);
}

TEST_CASE_METHOD(http_fixture,
                 "a merge patch reaches the customer as sent, parsed once "
                 "there") {
  std::string patch = R"({ "status" : "Approved", "href" : ")"
                      "http://127.0.0.1:" + std::to_string(server->port())
                      + base + "/customer/" + known + "\" }";
  auto r = http->merge_patch(base + "/customer/" + known, patch);
  CHECK(r.status == 200);
  auto calls = script->calls();
  REQUIRE(calls.size() == 1);
  CHECK(calls[0] == "patch " + known + " " + patch);
}

TEST_CASE_METHOD(http_fixture,
                 "actor errors map to statuses with TMF Error bodies") {
  const std::map<errc, int> expected{
    {errc::invalid, 400},      {errc::not_found, 404},
    {errc::conflict, 409},     {errc::storage_full, 507},
    {errc::store_failed, 500}, {errc::unavailable, 503}};
  for (auto [code, status] : expected) {
    {
      std::lock_guard<std::mutex> guard{script->mtx};
      script->errors[known] = caf::make_error(code, std::string{"why"});
    }
    auto r = http->get(base + "/customer/" + known);
    CHECK(r.status == status);
    CHECK(error_message(r) == "why");
  }
}

TEST_CASE_METHOD(http_fixture,
                 "a request the router never answers gets 504 in time") {
  auto r = http->get(base + "/customer/" + silent);
  CHECK(r.status == 504);
  CHECK(error_message(r).find("not answered in time") != std::string::npos);
}

TEST_CASE_METHOD(http_fixture, "hub routes answer from the notifier") {
  auto hub = "http://127.0.0.1:" + std::to_string(server->port()) + base
             + "/hub/";
  auto r = http->request("POST", base + "/hub",
                         R"({"callback":"http://x/cb","query":"a=1"})",
                         {{"Content-Type", "application/json"}});
  REQUIRE(r.status == 201);
  CHECK(r.header("location") == hub + known);
  CHECK(json::parse(r.body)
        == json{{"id", known}, {"callback", "http://x/cb"}, {"query", "a=1"}});
  r = http->request("POST", base + "/hub", R"({"callback":"ftp://x"})",
                    {{"Content-Type", "application/json"}});
  CHECK(r.status == 400);
  CHECK(error_message(r) == "callback: bad");
  r = http->request("POST", base + "/hub", R"({"query":"a=1"})",
                    {{"Content-Type", "application/json"}});
  CHECK(r.status == 400);
  CHECK(error_message(r) == "callback: required attribute is missing");
  CHECK(json::parse(http->get(base + "/hub").body).size() == 1);
  CHECK(http->get(base + "/hub/" + known).status == 200);
  r = http->get(base + "/hub/other");
  CHECK(r.status == 404);
  error_message(r);
  auto parked = json::parse(http->get(base + "/hub/" + known + "/parked").body);
  REQUIRE(parked.size() == 1);
  CHECK(parked[0]["event"]["eventId"] == "ev-7");
  CHECK(parked[0]["reason"] == "HTTP 410");
  r = http->request("POST", base + "/hub/" + known + "/parked/replay");
  CHECK(json::parse(r.body)["replayed"] == 1);
  CHECK(http->request("DELETE", base + "/hub/" + known).status == 204);
  r = http->request("PUT", base + "/hub/" + known);
  CHECK(r.status == 405);
  CHECK(r.header("allow") == "GET, DELETE");
}

TEST_CASE_METHOD(http_fixture, "writes carry X-Correlation-ID to the actors") {
  auto r = http->request("POST", base + "/customer",
                         tmf::test::sample_customer("C"),
                         {{"Content-Type", "application/json"},
                          {"X-Correlation-ID", "corr-9"}});
  REQUIRE(r.status == 201);
  auto calls = script->calls();
  REQUIRE_FALSE(calls.empty());
  CHECK(calls[0] == "correlation corr-9");
}
