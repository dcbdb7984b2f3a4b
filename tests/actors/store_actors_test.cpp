// The store actors (writer, reader) and the router over the real LMDB store
// with failures injected through the store's fault hook: a failed read is
// store_failed (never not_found or a short page), a write without room is
// storage_full, a removed data folder is unavailable.

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <lmdb.h>
#include <nlohmann/json.hpp>

#include "actors/router.hpp"
#include "actors/store.hpp"
#include "domain/customer_index.hpp"
#include "fake_store.hpp"
#include "persistence/lmdb_store.hpp"
#include "support/stderr_capture.hpp"

using tmf::customer_doc;
using tmf::errc;
using tmf::list_page;
using tmf::list_query;
using tmf::store_write;
using tmf::test::ask;

namespace Catch {

/// Shows an error as its code and its message.
template <>
struct StringMaker<caf::error> {
  static std::string convert(const caf::error& err) {
    return caf::to_string(err) + " \"" + tmf::error_text(err) + "\"";
  }
};

} // namespace Catch

namespace {

/// Which LMDB call fails: shared by the test thread and the store actors'
/// threads. The calls of `origin` after the first `skip` ones return `rc`.
class fault_switch {
public:
  void fail(std::string origin, int rc, int skip = 0) {
    std::lock_guard<std::mutex> guard{mtx_};
    origin_ = std::move(origin);
    rc_ = rc;
    skip_ = skip;
  }

  void clear() {
    fail({}, 0);
  }

  int filter(std::string_view origin, int rc) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (origin_.empty() || origin != origin_)
      return rc;
    if (skip_ > 0) {
      --skip_;
      return rc;
    }
    return rc_;
  }

private:
  std::mutex mtx_;
  std::string origin_;
  int rc_ = 0;
  int skip_ = 0;
};

/// A fresh folder under /tmp, removed with its contents on destruction.
struct temp_dir {
  std::string path;

  temp_dir() {
    char tmpl[] = "/tmp/tmf-store-actors-test-XXXXXX";
    auto ptr = ::mkdtemp(tmpl);
    REQUIRE(ptr != nullptr);
    path = ptr;
  }

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

/// The real store writer and reader (and a router over them) on an LMDB
/// environment whose calls go through a fault switch.
struct store_fixture {
  temp_dir tmp; // declared first: removed last
  std::shared_ptr<fault_switch> faults = std::make_shared<fault_switch>();
  caf::actor_system_config cfg;
  caf::actor_system sys{tmf::test::actor_fixture::make_config(cfg)};
  caf::scoped_actor self{sys};
  tmf::store_writer_actor writer;
  tmf::store_reader_actor reader;
  tmf::router_actor router;
  /// A built name index (generation 1).
  std::shared_ptr<const tmf::domain::index_layout> layout
    = std::make_shared<const tmf::domain::index_layout>(
      std::vector<tmf::domain::index_spec>{{"name", 1, {}}});

  store_fixture() {
    tmf::persistence::env_options opts;
    opts.path = tmp.path + "/data";
    opts.map_size = 1ull << 26;
    opts.fault = [f = faults](std::string_view origin, int rc) {
      return f->filter(origin, rc);
    };
    std::string error;
    std::shared_ptr<tmf::persistence::environment> env
      = tmf::persistence::environment::open(opts, error);
    INFO("open error: " << error);
    REQUIRE(env != nullptr);
    std::vector<tmf::persistence::write_result> results;
    REQUIRE(env->apply({{tmf::persistence::write_op::put,
                         tmf::persistence::table::meta,
                         tmf::domain::index_marker_key("name"),
                         tmf::domain::render_marker(
                           {true, tmf::domain::index_layout_version, 1})}},
                       results, error)
            == tmf::persistence::status::ok);
    writer = tmf::spawn_store_writer(sys, env, 64);
    auto lane = tmf::test::reader_over(env);
    lane.layout = layout;
    reader = tmf::spawn_store_reader(sys, lane);
    tmf::router_config rc;
    rc.writer = writer;
    rc.readers = {reader};
    router = tmf::spawn_router(sys, rc);
  }

  ~store_fixture() {
    self->send_exit(router, caf::exit_reason::user_shutdown);
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->send_exit(reader, caf::exit_reason::user_shutdown);
    tmf::test::await_all_stopped(sys);
  }

