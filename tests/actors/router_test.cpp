// The router: id assignment, routing to one customer per id, list
// delegation, passivation of idle customers and shutdown; against the fake
// store, plus one end-to-end run over the real LMDB store actors.

#include "actors/router.hpp"

#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_id.hpp"
#include "actors/store.hpp"
#include "fake_store.hpp"
#include "persistence/lmdb_store.hpp"
#include "support/temp_dir.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;
using tmf::customer_doc;
using tmf::errc;
using tmf::test::ask;
using tmf::test::reply;

namespace {

std::string body(const std::string& name = "Alice Example") {
  json j = json::parse(R"({
    "status": "Approved",
    "engagedParty": {"id": "org-1", "name": "Org One",
                     "@referredType": "Organization"}
  })");
  j["name"] = name;
  return j.dump();
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

struct router_fixture : tmf::test::actor_fixture {
  tmf::router_actor router;

  void start(caf::timespan idle_timeout = std::chrono::seconds(60),
             size_t max_resident = 100000) {
    tmf::router_config rc;
    rc.writer = writer;
    rc.readers = {reader};
    rc.idle_timeout = idle_timeout;
    rc.max_resident = max_resident;
    router = own(tmf::spawn_router(sys, rc));
  }

  customer_doc create(const std::string& name = "Alice Example") {
    auto r = ask<customer_doc>(self, router, tmf::create_atom_v, body(name),
                             std::vector<std::string>{}, std::string{});
    REQUIRE(r);
    return *r.value;
  }

  /// The customer actor that sent the `n`-th write to the fake writer.
  caf::actor writer_of(size_t n) {
    auto senders = db->write_senders();
    REQUIRE(senders.size() > n);
    return caf::actor_cast<caf::actor>(senders[n]);
  }
};

} // namespace

TEST_CASE_METHOD(router_fixture,
                 "router create returns a well-formed id and the doc") {
  start();
  auto a = create("A");
  auto b = create("B");
  CHECK(tmf::domain::is_customer_id(a.id));
  CHECK(tmf::domain::is_customer_id(b.id));
  CHECK(a.id != b.id);
  CHECK(a.version == 1);
  CHECK(starts_with(a.json, "{\"id\":\"" + a.id + "\","));
  auto doc = json::parse(a.json);
  CHECK(doc["id"] == a.id);
  CHECK(doc["name"] == "A");
  auto row = db->get(a.id);
  REQUIRE(row);
  CHECK(row->version == 1);
  CHECK(row->json == a.json);
  CHECK(db->loads == 0); // a fresh customer does not load
}

TEST_CASE_METHOD(router_fixture,
                 "router retrieve patch and erase reach the same customer") {
  start();
  auto made = create();
  auto got = ask<customer_doc>(self, router, tmf::retrieve_atom_v, made.id);
  REQUIRE(got);
  CHECK(got.value->version == 1);
  CHECK(got.value->json == made.json);
  auto patched = ask<customer_doc>(
    self, router, tmf::patch_atom_v, made.id,
    tmf::test::merge(std::string{R"({"status":"Validated"})"}));
  REQUIRE(patched);
  CHECK(patched.value->version == 2);
  CHECK(json::parse(patched.value->json)["status"] == "Validated");
  auto again = ask<customer_doc>(self, router, tmf::retrieve_atom_v, made.id);
  REQUIRE(again);
  CHECK(again.value->version == 2);
  CHECK(again.value->json == patched.value->json);
  auto erased = ask<bool>(self, router, tmf::erase_atom_v, made.id,
                          std::string{}, std::string{});
  REQUIRE(erased);
  CHECK(*erased.value);
  // One actor served everything from memory: no load, one writer.
  CHECK(db->loads == 0);
  auto gone = ask<customer_doc>(self, router, tmf::retrieve_atom_v, made.id);
  REQUIRE_FALSE(gone);
  CHECK(gone.err == errc::not_found);
  // The deleted customer's actor was passivated: a new one looked.
  CHECK(db->loads == 1);
  auto senders = db->write_senders();
  REQUIRE(senders.size() == 3);
  CHECK(senders[0] == senders[1]);
  CHECK(senders[1] == senders[2]);
  CHECK_FALSE(db->get(made.id));
}

