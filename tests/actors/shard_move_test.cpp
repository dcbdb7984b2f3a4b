// Moving a shard between two nodes' stores, without the network: the
// holder's reader exports it, the taker's writer imports it and marks it
// held, the holder's writer releases it. And the router of a cluster node
// while shards move.

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "actors/index_builder.hpp"
#include "actors/router.hpp"
#include "actors/store.hpp"
#include "domain/cluster_map.hpp"
#include "domain/customer_id.hpp"
#include "domain/customer_index.hpp"
#include "domain/hub.hpp"
#include "fake_store.hpp"
#include "persistence/lmdb_store.hpp"
#include "support/temp_dir.hpp"

using tmf::customer_doc;
using tmf::errc;
using tmf::list_page;
using tmf::list_query;
using tmf::shard_chunk;
using tmf::store_write;
using tmf::test::ask;
namespace db = tmf::persistence;

namespace {

/// The indexes of the nodes: the built-in ones and one through an array.
std::vector<std::string> node_indexes() {
  auto paths = tmf::domain::builtin_index_paths();
  paths.push_back("creditProfile.creditScore");
  return paths;
}

/// One node's store: its LMDB environment, indexes, writer and reader.
struct node_store {
  std::shared_ptr<db::environment> env;
  tmf::index_setup indexes;
  tmf::store_writer_actor writer;
  tmf::store_reader_actor reader;

  /// A node with the indexes of `paths`; `paths` in another order give
  /// the same indexes other generations (other index keys).
  node_store(caf::actor_system& sys, const std::string& path,
             const std::vector<std::string>& paths = node_indexes()) {
    std::string error;
    env = db::environment::open({path, 1ull << 27, 126}, error);
    INFO("open error: " << error);
    REQUIRE(env != nullptr);
    REQUIRE(tmf::prepare_indexes(*env, paths, indexes, error));
    REQUIRE(indexes.to_build.empty()); // an empty store's are built
    writer = tmf::spawn_store_writer(sys, env, 64, {}, indexes.layout);
    auto cfg = tmf::test::reader_over(env);
    cfg.layout = indexes.layout;
    reader = tmf::spawn_store_reader(sys, cfg);
  }

  /// The index keys a customer actor writes for `text`.
  std::vector<std::string> index_keys(const std::string& id,
                                      const std::string& text) const {
    return tmf::domain::index_keys(indexes.layout->terms_of_text(text), id);
  }

  /// Every index entry, and every count of `index_counts`.
  std::set<std::string> index_entries() {
    auto keys = this->keys(db::table::customer_index);
    return {keys.begin(), keys.end()};
  }

  std::map<std::string, uint64_t> index_counts() {
    std::map<std::string, uint64_t> out;
    auto res = env->read().scan(db::table::index_counts, {},
                                [&](const db::record_view& rec) {
      out[std::string{rec.key}] = db::key_seq(rec.json);
      return true;
    });
    REQUIRE_FALSE(res.failed());
    return out;
  }

  /// The count under the term of `name` in the name index (0: none).
  uint64_t name_count(const std::string& name) {
    auto terms = indexes.layout->terms(
      *indexes.layout->find("name"), nlohmann::json{{"name", name}});
    auto counts = index_counts();
    auto i = counts.find(terms.at(0));
    return i == counts.end() ? 0 : i->second;
  }

  /// Checks that the entries and counts are exactly those the stored rows
  /// call for.
  void check_consistent() {
    std::set<std::string> expected;
    std::map<std::string, uint64_t> counts;
    auto res = env->read().scan(db::table::customers, {},
                                [&](const db::record_view& rec) {
      for (auto& term : indexes.layout->terms_of_text(rec.json)) {
        expected.insert(tmf::domain::index_key(term, rec.key));
        ++counts[term];
      }
      return true;
    });
    REQUIRE_FALSE(res.failed());
    CHECK(index_entries() == expected);
    CHECK(index_counts() == counts);
  }

  /// The stored row of `id`, if any.
  std::optional<db::record> row(const std::string& id) {
    auto got = env->read().get(db::table::customers, id);
    if (got.st != db::status::ok)
      return std::nullopt;
    return got.rec;
  }

  /// Every key of `tbl`.
  std::vector<std::string> keys(db::table tbl) {
    std::vector<std::string> out;
    auto res = env->read().scan(tbl, {}, [&](const db::record_view& rec) {
      out.emplace_back(rec.key);
      return true;
    });
    REQUIRE_FALSE(res.failed());
    return out;
  }