  /// Writes customer `id` named `name` (with its name index entry).
  tmf::test::reply<uint64_t> insert(const std::string& id,
                                    const std::string& name) {
    store_write w;
    w.kind = store_write::insert;
    w.id = id;
    w.json = R"({"id":")" + id + R"(","name":")" + name + "\"}";
    w.index_add = tmf::domain::index_keys(
      layout->terms(nlohmann::json{{"name", name}}), id);
    return ask<uint64_t>(self, writer, tmf::write_atom_v, std::move(w));
  }

  tmf::test::reply<list_page> list(list_query q) {
    q.limit = 100;
    return ask<list_page>(self, reader, tmf::list_atom_v, std::move(q));
  }
};

/// Matches an error `code` whose message contains `part`.
class error_matcher : public Catch::MatcherBase<caf::error> {
public:
  error_matcher(errc code, std::string part)
    : code_(code), part_(std::move(part)) {
    // nop
  }

  bool match(const caf::error& err) const override {
    return err == code_
           && tmf::error_text(err).find(part_) != std::string::npos;
  }

  std::string describe() const override {
    return "is " + tmf::to_string(code_) + " with a message containing \""
           + part_ + "\"";
  }

private:
  errc code_;
  std::string part_;
};

error_matcher is_error(errc code, std::string part) {
  return {code, std::move(part)};
}

list_query name_query(const std::string& name) {
  list_query q;
  q.filters.push_back({"name", tmf::filter_op::eq, {name}});
  return q;
}

} // namespace

TEST_CASE_METHOD(store_fixture,
                 "store reader answers store_failed, not not_found, when "
                 "a load fails") {
  REQUIRE(insert("c-1", "Ann"));
  faults->fail("mdb_get", EIO);
  for (auto id : {"c-1", "c-missing"}) {
    auto got = ask<customer_doc>(self, reader, tmf::load_atom_v,
                                 std::string{id});
    REQUIRE_FALSE(got);
    CHECK_THAT(got.err, is_error(errc::store_failed,
                   std::string{"loading customer "} + id
                     + ": mdb_get: Input/output error"));
  }
  faults->fail("mdb_txn_begin", MDB_READERS_FULL);
  auto begin = ask<customer_doc>(self, reader, tmf::load_atom_v,
                                 std::string{"c-1"});
  REQUIRE_FALSE(begin);
  CHECK_THAT(begin.err, is_error(errc::store_failed, "mdb_txn_begin"));
  faults->clear();
  auto found = ask<customer_doc>(self, reader, tmf::load_atom_v,
                                 std::string{"c-1"});
  REQUIRE(found);
  CHECK(found.value->version == 1);
  auto missing = ask<customer_doc>(self, reader, tmf::load_atom_v,
                                   std::string{"c-missing"});
  REQUIRE_FALSE(missing);
  CHECK(missing.err == errc::not_found);
}

TEST_CASE_METHOD(store_fixture,
                 "a customer whose load fails answers store_failed, not "
                 "not_found") {
  REQUIRE(insert("000-aaaaaaaaaaaaaaaaaaaaaaaaaa", "Ann"));
  faults->fail("mdb_get", EIO);
  auto got = ask<customer_doc>(self, router, tmf::retrieve_atom_v,
                               std::string{"000-aaaaaaaaaaaaaaaaaaaaaaaaaa"});
  REQUIRE_FALSE(got);
  CHECK_THAT(got.err, is_error(errc::store_failed, "mdb_get"));
  // The failed customer actor is gone: the next request loads again.
  faults->clear();
  auto again = ask<customer_doc>(self, router, tmf::retrieve_atom_v,
                                 std::string{"000-aaaaaaaaaaaaaaaaaaaaaaaaaa"});
  REQUIRE(again);
  CHECK(again.value->version == 1);
}