TEST_CASE_METHOD(router_fixture,
                 "router requests for an unknown id answer not_found and "
                 "leave nothing resident") {
  start();
  auto id = tmf::domain::make_customer_id(42);
  for (int i = 0; i < 2; ++i) {
    auto r = ask<customer_doc>(self, router, tmf::retrieve_atom_v, id);
    REQUIRE_FALSE(r);
    CHECK(r.err == errc::not_found);
  }
  auto p = ask<customer_doc>(self, router, tmf::patch_atom_v, id,
                             tmf::test::merge(std::string{R"({"name":"x"})"}));
  REQUIRE_FALSE(p);
  CHECK(p.err == errc::not_found);
  auto e = ask<bool>(self, router, tmf::erase_atom_v, id, std::string{},
                     std::string{});
  REQUIRE_FALSE(e);
  CHECK(e.err == errc::not_found);
  // Each request met a fresh actor: the one before it passivated at once.
  CHECK(db->loads == 4);
  CHECK(db->writes == 0);
}

TEST_CASE_METHOD(router_fixture, "router list is delegated to a reader") {
  start();
  tmf::list_page canned;
  canned.total = 7;
  canned.items = {R"({"id":"a"})", R"({"id":"b"})"};
  db->set_canned_page(canned);
  tmf::list_query q;
  q.filters.push_back(tmf::filter_term{"status", tmf::filter_op::eq,
                                       {"Approved"}});
  q.offset = 3;
  q.limit = 2;
  auto r = ask<tmf::list_page>(self, router, tmf::list_atom_v, q);
  REQUIRE(r);
  CHECK(r.value->total == 7);
  CHECK(r.value->items == canned.items);
  CHECK(db->lists == 1);
  std::lock_guard<std::mutex> guard{db->mtx};
  REQUIRE(db->list_log.size() == 1);
  const auto& seen = db->list_log[0];
  CHECK(seen.offset == 3);
  CHECK(seen.limit == 2);
  REQUIRE(seen.filters.size() == 1);
  CHECK(seen.filters[0].path == "status");
  CHECK(seen.filters[0].values == std::vector<std::string>{"Approved"});
}

TEST_CASE_METHOD(router_fixture, "router exit stops its customers") {
  start(); // idle timeout of 60 s: only the router's exit stops them
  for (int i = 0; i < 3; ++i)
    create("C" + std::to_string(i));
  std::vector<caf::actor> customers;
  for (size_t i = 0; i < 3; ++i)
    customers.emplace_back(writer_of(i));
  for (auto& c : customers)
    self->monitor(c);
  self->monitor(router);
  caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  std::set<caf::actor_addr> down;
  bool timed_out = false;
  while (down.size() < 4 && !timed_out)
    self->receive([&](caf::down_msg& dm) { down.insert(dm.source); },
                  caf::after(4s) >> [&] { timed_out = true; });
  CHECK_FALSE(timed_out);
  CHECK(down.count(caf::actor_cast<caf::actor_addr>(router)) == 1);
  for (auto& c : customers)
    CHECK(down.count(c.address()) == 1);
}

namespace {

/// The real store actors over an LMDB environment in a mkdtemp() folder,
/// removed at the end (after the actor system has stopped every actor).
struct real_store_fixture {
  tmf::test::temp_dir tmp; // declared first: removed last
  caf::actor_system_config cfg;
  caf::actor_system sys{
    tmf::test::actor_fixture::make_config(cfg)};
  caf::scoped_actor self{sys};
  tmf::store_writer_actor writer;
  std::vector<tmf::store_reader_actor> readers;
  tmf::router_actor router;

