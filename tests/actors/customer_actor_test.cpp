// The per-customer actor against an in-memory fake store: create, retrieve,
// load, merge patch, erase, write failures and the serialisation of
// operations on one customer.

#include "actors/customer.hpp"

#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_id.hpp"
#include "fake_store.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;
using tmf::customer_doc;
using tmf::errc;
using tmf::test::ask;
using tmf::test::reply;

namespace {

/// A valid stored body without id, as http/ sends it (compact JSON).
json body_json() {
  return json::parse(R"({
    "name": "Alice Example",
    "status": "Approved",
    "engagedParty": {"id": "org-1", "name": "Org One",
                     "@referredType": "Organization"},
    "characteristic": [{"name": "segment", "value": "gold"},
                       {"name": "seats", "value": 3}]
  })");
}

std::string body() {
  return body_json().dump();
}

std::string id_prefix(const std::string& id) {
  return "{\"id\":\"" + id + "\",";
}

bool starts_with(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

struct customer_fixture : tmf::test::actor_fixture {
  tmf::customer_env env() {
    tmf::customer_env e;
    e.writer = writer;
    e.reader = reader;
    return e;
  }

  tmf::customer_actor spawn(const std::string& id, bool fresh) {
    return own(tmf::spawn_customer(self.ptr(), id, fresh, env()));
  }

  /// A fresh customer with `body()` created (version 1).
  tmf::customer_actor created(const std::string& id) {
    auto c = spawn(id, true);
    auto r = ask<customer_doc>(self, c, tmf::create_atom_v, body(),
                             std::vector<std::string>{}, std::string{});
    REQUIRE(r);
    REQUIRE(r.value->version == 1);
    return c;
  }
};

} // namespace

TEST_CASE_METHOD(customer_fixture,
                 "customer create stores id first and version 1 after the "
                 "writer answered") {
  auto id = tmf::domain::make_customer_id(7);
  auto c = spawn(id, true);
  db->write_delay_ms = 200; // the answer can only come after the delay
  auto r = ask<customer_doc>(self, c, tmf::create_atom_v, body(),
                             std::vector<std::string>{}, std::string{});
  REQUIRE(r);
  // The fake counts its answer before delivering it: a customer that
  // answered before the writer would be seen here with answered == 0.
  CHECK(db->answered == 1);
  CHECK(db->writes == 1);
  CHECK(r.value->id == id);
  CHECK(r.value->version == 1);
  CHECK(starts_with(r.value->json, id_prefix(id)));
  auto doc = json::parse(r.value->json);
  auto expected = body_json();
  expected["id"] = id;
  CHECK(doc == expected);
  auto row = db->get(id);
  REQUIRE(row);
  CHECK(row->version == 1);
  CHECK(row->json == r.value->json);
  auto writes = db->writes_seen();
  REQUIRE(writes.size() == 1);
  CHECK(writes[0].kind == tmf::store_write::insert);
  CHECK(writes[0].id == id);
}

TEST_CASE_METHOD(customer_fixture,
                 "customer create of an empty object stores just the id") {
  auto id = tmf::domain::make_customer_id(8);
  auto c = spawn(id, true);
  auto r = ask<customer_doc>(self, c, tmf::create_atom_v, std::string{"{}"},
                             std::vector<std::string>{}, std::string{});
  REQUIRE(r);
  CHECK(r.value->json == "{\"id\":\"" + id + "\"}");
  CHECK(json::parse(r.value->json) == json{{"id", id}});
}

TEST_CASE_METHOD(customer_fixture,
                 "customer retrieve after create answers from memory") {
  auto id = tmf::domain::make_customer_id(1);
  auto c = spawn(id, true);
  auto created = ask<customer_doc>(self, c, tmf::create_atom_v, body(),
                             std::vector<std::string>{}, std::string{});
  REQUIRE(created);
  auto r = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(r);
  CHECK(r.value->id == id);
  CHECK(r.value->version == 1);
  CHECK(r.value->json == created.value->json);
  CHECK(db->loads == 0);
}

TEST_CASE_METHOD(customer_fixture,
                 "customer that is not fresh loads the stored doc") {
  auto id = tmf::domain::make_customer_id(2);
  auto stored = "{\"id\":\"" + id + "\",\"name\":\"Stored\"}";
  db->put(id, 5, stored);
  auto c = spawn(id, false);
  auto r = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(r);
  CHECK(r.value->id == id);
  CHECK(r.value->version == 5);
  CHECK(r.value->json == stored);
  CHECK(db->loads == 1);
  // Further requests are answered from memory.
  auto again = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(again);
  CHECK(again.value->version == 5);
  CHECK(db->loads == 1);
}

TEST_CASE_METHOD(customer_fixture,
                 "customer load of a missing id keeps answering not_found") {
  auto id = tmf::domain::make_customer_id(3);
  auto c = spawn(id, false);
  for (int i = 0; i < 3; ++i) {
    auto r = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
    REQUIRE_FALSE(r);
    CHECK(r.err == errc::not_found);
  }
  auto p = ask<customer_doc>(self, c, tmf::patch_atom_v,
                             tmf::test::merge(std::string{R"({"name":"x"})"}));
  REQUIRE_FALSE(p);
  CHECK(p.err == errc::not_found);
  auto e = ask<bool>(self, c, tmf::erase_atom_v, std::string{}, std::string{});
  REQUIRE_FALSE(e);
  CHECK(e.err == errc::not_found);
  CHECK(db->loads == 1);
  CHECK(db->writes == 0);
}

