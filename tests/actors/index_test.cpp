// Secondary indexes with the real store actors: every write keeps the
// entries and counts its customer calls for, and the index builder builds
// new indexes at start-up while customers change, and removes the entries
// of dropped ones.

#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <caf/exit_reason.hpp>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/index_builder.hpp"
#include "actors/router.hpp"
#include "actors/store.hpp"
#include "domain/customer_index.hpp"
#include "domain/json_body.hpp"
#include "fake_store.hpp"
#include "persistence/lmdb_store.hpp"
#include "support/temp_dir.hpp"

using json = nlohmann::json;
using tmf::test::ask;
namespace db = tmf::persistence;

namespace {

std::vector<std::string> paths_with(std::vector<std::string> extra) {
  auto paths = tmf::domain::builtin_index_paths();
  paths.insert(paths.end(), extra.begin(), extra.end());
  return paths;
}

json customer(const std::string& name, const std::string& status, int score,
              const std::string& medium) {
  return json{
    {"name", name},
    {"status", status},
    {"engagedParty", {{"id", "p-" + name}, {"@referredType", "Organization"}}},
    {"validFor", {{"startDateTime", "2024-01-0" + std::to_string(score % 9 + 1)
                                      + "T00:00:00+01:00"}}},
    {"contactMedium",
     {{{"mediumType", medium}, {"characteristic", json::object()}},
      {{"mediumType", "email"}, {"characteristic", json::object()}}}},
    {"creditProfile",
     {{{"creditProfileDate", "2024-01-01T00:00:00Z"},
       {"validFor", {{"startDateTime", "2024-01-01T00:00:00Z"}}},
       {"creditScore", score}}}}};
}

/// The store and its actors, with the indexes of `paths`.
struct index_fixture {
  tmf::test::temp_dir tmp;
  caf::actor_system_config cfg;
  caf::actor_system sys{tmf::test::actor_fixture::make_config(cfg)};
  caf::scoped_actor self{sys};
  std::shared_ptr<db::environment> env;
  tmf::index_setup setup;
  tmf::store_writer_actor writer;
  tmf::store_reader_actor reader;
  tmf::router_actor router;

  index_fixture() {
    std::string error;
    env = db::environment::open({tmp.path() + "/data", 1ull << 28, 126},
                                error);
    REQUIRE(env);
  }

  /// Decides the generations and starts the store actors and the router.
  void start(const std::vector<std::string>& paths) {
    std::string error;
    setup = tmf::index_setup{};
    REQUIRE(tmf::prepare_indexes(*env, paths, setup, error));
    writer = tmf::spawn_store_writer(sys, env, 64);
    auto lane = tmf::test::reader_over(env);
    lane.layout = setup.layout;
    reader = tmf::spawn_store_reader(sys, lane);
    tmf::router_config rc;
    rc.writer = writer;
    rc.readers = {reader};
    rc.loader = reader;
    rc.layout = setup.layout;
    router = tmf::spawn_router(sys, rc);
  }

  void stop() {
    for (auto h : {caf::actor_cast<caf::actor>(router),
                   caf::actor_cast<caf::actor>(writer),
                   caf::actor_cast<caf::actor>(reader)})
      if (h) {
        self->send_exit(h, caf::exit_reason::user_shutdown);
        self->wait_for(h);
      }
    router = nullptr;
    writer = nullptr;
    reader = nullptr;
  }

  ~index_fixture() {
    stop();
    env.reset();
    tmf::test::await_all_stopped(sys);
  }

  std::string create(const json& body) {
    auto made = ask<tmf::customer_doc>(self, router, tmf::create_atom_v,
                                       body.dump(),
                                       setup.layout->terms(body),
                                       std::string{});
    REQUIRE(made);
    return made.value->id;
  }

  tmf::test::reply<tmf::customer_doc> patch(const std::string& id,
                                            std::string body, bool json_patch) {
    tmf::patch_request req;
    req.body = std::move(body);
    req.kind = json_patch ? tmf::patch_request::json_patch
                          : tmf::patch_request::merge_patch;
    return ask<tmf::customer_doc>(self, router, tmf::patch_atom_v, id,
                                  std::move(req));
  }