  /// The customer ids of the outbox events.
  std::vector<std::string> outbox_customers() {
    std::vector<std::string> out;
    auto res = env->read().scan(db::table::outbox, {},
                                [&](const db::record_view& rec) {
      std::string_view customer, text;
      REQUIRE(tmf::domain::split_outbox_value(rec.json, customer, text));
      out.emplace_back(customer);
      return true;
    });
    REQUIRE_FALSE(res.failed());
    return out;
  }
};

std::vector<std::string> reversed(std::vector<std::string> xs) {
  std::reverse(xs.begin(), xs.end());
  return xs;
}

struct move_fixture {
  tmf::test::temp_dir tmp; // removed last
  caf::actor_system_config cfg;
  caf::actor_system sys{tmf::test::actor_fixture::make_config(cfg)};
  caf::scoped_actor self{sys};
  node_store holder{sys, tmp.path() + "/holder"};
  // The same indexes in another order: other generations, so the taker's
  // index keys differ from the holder's for the same customer.
  node_store taker{sys, tmp.path() + "/taker", reversed(node_indexes())};

  ~move_fixture() {
    for (auto* n : {&holder, &taker}) {
      self->send_exit(n->writer, caf::exit_reason::user_shutdown);
      self->send_exit(n->reader, caf::exit_reason::user_shutdown);
    }
    tmf::test::await_all_stopped(sys);
  }

  /// Creates a customer named `name` in `shard` on `n` (with the event
  /// `event` when not empty); returns its id.
  std::string create(node_store& n, uint16_t shard, const std::string& name,
                     const std::string& extra = {},
                     const std::string& event = {}) {
    auto id = tmf::domain::make_customer_id(shard);
    store_write w;
    w.kind = store_write::insert;
    w.id = id;
    w.json = R"({"id":")" + id + R"(","name":")" + name + "\"" + extra + "}";
    w.index_add = n.index_keys(id, w.json);
    if (!event.empty())
      w.events.push_back(event);
    auto res = ask<uint64_t>(self, n.writer, tmf::write_atom_v, std::move(w));
    REQUIRE(res);
    return id;
  }

  /// Every chunk of `shard` from `n`, in order.
  std::vector<shard_chunk> export_all(node_store& n, uint16_t shard) {
    std::vector<shard_chunk> out;
    std::string from;
    for (int i = 0; i < 1000; ++i) {
      auto chunk = ask<shard_chunk>(self, n.reader, tmf::export_atom_v,
                                    shard, from);
      REQUIRE(chunk);
      from = chunk.value->next;
      out.push_back(std::move(*chunk.value));
      if (from.empty())
        return out;
    }
    FAIL("the export never ended");
    return out;
  }

  /// Moves `shard` from the holder to the taker like the shard mover.
  uint64_t move(uint16_t shard) {
    std::vector<std::string> events;
    for (auto& chunk : export_all(holder, shard)) {
      std::move(chunk.events.begin(), chunk.events.end(),
                std::back_inserter(events));
      auto stored = ask<uint64_t>(self, taker.writer, tmf::import_atom_v,
                                  chunk);
      REQUIRE(stored);
      CHECK(*stored.value == chunk.rows.size());
    }
    REQUIRE(ask<bool>(self, taker.writer, tmf::held_atom_v, shard, events));
    auto released = ask<uint64_t>(self, holder.writer, tmf::release_atom_v,
                                  shard);
    REQUIRE(released);
    return *released.value;
  }

  /// Stores customer `id` with `text` on `n` as a create does.
  void insert(node_store& n, const std::string& id, const std::string& text) {
    store_write w;
    w.kind = store_write::insert;
    w.id = id;
    w.json = text;
    w.index_add = n.index_keys(id, text);
    REQUIRE(ask<uint64_t>(self, n.writer, tmf::write_atom_v, std::move(w)));
  }

  /// Replaces the text of `id` on `n` at `version`, with the index
  /// changes a customer actor sends.
  void replace(node_store& n, const std::string& id, const std::string& text,
               uint64_t version) {
    auto before = n.row(id);
    REQUIRE(before);
    auto old_keys = n.index_keys(id, before->json);
    auto new_keys = n.index_keys(id, text);
    store_write w;
    w.kind = store_write::replace;
    w.id = id;
    w.json = text;
    w.expected_version = version;
    for (auto& k : old_keys)
      if (std::find(new_keys.begin(), new_keys.end(), k) == new_keys.end())
        w.index_remove.push_back(k);
    w.index_add = new_keys;
    REQUIRE(ask<uint64_t>(self, n.writer, tmf::write_atom_v, std::move(w)));
  }