TEST_CASE_METHOD(customer_fixture,
                 "customer patch merges and bumps the version with id first") {
  auto id = tmf::domain::make_customer_id(4);
  auto c = created(id);
  auto patch = json::parse(R"({
    "status": null,
    "engagedParty": {"name": "Org Renamed"},
    "characteristic": [{"name": "tier", "value": "platinum"}],
    "description": "added"
  })");
  auto r = ask<customer_doc>(self, c, tmf::patch_atom_v,
                             tmf::test::merge(patch.dump()));
  REQUIRE(r);
  CHECK(r.value->version == 2);
  CHECK(starts_with(r.value->json, id_prefix(id)));
  auto doc = json::parse(r.value->json);
  CHECK(doc["id"] == id);
  CHECK(doc.count("status") == 0);                      // null removes
  CHECK(doc["engagedParty"]["name"] == "Org Renamed");  // objects merge
  CHECK(doc["engagedParty"]["id"] == "org-1");
  CHECK(doc["engagedParty"]["@referredType"] == "Organization");
  CHECK(doc["characteristic"]                           // arrays replace
        == json::parse(R"([{"name": "tier", "value": "platinum"}])"));
  CHECK(doc["description"] == "added");
  CHECK(doc["name"] == "Alice Example");
  auto row = db->get(id);
  REQUIRE(row);
  CHECK(row->version == 2);
  CHECK(row->json == r.value->json);
  CHECK(db->writes == 2);
  auto writes = db->writes_seen();
  REQUIRE(writes.size() == 2);
  CHECK(writes[1].kind == tmf::store_write::replace);
  CHECK(writes[1].expected_version == 1);
  // A second patch builds on the first one.
  auto r2 = ask<customer_doc>(
    self, c, tmf::patch_atom_v,
    tmf::test::merge(std::string{R"({"description":null})"}));
  REQUIRE(r2);
  CHECK(r2.value->version == 3);
  CHECK(starts_with(r2.value->json, id_prefix(id)));
  auto doc2 = json::parse(r2.value->json);
  CHECK(doc2.count("description") == 0);
  CHECK(doc2["engagedParty"]["name"] == "Org Renamed");
  auto get = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(get);
  CHECK(get.value->version == 3);
  CHECK(get.value->json == r2.value->json);
}

TEST_CASE_METHOD(customer_fixture,
                 "customer patch that breaks the schema answers invalid "
                 "without a write") {
  auto id = tmf::domain::make_customer_id(5);
  auto c = created(id);
  auto before = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(before);
  for (auto patch : {R"({"engagedParty":null})", R"({"name":null})",
                     R"({"id":"other"})", R"([1,2])", R"({not json)"}) {
    INFO("patch: " << patch);
    auto r = ask<customer_doc>(self, c, tmf::patch_atom_v,
                               tmf::test::merge(std::string{patch}));
    REQUIRE_FALSE(r);
    CHECK(r.err == errc::invalid);
    CHECK_FALSE(tmf::error_text(r.err).empty());
  }
  CHECK(db->writes == 1); // the create only
  auto after = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(after);
  CHECK(after.value->version == 1);
  CHECK(after.value->json == before.value->json);
  // The failed patches left nothing behind: a valid one still works.
  auto ok
    = ask<customer_doc>(self, c, tmf::patch_atom_v,
                        tmf::test::merge(std::string{R"({"name":"Bob"})"}));
  REQUIRE(ok);
  CHECK(ok.value->version == 2);
  CHECK(json::parse(ok.value->json)["engagedParty"]["id"] == "org-1");
}

TEST_CASE_METHOD(customer_fixture,
                 "customer no-op patch answers the current doc without a "
                 "write") {
  auto id = tmf::domain::make_customer_id(6);
  auto c = created(id);
  auto before = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(before);
  for (auto patch : {R"({})", R"({"name":"Alice Example"})",
                     R"({"engagedParty":{"id":"org-1"},"missing":null})"}) {
    INFO("patch: " << patch);
    auto r = ask<customer_doc>(self, c, tmf::patch_atom_v,
                               tmf::test::merge(std::string{patch}));
    REQUIRE(r);
    CHECK(r.value->version == 1);
    CHECK(r.value->json == before.value->json);
  }
  CHECK(db->writes == 1);
}

