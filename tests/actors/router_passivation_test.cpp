// Passivation by the router, on CAF's deterministic test coordinator: idle
// customers go after the idle timeout, the least recently used above
// max_resident, and never one with a write or a message in flight. Time
// is simulated and every interleaving is chosen by the test: no sleeps.

#include "actors/router.hpp"

#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "fake_store.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;
using tmf::customer_doc;

namespace {

struct passivation_fixture : tmf::test::deterministic_fixture {
  static constexpr caf::timespan idle = 100ms;
  tmf::router_actor router;

  void start(size_t max_resident = 100000) {
    tmf::router_config rc;
    rc.writer = writer;
    rc.readers = {reader};
    rc.idle_timeout = idle;
    rc.max_resident = max_resident;
    router = own(tmf::spawn_router(sys, rc));
    run();
  }

  customer_doc create(const std::string& name) {
    auto body = json{{"name", name},
                     {"engagedParty",
                      {{"id", "o"}, {"@referredType", "Organization"}}}};
    auto r = call<customer_doc>(router, tmf::create_atom_v, body.dump(),
                                std::vector<std::string>{}, std::string{});
    REQUIRE(r);
    return *r.value;
  }

  tmf::test::reply<customer_doc> retrieve(const std::string& id) {
    return call<customer_doc>(router, tmf::retrieve_atom_v, id);
  }

  /// Lets `span` pass in steps of 10 ms (the sweep runs every 50 ms).
  void idle_for(caf::timespan span) {
    pass(span, 10ms);
  }
};

} // namespace

TEST_CASE_METHOD(passivation_fixture,
                 "router passivates a customer idle for the idle timeout and "
                 "reloads it on the next request") {
  start();
  auto made = create("A");
  idle_for(60ms); // younger than the idle timeout: it stays
  REQUIRE(retrieve(made.id));
  CHECK(db->loads == 0);
  idle_for(200ms); // idle long enough: passivated
  auto got = retrieve(made.id);
  REQUIRE(got);
  CHECK(db->loads == 1);
  CHECK(got.value->json == made.json);
  // The new incarnation serves the committed document.
  auto patched
    = call<customer_doc>(router, tmf::patch_atom_v, made.id,
                         tmf::test::merge(std::string{R"({"name":"B"})"}));
  REQUIRE(patched);
  CHECK(patched.value->version == 2);
}

TEST_CASE_METHOD(passivation_fixture,
                 "router never passivates a customer with a write in flight") {
  start();
  auto made = create("A");
  db->hold_writes = true;
  auto patch = self->request(router, caf::infinite, tmf::patch_atom_v, made.id,
                             tmf::test::merge(std::string{R"({"name":"B"})"}));
  run();
  REQUIRE(db->writes == 2);
  idle_for(1s); // ten idle timeouts while the write waits
  CHECK(db->answered == 1);
  CHECK(self->mailbox().empty());
  db->hold_writes = false;
  self->send(writer, tmf::flush_atom_v);
  run();
  auto patched = answer_of<customer_doc>(patch);
  REQUIRE(patched);
  CHECK(patched.value->version == 2);
  // The actor that committed it was alive to answer; the row matches.
  auto row = db->get(made.id);
  REQUIRE(row);
  CHECK(row->json == patched.value->json);
  CHECK(db->loads == 0);
}

// The idle report races with forwarded messages: the customer reports
// `handled` messages while the router has already forwarded more. The
// router must keep it: a new incarnation would load a stale document while
// the old one still commits the queued patch.
TEST_CASE_METHOD(passivation_fixture,
                 "router never passivates a customer with a message in "
                 "flight") {
  start();
  auto made = create("A");
  db->hold_writes = true;
  auto p1
    = self->request(router, caf::infinite, tmf::patch_atom_v, made.id,
                    tmf::test::merge(std::string{R"({"status":"Validated"})"}));
  run();
  REQUIRE(db->writes == 2);
  // The sweep asks the customer to passivate while it awaits P1's write;
  // the request waits in its mailbox.
  idle_for(200ms);
  // P2 is forwarded (and queued behind the passivation request).
  auto p2
    = self->request(router, caf::infinite, tmf::patch_atom_v, made.id,
                    tmf::test::merge(std::string{R"({"name":"Second"})"}));
  run();
  // P1's write is answered: the customer handles the passivation request
  // (reporting one message fewer than the router forwarded), then P2.
  self->send(writer, tmf::flush_atom_v);
  run();
  REQUIRE(db->writes == 3);
  auto r = self->request(router, caf::infinite, tmf::retrieve_atom_v,
                         made.id);
  run();
  db->hold_writes = false;
  self->send(writer, tmf::flush_atom_v);
  run();
  auto a1 = answer_of<customer_doc>(p1);
  auto a2 = answer_of<customer_doc>(p2);
  auto a3 = answer_of<customer_doc>(r);
  REQUIRE(a1);
  REQUIRE(a2);
  REQUIRE(a3);
  CHECK(a1.value->version == 2);
  CHECK(a2.value->version == 3);
  CHECK(a3.value->version == 3);
  CHECK(a3.value->json == a2.value->json);
  CHECK(db->loads == 0); // one incarnation throughout
}

TEST_CASE_METHOD(passivation_fixture,
                 "router passivates the least recently used customer above "
                 "max_resident") {
  start(2);
  auto a = create("A");
  auto b = create("B");
  REQUIRE(retrieve(a.id)); // B is now the least recently used
  auto c = create("C");    // three resident: B goes
  CHECK(db->loads == 0);
  REQUIRE(retrieve(a.id));
  CHECK(db->loads == 0); // A stayed
  auto got_b = retrieve(b.id);
  REQUIRE(got_b);
  CHECK(db->loads == 1); // B came back from the store
  CHECK(got_b.value->json == b.json);
  REQUIRE(retrieve(c.id));
}