  real_store_fixture() {
    std::string error;
    auto env = tmf::persistence::environment::open({tmp.path(), 1ull << 26, 126},
                                                   error);
    REQUIRE(env != nullptr);
    std::shared_ptr<tmf::persistence::environment> shared{std::move(env)};
    writer = tmf::spawn_store_writer(sys, shared, 1024);
    readers.push_back(
      tmf::spawn_store_reader(sys, tmf::test::reader_over(shared)));
    readers.push_back(
      tmf::spawn_store_reader(sys, tmf::test::reader_over(shared)));
    tmf::router_config rc;
    rc.writer = writer;
    rc.readers = readers;
    router = tmf::spawn_router(sys, rc);
  }

  ~real_store_fixture() {
    // The router stops its customers; the store actors then drop their
    // shares of the environment, which closes with the last one.
    self->send_exit(router, caf::exit_reason::user_shutdown);
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    for (auto& r : readers)
      self->send_exit(r, caf::exit_reason::user_shutdown);
    tmf::test::await_all_stopped(sys);
  }
};

} // namespace

TEST_CASE_METHOD(real_store_fixture,
                 "router with the real store handles 50 concurrent creates") {
  constexpr size_t n = 50;
  using handle_t = decltype(self->request(router, tmf::test::request_timeout,
                                          tmf::create_atom_v, std::string{},
                                          std::vector<std::string>{}, std::string{}));
  std::vector<handle_t> pending;
  pending.reserve(n);
  for (size_t i = 0; i < n; ++i)
    pending.emplace_back(self->request(router, tmf::test::request_timeout,
                                       tmf::create_atom_v,
                                       body("C" + std::to_string(i)),
                                       std::vector<std::string>{}, std::string{}));
  std::set<std::string> ids;
  std::set<std::string> names;
  size_t failures = 0;
  for (auto& h : pending)
    h.receive(
      [&](customer_doc& d) {
        CHECK(tmf::domain::is_customer_id(d.id));
        CHECK(d.version == 1);
        CHECK(starts_with(d.json, "{\"id\":\"" + d.id + "\","));
        ids.insert(d.id);
        names.insert(json::parse(d.json)["name"].get<std::string>());
      },
      [&](caf::error& e) {
        ++failures;
        FAIL_CHECK("create failed: " << to_string(e));
      });
  CHECK(failures == 0);
  CHECK(ids.size() == n);
  CHECK(names.size() == n);
  tmf::list_query q;
  q.limit = 100;
  auto page = ask<tmf::list_page>(self, router, tmf::list_atom_v, q);
  REQUIRE(page);
  CHECK(page.value->total == n);
  REQUIRE(page.value->items.size() == n);
  std::set<std::string> listed;
  for (const auto& item : page.value->items)
    listed.insert(json::parse(item)["id"].get<std::string>());
  CHECK(listed == ids);
  // Every customer reads back through its own actor.
  for (const auto& id : ids) {
    auto got = ask<customer_doc>(self, router, tmf::retrieve_atom_v, id);
    REQUIRE(got);
    CHECK(got.value->version == 1);
  }
}

TEST_CASE_METHOD(real_store_fixture,
                 "store readers skip list queries nobody waits for") {
  for (int i = 0; i < 3; ++i)
    REQUIRE(ask<customer_doc>(self, router, tmf::create_atom_v,
                              body("L" + std::to_string(i)),
                              std::vector<std::string>{}, std::string{}));
  tmf::list_query q;
  q.limit = 10;
  q.filters.push_back({"status", tmf::filter_op::ne, {"x"}}); // a scan
  q.deadline_ns = 1; // long past
  auto late = ask<tmf::list_page>(self, router, tmf::list_atom_v, q);
  REQUIRE_FALSE(late);
  CHECK(late.err == caf::sec::request_timeout);
  q.deadline_ns = 0; // no deadline
  auto now = ask<tmf::list_page>(self, router, tmf::list_atom_v, q);
  REQUIRE(now);
  CHECK(now.value->total == 3);
}