  list_page by_name(node_store& n, const std::string& name) {
    list_query q;
    q.filters.push_back({"name", tmf::filter_op::eq, {name}});
    q.limit = 1000;
    auto page = ask<list_page>(self, n.reader, tmf::list_atom_v, q);
    REQUIRE(page);
    return *page.value;
  }

  void subscribe(node_store& n) {
    auto id = tmf::domain::make_random_id();
    REQUIRE(ask<uint64_t>(self, n.writer, tmf::subscribe_atom_v, id,
                          tmf::domain::subscription_text(
                            id, "http://127.0.0.1:9/cb", "")));
  }
};

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

TEST_CASE_METHOD(move_fixture,
                 "a shard moves with its versions and index entries and "
                 "leaves the other shards where they are") {
  auto a = create(holder, 5, "Ann");
  auto b = create(holder, 5, "Bob");
  auto c = create(holder, 6, "Ann");
  // b at version 2.
  auto b_text = R"({"id":")" + b + R"(","name":"Bob","status":"Approved"})";
  replace(holder, b, b_text, 1);

  CHECK(move(5) == 2);

  // The taker has shard 5 as it was, found by its index too.
  REQUIRE(taker.row(a));
  CHECK(taker.row(a)->version == 1);
  REQUIRE(taker.row(b));
  CHECK(taker.row(b)->version == 2);
  CHECK(taker.row(b)->json == b_text);
  CHECK_FALSE(taker.row(c));
  CHECK(by_name(taker, "Ann").total == 1);
  CHECK(by_name(taker, "Bob").total == 1);
  auto marks = taker.keys(db::table::meta);
  CHECK(std::count(marks.begin(), marks.end(),
                   tmf::domain::held_shard_key(5))
        == 1);
  // The holder kept shard 6 only, and its index entries only.
  CHECK_FALSE(holder.row(a));
  CHECK_FALSE(holder.row(b));
  CHECK(holder.row(c));
  auto ann = by_name(holder, "Ann");
  REQUIRE(ann.total == 1);
  CHECK(ann.items[0].find(c) != std::string::npos);
  CHECK(by_name(holder, "Bob").total == 0);
  for (const auto& key : holder.keys(db::table::customer_index))
    CHECK(key.find(a) == std::string::npos);
  // Moving it again finds nothing left to release.
  CHECK(move(5) == 0);
  CHECK(taker.row(a));
}

TEST_CASE_METHOD(move_fixture,
                 "index entries and counts move with a shard: the taker "
                 "ends up as if the customers had been created there") {
  auto scores = [](std::vector<int> xs) {
    std::string out = R"(,"creditProfile":[)";
    for (size_t i = 0; i < xs.size(); ++i)
      out += std::string{i ? "," : ""} + R"({"creditScore":)"
             + std::to_string(xs[i]) + "}";
    return out + "]";
  };
  // The taker's own customer in a shard it owned before.
  auto own = create(taker, 7, "Ann", R"(,"status":"Approved")" + scores({3, 7}));
  // The holder's shard 5 (to move) and shard 6 (to keep).
  auto a = create(holder, 5, "Ann", R"(,"status":"Approved")" + scores({3, 7}));
  auto b = create(holder, 5, "Bob"); // no status, no score: absent entries
  auto d = create(holder, 5, "Dee", scores({7, 7}));
  auto c = create(holder, 6, "Ann");
  auto b_text = R"({"id":")" + b + R"(","name":"Bob","status":"Initialized"})";
  replace(holder, b, b_text, 1);
  holder.check_consistent();
  taker.check_consistent();
  CHECK(holder.name_count("Ann") == 2);
  CHECK(taker.name_count("Ann") == 1);
  REQUIRE(holder.indexes.layout->find("name")->generation
          != taker.indexes.layout->find("name")->generation);

  CHECK(move(5) == 3);

  // Both nodes hold exactly the entries and counts their rows call for.
  holder.check_consistent();
  taker.check_consistent();
  CHECK(holder.name_count("Ann") == 1);
  CHECK(holder.name_count("Bob") == 0);
  CHECK(holder.name_count("Dee") == 0);
  CHECK(taker.name_count("Ann") == 2);
  CHECK(taker.name_count("Bob") == 1);
  CHECK(taker.name_count("Dee") == 1);
  for (const auto& key : holder.keys(db::table::customer_index))
    for (const auto& id : {a, b, d})
      CHECK(key.find(id) == std::string::npos);
  // The taker is what a node with its indexes would be had the customers
  // been created there.
  node_store ref{sys, tmp.path() + "/ref", reversed(node_indexes())};
  for (const auto& id : {own, a, b, d})
    insert(ref, id, taker.row(id)->json);
  CHECK(taker.index_entries() == ref.index_entries());
  CHECK(taker.index_counts() == ref.index_counts());
  // Queries the counts and entries answer.
  CHECK(by_name(taker, "Ann").total == 2);
  CHECK(by_name(holder, "Ann").total == 1);
  list_query q;
  q.filters.push_back({"creditProfile.creditScore", tmf::filter_op::eq, {"7"}});
  q.limit = 10;
  auto sevens = ask<list_page>(self, taker.reader, tmf::list_atom_v, q);
  REQUIRE(sevens);
  CHECK(sevens.value->total == 3);
  CHECK(sevens.value->items.size() == 3);

  // A resumed move imports rows again, some of them changed meanwhile:
  // nothing is counted twice, and no entry of the older text stays.
  auto again = export_all(taker, 5);
  REQUIRE(again.size() == 1);
  auto chunk = again[0];
  REQUIRE(ask<uint64_t>(self, taker.writer, tmf::import_atom_v, chunk));
  taker.check_consistent();
  CHECK(taker.name_count("Ann") == 2);
  for (auto& row : chunk.rows)
    if (row.id == a) {
      row.json = R"({"id":")" + a + R"(","name":"Eve")" + scores({1}) + "}";
      ++row.version;
    }
  REQUIRE(ask<uint64_t>(self, taker.writer, tmf::import_atom_v, chunk));
  taker.check_consistent();
  CHECK(taker.name_count("Ann") == 1);
  CHECK(taker.name_count("Eve") == 1);
  CHECK(c == holder.row(c)->json.substr(7, c.size()));

  for (auto* n : {&ref})
    for (auto h : {caf::actor_cast<caf::actor>(n->writer),
                   caf::actor_cast<caf::actor>(n->reader)}) {
      self->send_exit(h, caf::exit_reason::user_shutdown);
      self->wait_for(h);
    }
}