  /// Checks that the index and its counts hold exactly what the stored
  /// customers call for in the ready indexes.
  void check_consistent() {
    std::set<std::string> expected;
    std::map<std::string, uint64_t> counts;
    auto txn = env->read();
    auto rows = txn.scan(db::table::customers, {},
                         [&](const db::record_view& rec) {
                           for (auto& term :
                                setup.layout->terms_of_text(rec.json)) {
                             expected.insert(
                               tmf::domain::index_key(term, rec.key));
                             ++counts[term];
                           }
                           return true;
                         });
    REQUIRE_FALSE(rows.failed());
    std::set<std::string> entries;
    auto idx = txn.scan(db::table::customer_index, {},
                        [&](const db::record_view& rec) {
                          entries.emplace(rec.key);
                          return true;
                        });
    REQUIRE_FALSE(idx.failed());
    std::map<std::string, uint64_t> stored;
    auto cnt = txn.scan(db::table::index_counts, {},
                        [&](const db::record_view& rec) {
                          stored[std::string{rec.key}] = db::key_seq(rec.json);
                          return true;
                        });
    REQUIRE_FALSE(cnt.failed());
    auto show = [](const std::string& k) {
      std::string out;
      for (unsigned char c : k)
        out += (c >= 0x20 && c < 0x7f) ? std::string(1, static_cast<char>(c))
                                       : "\\x" + std::to_string(c);
      return out;
    };
    for (auto& k : entries)
      if (!expected.count(k))
        UNSCOPED_INFO("extra entry " << show(k));
    for (auto& k : expected)
      if (!entries.count(k))
        UNSCOPED_INFO("missing entry " << show(k));
    CHECK(entries == expected);
    CHECK(stored == counts);
    CHECK_FALSE(expected.empty());
  }

  bool marked_ready(const std::string& path) {
    auto res = env->read().get(db::table::meta,
                               tmf::domain::index_marker_key(path));
    if (res.st != db::status::ok)
      return false;
    auto m = tmf::domain::parse_marker(res.rec.json);
    return m && m->ready;
  }
};

} // namespace

TEST_CASE("writes keep index entries and counts exact across create, "
          "patch and delete") {
  index_fixture f;
  f.start(paths_with({"creditProfile.creditScore",
                      "contactMedium.mediumType"}));
  CHECK(f.setup.to_build.empty()); // an empty store: ready at once
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i)
    ids.push_back(f.create(customer("C" + std::to_string(i % 3),
                                    i % 2 ? "Approved" : "Pending", 100 * i,
                                    i % 2 ? "phone" : "fax")));
  f.check_consistent();
  // Merge patches: rename, change and remove indexed attributes.
  REQUIRE(f.patch(ids[0], R"({"name":"Renamed","status":null})", false));
  REQUIRE(f.patch(ids[1], R"({"validFor":{"startDateTime":
            "2030-01-01T00:00:00-05:00"}})",
                  false));
  f.check_consistent();
  // JSON Patches: values through arrays, numbers.
  REQUIRE(f.patch(ids[2], R"([{"op":"add","path":"/contactMedium/-",
            "value":{"mediumType":"sms","characteristic":{}}},
           {"op":"replace","path":"/creditProfile/0/creditScore",
            "value":999}])",
                  true));
  REQUIRE(f.patch(ids[3], R"([{"op":"remove","path":"/contactMedium/0"}])",
                  true));
  f.check_consistent();
  // Refused patches change nothing.
  CHECK_FALSE(f.patch(ids[4], R"({"name":"X","engagedParty":null})", false));
  CHECK_FALSE(f.patch(ids[4], R"([{"op":"replace","path":"/name",
            "value":"Y"},{"op":"test","path":"/status","value":"no"}])",
                      true));
  f.check_consistent();
  // Deletes remove every entry and count.
  for (auto& id : {ids[0], ids[5]})
    REQUIRE(ask<bool>(f.self, f.router, tmf::erase_atom_v, id, std::string{},
                      std::string{}));
  f.check_consistent();
}