TEST_CASE_METHOD(store_fixture,
                 "store reader answers store_failed for a list whose scan "
                 "fails, never a short page") {
  for (auto i = 0; i < 5; ++i)
    REQUIRE(insert("c-" + std::to_string(i), "Name" + std::to_string(i)));
  REQUIRE(list({}).value->total == 5);
  list_query filtered;
  filtered.filters.push_back({"name", tmf::filter_op::ne, {"x"}});
  for (const auto& q : {list_query{}, filtered}) {
    faults->fail("mdb_cursor_get", EIO, 2); // two rows, then the failure
    auto page = list(q);
    REQUIRE_FALSE(page);
    CHECK_THAT(page.err, is_error(errc::store_failed,
                   "mdb_cursor_get: Input/output error"));
  }
  faults->fail("mdb_cursor_get", EIO);
  auto by_index = list(name_query("Name3"));
  REQUIRE_FALSE(by_index);
  CHECK_THAT(by_index.err, is_error(errc::store_failed, "reading the index"));
  faults->clear();
  auto page = list(filtered);
  REQUIRE(page);
  CHECK(page.value->total == 5);
  CHECK(page.value->items.size() == 5);
}

TEST_CASE_METHOD(store_fixture,
                 "store reader answers store_failed when a list's count or "
                 "row read fails") {
  for (auto i = 0; i < 3; ++i)
    REQUIRE(insert("c-" + std::to_string(i), "Same"));
  faults->fail("mdb_stat", MDB_CORRUPTED);
  auto counted = list({});
  REQUIRE_FALSE(counted);
  CHECK_THAT(counted.err, is_error(errc::store_failed,
                 "counting customers: mdb_stat"));
  // The index marker and the first row are read, the 2nd row fails.
  faults->fail("mdb_get", EIO, 2);
  auto by_index = list(name_query("Same"));
  REQUIRE_FALSE(by_index);
  CHECK_THAT(by_index.err, is_error(errc::store_failed,
                 "reading customer c-1: mdb_get"));
  list_query by_id;
  by_id.filters.push_back({"id", tmf::filter_op::eq, {"c-0", "c-2"}});
  faults->fail("mdb_get", EIO);
  auto ids = list(by_id);
  REQUIRE_FALSE(ids);
  CHECK_THAT(ids.err, is_error(errc::store_failed, "mdb_get"));
  faults->clear();
  REQUIRE(list(by_id).value->total == 2);
}

TEST_CASE_METHOD(store_fixture,
                 "store writer answers storage_full when the device, a "
                 "quota or the file-size limit is full") {
  for (auto rc : {ENOSPC, EDQUOT, EFBIG}) {
    faults->fail("mdb_put", rc);
    auto res = insert("c-1", "Ann");
    REQUIRE_FALSE(res);
    CHECK_THAT(res.err, is_error(errc::storage_full,
                   std::string{"storage is full (mdb_put: "}
                     + std::strerror(rc) + "); nothing was written"));
  }
  faults->clear();
  auto res = insert("c-1", "Ann");
  REQUIRE(res);
  CHECK(*res.value == 1); // nothing of the failed writes was kept
}

TEST_CASE_METHOD(store_fixture,
                 "store writer answers store_failed naming a failed "
                 "commit") {
  faults->fail("mdb_txn_commit", MDB_PANIC);
  auto res = insert("c-1", "Ann");
  REQUIRE_FALSE(res);
  CHECK_THAT(res.err, is_error(errc::store_failed,
                 "storage failure: mdb_txn_commit: MDB_PANIC"));
}

namespace {

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos;
       pos = text.find(part, pos + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE_METHOD(store_fixture,
                 "store writer answers unavailable once the data folder is "
                 "removed, and logs it once") {
  REQUIRE(insert("c-1", "Ann"));
  std::filesystem::remove_all(tmp.path + "/data");
  tmf::test::stderr_capture capture;
  for (auto i = 2; i < 5; ++i) {
    auto res = insert("c-" + std::to_string(i), "Bob");
    REQUIRE_FALSE(res);
    CHECK_THAT(res.err, is_error(errc::unavailable,
                   "the data folder was removed or replaced under the "
                   "running service; nothing was written; restart the "
                   "service"));
  }
  auto log = capture.text();
  INFO("log: " << log);
  CHECK(count_of(log, "ERROR") == 1);
  CHECK(count_of(log, "data folder was removed or replaced") == 1);
  // Reads still answer from the open file.
  auto got = ask<customer_doc>(self, reader, tmf::load_atom_v,
                               std::string{"c-1"});
  REQUIRE(got);
  CHECK(got.value->version == 1);
}