TEST_CASE_METHOD(move_fixture,
                 "a large shard comes in chunks of about 1 MiB that resume "
                 "at the next key") {
  std::string filler(60 * 1024, 'x');
  std::set<std::string> ids;
  for (int i = 0; i < 40; ++i)
    ids.insert(create(holder, 9, "N" + std::to_string(i),
                      R"(,"description":")" + filler + "\""));
  create(holder, 10, "Other");
  auto chunks = export_all(holder, 9);
  REQUIRE(chunks.size() >= 2);
  std::set<std::string> seen;
  for (auto& chunk : chunks) {
    size_t bytes = 0;
    for (auto& row : chunk.rows) {
      CHECK(starts_with(row.id, tmf::domain::shard_prefix(9)));
      CHECK(seen.insert(row.id).second); // no row twice
      bytes += row.json.size();
    }
    CHECK(bytes <= (1u << 20) + filler.size() + 200);
  }
  CHECK(seen == ids);
  CHECK(move(9) == 40);
  for (auto& id : ids)
    CHECK(taker.row(id));
}

TEST_CASE_METHOD(move_fixture,
                 "the pending events of a shard move with it, handled ones "
                 "and other shards' stay") {
  subscribe(holder);
  subscribe(taker);
  auto early = create(holder, 5, "Early", {}, R"({"eventId":"e1"})");
  // Every subscription has handled the first event.
  std::vector<tmf::notifier_write> advance;
  for (auto& key : holder.keys(db::table::cursors))
    advance.push_back({tmf::notifier_write::advance, key, 1, {}});
  REQUIRE(ask<bool>(self, holder.writer, tmf::write_atom_v, advance));
  auto late = create(holder, 5, "Late", {}, R"({"eventId":"e2"})");
  auto other = create(holder, 6, "Other", {}, R"({"eventId":"e3"})");

  auto chunks = export_all(holder, 5);
  std::vector<std::string> events;
  for (auto& chunk : chunks)
    events.insert(events.end(), chunk.events.begin(), chunk.events.end());
  REQUIRE(events.size() == 1);
  CHECK(events[0].find("e2") != std::string::npos);

  move(5);
  CHECK(taker.outbox_customers() == std::vector<std::string>{late});
  auto left = holder.outbox_customers();
  CHECK(std::find(left.begin(), left.end(), late) == left.end());
  CHECK(std::find(left.begin(), left.end(), other) != left.end());
  (void) early;
}