TEST_CASE_METHOD(customer_fixture,
                 "customer failed write answers the error and keeps the "
                 "old doc") {
  auto id = tmf::domain::make_customer_id(9);
  auto c = created(id);
  auto before = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(before);
  db->fail_next_write(errc::storage_full);
  auto r = ask<customer_doc>(self, c, tmf::patch_atom_v,
                             tmf::test::merge(std::string{
                               R"({"name":"Never Stored","nickname":"Nev"})"}));
  REQUIRE_FALSE(r);
  CHECK(r.err == errc::storage_full);
  CHECK(db->writes == 2);
  auto after = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE(after);
  CHECK(after.value->version == 1);
  CHECK(after.value->json == before.value->json);
  // The parsed document (fields=) is rolled back too, added members
  // included.
  auto projected = ask<customer_doc>(
    self, c, tmf::retrieve_atom_v,
    std::vector<std::string>{"name", "nickname"});
  REQUIRE(projected);
  auto p = json::parse(projected.value->json);
  CHECK(p["name"] == "Alice Example");
  CHECK_FALSE(p.contains("nickname"));
  auto row = db->get(id);
  REQUIRE(row);
  CHECK(row->version == 1);
  // The next patch starts from the old doc, not from the failed one.
  auto ok = ask<customer_doc>(
    self, c, tmf::patch_atom_v,
    tmf::test::merge(std::string{R"({"status":"Validated"})"}));
  REQUIRE(ok);
  CHECK(ok.value->version == 2);
  auto doc = json::parse(ok.value->json);
  CHECK(doc["name"] == "Alice Example");
  CHECK(doc["status"] == "Validated");
}

TEST_CASE_METHOD(customer_fixture,
                 "customer failed create answers the error and stays "
                 "absent") {
  auto id = tmf::domain::make_customer_id(10);
  auto c = spawn(id, true);
  db->fail_next_write(errc::store_failed);
  auto r = ask<customer_doc>(self, c, tmf::create_atom_v, body(),
                             std::vector<std::string>{}, std::string{});
  REQUIRE_FALSE(r);
  CHECK(r.err == errc::store_failed);
  auto get = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE_FALSE(get);
  CHECK(get.err == errc::not_found);
  CHECK_FALSE(db->get(id));
}

TEST_CASE_METHOD(customer_fixture,
                 "customer erase commits and then retrieve answers not_found") {
  auto id = tmf::domain::make_customer_id(11);
  auto c = created(id);
  REQUIRE(db->get(id));
  auto e = ask<bool>(self, c, tmf::erase_atom_v, std::string{}, std::string{});
  REQUIRE(e);
  CHECK(*e.value);
  CHECK_FALSE(db->get(id));
  auto writes = db->writes_seen();
  REQUIRE(writes.size() == 2);
  CHECK(writes[1].kind == tmf::store_write::erase);
  CHECK(writes[1].expected_version == 1);
  auto r = ask<customer_doc>(self, c, tmf::retrieve_atom_v);
  REQUIRE_FALSE(r);
  CHECK(r.err == errc::not_found);
  auto again = ask<bool>(self, c, tmf::erase_atom_v, std::string{},
                         std::string{});
  REQUIRE_FALSE(again);
  CHECK(again.err == errc::not_found);
}

TEST_CASE_METHOD(customer_fixture,
                 "customer operations are serialised behind a slow write") {
  auto id = tmf::domain::make_customer_id(12);
  auto c = created(id);
  db->write_delay_ms = 300;
  // Patch A and a retrieve, sent back to back without waiting.
  auto patch_h
    = self->request(c, tmf::test::request_timeout, tmf::patch_atom_v,
                    tmf::test::merge(std::string{R"({"name":"Patched A"})"}));
  auto get_h = self->request(c, tmf::test::request_timeout,
                             tmf::retrieve_atom_v);
  reply<customer_doc> got;
  get_h.receive([&](customer_doc& d) { got.value = std::move(d); },
                [&](caf::error& e) { got.err = std::move(e); });
  reply<customer_doc> patched;
  patch_h.receive([&](customer_doc& d) { patched.value = std::move(d); },
                  [&](caf::error& e) { patched.err = std::move(e); });
  REQUIRE(patched);
  REQUIRE(got);
  CHECK(patched.value->version == 2);
  CHECK(got.value->version == 2);
  CHECK(json::parse(got.value->json)["name"] == "Patched A");
  CHECK(got.value->json == patched.value->json);
  CHECK(db->answered == 2);
}

TEST_CASE_METHOD(customer_fixture,
                 "customer create then retrieve without waiting sees the "
                 "created doc") {
  auto id = tmf::domain::make_customer_id(13);
  auto c = spawn(id, true);
  db->write_delay_ms = 300;
  auto create_h = self->request(c, tmf::test::request_timeout,
                                tmf::create_atom_v, body(),
                             std::vector<std::string>{}, std::string{});
  auto get_h = self->request(c, tmf::test::request_timeout,
                             tmf::retrieve_atom_v);
  reply<customer_doc> got;
  get_h.receive([&](customer_doc& d) { got.value = std::move(d); },
                [&](caf::error& e) { got.err = std::move(e); });
  reply<customer_doc> made;
  create_h.receive([&](customer_doc& d) { made.value = std::move(d); },
                   [&](caf::error& e) { made.err = std::move(e); });
  REQUIRE(made);
  REQUIRE(got);
  CHECK(got.value->version == 1);
  CHECK(got.value->json == made.value->json);
  CHECK(db->loads == 0);
}