TEST_CASE("the fast lane hands a query that reads many customers over") {
  index_fixture f;
  f.start(paths_with({}));
  for (int i = 0; i < 30; ++i)
    f.create(customer("H" + std::to_string(i), "Approved", i, "fax"));
  auto fast_cfg = tmf::test::reader_over(f.env);
  fast_cfg.layout = f.setup.layout;
  fast_cfg.overflow = {f.reader};
  fast_cfg.handover = 10; // more candidates than this: hand over
  auto fast = tmf::spawn_store_reader(f.sys, fast_cfg);
  tmf::list_query q;
  q.limit = 5;
  // Two filters: the status index gives 30 candidates to check.
  q.filters = {{"status", tmf::filter_op::eq, {"Approved"}},
               {"name", tmf::filter_op::regex, {"1"}}};
  auto page = ask<tmf::list_page>(f.self, fast, tmf::list_atom_v, q);
  REQUIRE(page);
  CHECK(page.value->total == 12); // H1, H10..H19, H21
  CHECK(page.value->items.size() == 5);
  // Decided by the index: answered on the fast lane itself.
  q.filters.pop_back();
  auto decided = ask<tmf::list_page>(f.self, fast, tmf::list_atom_v, q);
  REQUIRE(decided);
  CHECK(decided.value->total == 30);
  f.self->send_exit(fast, caf::exit_reason::user_shutdown);
  f.self->wait_for(fast);
}

TEST_CASE("the index builder builds new indexes while customers change") {
  index_fixture f;
  // Rows written by an earlier build that had no index at all, and a
  // leftover entry of the old layout.
  std::vector<db::write_op> ops;
  std::vector<std::string> ids;
  for (int i = 0; i < 2500; ++i) {
    auto id = "0a0-" + std::to_string(100000 + i);
    auto body = customer("N" + std::to_string(i % 50),
                         i % 3 ? "Approved" : "Pending", i, "phone");
    body["id"] = id;
    ops.push_back(db::write_op{db::write_op::insert, db::table::customers, id,
                               tmf::domain::canonical_text(body.dump(), body),
                               0});
    ids.push_back(id);
  }
  ops.push_back(db::write_op{db::write_op::put, db::table::customer_index,
                             std::string{"name\0old\0", 9} + "0a0-x", {}, 0});
  std::vector<db::write_result> results;
  std::string error;
  REQUIRE(f.env->apply(ops, results, error) == db::status::ok);
  f.start(paths_with({"creditProfile.creditScore"}));
  CHECK(f.setup.ready.empty());
  CHECK(f.setup.to_build.size() == 5);
  CHECK_FALSE(f.marked_ready("name"));
  tmf::builder_config bc{f.env, f.writer, f.router, f.setup, 100};
  auto builder = tmf::spawn_index_builder(f.sys, bc);
  // Customers change while the builder runs.
  for (int i = 0; i < 200; ++i)
    REQUIRE(f.patch(ids[i * 12], R"({"name":"Moved )" + std::to_string(i)
                                  + R"(","status":"Closed"})",
                    false));
  REQUIRE(ask<bool>(f.self, f.router, tmf::erase_atom_v, ids[7],
                    std::string{}, std::string{}));
  f.self->wait_for(builder);
  for (const auto& path : f.setup.layout->specs())
    CHECK(f.marked_ready(path.path));
  f.check_consistent();
  // A restart without one index removes its entries and marker.
  f.stop();
  f.start(tmf::domain::builtin_index_paths());
  CHECK(f.setup.to_build.empty());
  auto again = tmf::spawn_index_builder(
    f.sys, tmf::builder_config{f.env, f.writer, f.router, f.setup, 100});
  f.self->wait_for(again);
  CHECK_FALSE(f.marked_ready("creditProfile.creditScore"));
  f.check_consistent();
}