TEST_CASE_METHOD(move_fixture,
                 "an export refuses a key outside its shard and a chunk "
                 "import refuses rows of another shard") {
  auto id = create(holder, 3, "Ann");
  auto bad = ask<shard_chunk>(self, holder.reader, tmf::export_atom_v,
                              uint16_t{4}, id);
  REQUIRE_FALSE(bad);
  CHECK(bad.err == errc::invalid);
  shard_chunk chunk;
  chunk.shard = 4;
  chunk.rows.push_back(customer_doc{id, 1, R"({"id":"x"})"});
  auto refused = ask<uint64_t>(self, taker.writer, tmf::import_atom_v,
                               chunk);
  REQUIRE_FALSE(refused);
  CHECK(refused.err == errc::invalid);
  CHECK_FALSE(taker.row(id));
}

// -- the router of a cluster node while shards move ---------------------------

namespace {

struct cluster_router_fixture : tmf::test::actor_fixture {
  std::shared_ptr<tmf::cluster_routing> routing
    = std::make_shared<tmf::cluster_routing>();
  tmf::router_actor router;
  uint16_t waiting_shard = 0;
  uint16_t ready_shard = 0;

  cluster_router_fixture() {
    routing->table = std::make_shared<tmf::domain::shard_table>(
      std::vector<std::string>{"a", "b"});
    routing->self = 0;
    routing->links.resize(2);
    routing->own_shards = routing->table->shards_of(0);
    REQUIRE(routing->own_shards.size() > 2);
    waiting_shard = routing->own_shards[0];
    ready_shard = routing->own_shards[1];
    tmf::router_config rc;
    rc.writer = writer;
    rc.readers = {reader};
    rc.cluster = routing;
    router = own(tmf::spawn_router(sys, rc));
  }

  void report(std::vector<uint16_t> waiting, uint64_t leaving) {
    self->send(router, tmf::held_atom_v, std::move(waiting), leaving);
  }
};

} // namespace

TEST_CASE_METHOD(cluster_router_fixture,
                 "a cluster node refuses its shards until it holds them and "
                 "creates only in held ones") {
  auto in_waiting = tmf::domain::make_customer_id(waiting_shard);
  auto in_ready = tmf::domain::make_customer_id(ready_shard);
  // Before the shard mover reports, every owned shard waits.
  auto early = ask<customer_doc>(self, router, tmf::retrieve_atom_v,
                                 in_ready);
  REQUIRE_FALSE(early);
  CHECK(early.err == errc::unavailable);
  auto create_early = ask<customer_doc>(
    self, router, tmf::create_atom_v, std::string{R"({"name":"x"})"},
    std::vector<std::string>{}, std::string{});
  REQUIRE_FALSE(create_early);
  CHECK(create_early.err == errc::unavailable);

  report({waiting_shard}, 0);
  auto refused = ask<customer_doc>(self, router, tmf::retrieve_atom_v,
                                   in_waiting);
  REQUIRE_FALSE(refused);
  CHECK(refused.err == errc::unavailable);
  CHECK(tmf::error_text(refused.err).find("moving") != std::string::npos);
  auto patch = ask<customer_doc>(self, router, tmf::patch_atom_v, in_waiting,
                                 tmf::test::merge("{}"));
  REQUIRE_FALSE(patch);
  CHECK(patch.err == errc::unavailable);
  auto erase = ask<bool>(self, router, tmf::erase_atom_v, in_waiting,
                         std::string{}, std::string{});
  REQUIRE_FALSE(erase);
  CHECK(erase.err == errc::unavailable);
  // A held shard is served (not found here: the fake store is empty).
  auto served = ask<customer_doc>(self, router, tmf::retrieve_atom_v,
                                  in_ready);
  REQUIRE_FALSE(served);
  CHECK(served.err == errc::not_found);
  for (int i = 0; i < 50; ++i) {
    auto created = ask<customer_doc>(
      self, router, tmf::create_atom_v,
      std::string{R"({"name":"x"})"}, std::vector<std::string>{},
      std::string{});
    REQUIRE(created);
    auto shard = tmf::domain::shard_of(created.value->id);
    CHECK(shard != waiting_shard);
    CHECK(routing->table->owner(shard) == 0);
  }
}

TEST_CASE_METHOD(cluster_router_fixture,
                 "a cluster node's part of a list answers 503 while any "
                 "shard moves to or from it") {
  list_query q;
  q.limit = 10;
  auto part = [&] {
    return ask<list_page>(self, router, tmf::list_atom_v, tmf::local_atom_v,
                          q);
  };
  report({waiting_shard}, 0);
  auto incoming = part();
  REQUIRE_FALSE(incoming);
  CHECK(incoming.err == errc::unavailable);
  report({}, 3);
  auto outgoing = part();
  REQUIRE_FALSE(outgoing);
  CHECK(outgoing.err == errc::unavailable);
  report({}, 0);
  CHECK(part());
}
