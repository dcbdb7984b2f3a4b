// Tests for the LMDB store (persistence/lmdb_store.hpp). Every test case
// works on its own mkdtemp() folder under /tmp, removed at the end.

#include "persistence/lmdb_store.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <lmdb.h>

using namespace tmf::persistence;

namespace {

/// A fresh folder under /tmp, removed with its contents on destruction.
struct temp_dir {
  std::string path;

  temp_dir() {
    char tmpl[] = "/tmp/tmf-store-test-XXXXXX";
    auto ptr = ::mkdtemp(tmpl);
    REQUIRE(ptr != nullptr);
    path = ptr;
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

std::unique_ptr<environment> open_env(const std::string& path,
                                      uint64_t map_size = 1ull << 24,
                                      unsigned max_readers = 126) {
  std::string error;
  auto env = environment::open({path, map_size, max_readers}, error);
  INFO("open error: " << error);
  REQUIRE(env != nullptr);
  CHECK(error.empty());
  return env;
}

write_op insert_op(std::string key, std::string value,
                   table tbl = table::customers) {
  return {write_op::insert, tbl, std::move(key), std::move(value), 0};
}

write_op replace_op(std::string key, std::string value,
                    uint64_t expected = 0, table tbl = table::customers) {
  return {write_op::replace, tbl, std::move(key), std::move(value), expected};
}

write_op erase_op(std::string key, uint64_t expected = 0,
                  table tbl = table::customers) {
  return {write_op::erase, tbl, std::move(key), {}, expected};
}

/// Applies a batch that must commit; returns its results.
std::vector<write_result> apply_ok(environment& env,
                                   const std::vector<write_op>& ops) {
  std::vector<write_result> results;
  std::string error;
  auto st = env.apply(ops, results, error);
  INFO("apply error: " << error);
  REQUIRE(st == status::ok);
  CHECK(error.empty());
  REQUIRE(results.size() == ops.size());
  return results;
}

/// Applies one op in its own committed batch.
write_result apply_one(environment& env, write_op op) {
  return apply_ok(env, {std::move(op)}).front();
}

/// The record under `key` in `txn`, or nothing; the read must not fail.
std::optional<record> find(read_txn& txn, table tbl, std::string_view key) {
  auto res = txn.get(tbl, key);
  INFO("get error: " << res.error);
  REQUIRE_FALSE(res.failed());
  if (res.st == status::not_found)
    return std::nullopt;
  REQUIRE(res.st == status::ok);
  CHECK(res.error.empty());
  return std::move(res.rec);
}

std::optional<record> get(environment& env, std::string_view key,
                          table tbl = table::customers) {
  auto txn = env.read();
  REQUIRE(txn.valid());
  return find(txn, tbl, key);
}

/// The number of entries of `tbl` in `txn`; the count must not fail.
uint64_t entries(read_txn& txn, table tbl) {
  auto res = txn.count(tbl);
  INFO("count error: " << res.error);
  REQUIRE(res.st == status::ok);
  return res.entries;
}

uint64_t entries(environment& env, table tbl) {
  auto txn = env.read();
  return entries(txn, tbl);
}

/// All keys of `tbl` from `from` on, in scan order.
std::vector<std::string> scan_keys(environment& env, std::string_view from,
                                   table tbl = table::customers) {
  std::vector<std::string> keys;
  auto txn = env.read();
  REQUIRE(txn.valid());
  auto res = txn.scan(tbl, from, [&](const record_view& rec) {
    keys.emplace_back(rec.key);
    return true;
  });
  INFO("scan error: " << res.error);
  REQUIRE(res.st == status::ok);
  return keys;
}

using strings = std::vector<std::string>;

} // namespace

// -- open ---------------------------------------------------------------------

TEST_CASE("open creates a missing data folder with mode 0750") {
  temp_dir tmp;
  auto path = tmp.path + "/a/b/data";
  auto env = open_env(path);
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  auto mask = ::umask(0);
  ::umask(mask);
  CHECK((st.st_mode & 0777) == (0750 & ~mask));
  CHECK(std::filesystem::exists(path + "/data.mdb"));
}

TEST_CASE("open fails with a message when the folder cannot be created") {
  temp_dir tmp;
  auto file = tmp.path + "/file";
  std::ofstream{file} << "x";
  auto path = file + "/data";
  std::string error;
  auto env = environment::open({path, 1ull << 20, 126}, error);
  CHECK(env == nullptr);
  CHECK(error
        == "data-dir " + path + ": cannot create folder: Not a directory");
}

TEST_CASE("open fails with a message when the path is a regular file") {
  temp_dir tmp;
  auto file = tmp.path + "/file";
  std::ofstream{file} << "x";
  std::string error;
  auto env = environment::open({file, 1ull << 20, 126}, error);
  CHECK(env == nullptr);
  CHECK(error
        == "data-dir " + file + ": cannot create folder: Not a directory");
}

TEST_CASE("open fails with a message when the map size is 0") {
  temp_dir tmp;
  std::string error;
  auto env = environment::open({tmp.path, 0, 126}, error);
  CHECK(env == nullptr);
  CHECK(error == "map size must be > 0");
}

TEST_CASE("open fails with a message when the map is too small") {
  temp_dir tmp;
  std::string error;
  auto env = environment::open({tmp.path, 4096, 126}, error);
  CHECK(env == nullptr);
  INFO(error);
  CHECK(error.rfind("data-dir " + tmp.path + ": LMDB: mdb_dbi_open: "
                    "MDB_MAP_FULL",
                    0)
        == 0);
  CHECK(error.find("map size 4096 is too small") != std::string::npos);
}

TEST_CASE("open refuses a folder already open in this process") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  std::string error;
  auto again = environment::open({tmp.path, 1ull << 20, 126}, error);
  CHECK(again == nullptr);
  CHECK(error == "data-dir " + tmp.path + ": already open in this process");
  env.reset();
  // Closing the first one frees the folder again.
  auto reopened = open_env(tmp.path);
}

TEST_CASE("open stores schema-version 2 in meta") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto rec = get(*env, "schema-version", table::meta);
  REQUIRE(rec);
  CHECK(rec->json == "2");
  CHECK(rec->version == 0);
}

TEST_CASE("open fails on a schema-version mismatch") {
  temp_dir tmp;
  {
    auto env = open_env(tmp.path);
    auto res = apply_one(*env, replace_op("schema-version", "1", 0,
                                          table::meta));
    CHECK(res.st == status::ok);
  }
  std::string error;
  auto env = environment::open({tmp.path, 1ull << 24, 126}, error);
  CHECK(env == nullptr);
  CHECK(error
        == "data-dir " + tmp.path
             + ": schema version \"1\" found, expected \"2\"");
  // A failed open releases the folder: a retry reports the schema again,
  // not "already open".
  auto retry = environment::open({tmp.path, 1ull << 24, 126}, error);
  CHECK(retry == nullptr);
  CHECK(error.find("schema version \"1\" found") != std::string::npos);
}

// -- apply: single ops --------------------------------------------------------

TEST_CASE("insert then get returns version 1 and the bytes") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto bytes = std::string{"{\"id\":\"1\",\"nul\":\"\0\"}", 20};
  auto res = apply_one(*env, insert_op("c-1", bytes));
  CHECK(res.st == status::ok);
  CHECK(res.version == 1);
  auto rec = get(*env, "c-1");
  REQUIRE(rec);
  CHECK(rec->version == 1);
  CHECK(rec->json == bytes);
  CHECK_FALSE(get(*env, "c-2"));
}

TEST_CASE("insert of an existing key gives exists and keeps the old value") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "old"));
  auto res = apply_one(*env, insert_op("c-1", "new"));
  CHECK(res.st == status::exists);
  CHECK(res.version == 0);
  auto rec = get(*env, "c-1");
  REQUIRE(rec);
  CHECK(rec->version == 1);
  CHECK(rec->json == "old");
}

TEST_CASE("replace bumps the version and stores the new bytes") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "v1"));
  auto res = apply_one(*env, replace_op("c-1", "v2"));
  CHECK(res.st == status::ok);
  CHECK(res.version == 2);
  res = apply_one(*env, replace_op("c-1", "v3", 2));
  CHECK(res.st == status::ok);
  CHECK(res.version == 3);
  auto rec = get(*env, "c-1");
  REQUIRE(rec);
  CHECK(rec->version == 3);
  CHECK(rec->json == "v3");
}

TEST_CASE("replace of a missing key gives not_found and writes nothing") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto res = apply_one(*env, replace_op("c-1", "v"));
  CHECK(res.st == status::not_found);
  CHECK(res.version == 0);
  CHECK_FALSE(get(*env, "c-1"));
}

TEST_CASE("replace with a wrong expected version gives conflict") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "v1"));
  apply_one(*env, replace_op("c-1", "v2"));
  auto res = apply_one(*env, replace_op("c-1", "v3", 1));
  CHECK(res.st == status::conflict);
  CHECK(res.version == 0);
  auto rec = get(*env, "c-1");
  REQUIRE(rec);
  CHECK(rec->version == 2);
  CHECK(rec->json == "v2");
}

TEST_CASE("erase removes the key") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "v1"));
  apply_one(*env, insert_op("c-2", "v1"));
  auto res = apply_one(*env, erase_op("c-1", 1));
  CHECK(res.st == status::ok);
  CHECK(res.version == 0);
  CHECK_FALSE(get(*env, "c-1"));
  CHECK(get(*env, "c-2"));
  // The key can be inserted again and starts over at version 1.
  CHECK(apply_one(*env, insert_op("c-1", "again")).version == 1);
}

TEST_CASE("erase of a missing key gives not_found") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto res = apply_one(*env, erase_op("c-1"));
  CHECK(res.st == status::not_found);
  CHECK(res.version == 0);
}

TEST_CASE("erase with a wrong expected version gives conflict") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "v1"));
  auto res = apply_one(*env, erase_op("c-1", 7));
  CHECK(res.st == status::conflict);
  auto rec = get(*env, "c-1");
  REQUIRE(rec);
  CHECK(rec->json == "v1");
}

TEST_CASE("customer values are a big-endian version then the bytes") {
  temp_dir tmp;
  {
    auto env = open_env(tmp.path);
    std::vector<write_op> ops{insert_op("c-1", "first")};
    for (auto i = 0; i < 257; ++i)
      ops.push_back(replace_op("c-1", "doc"));
    CHECK(apply_ok(*env, ops).back().version == 258);
    apply_one(*env, insert_op("node", "n1", table::meta));
  }
  // Read the file with plain LMDB once our env is closed.
  MDB_env* env = nullptr;
  REQUIRE(mdb_env_create(&env) == 0);
  REQUIRE(mdb_env_set_maxdbs(env, 2) == 0);
  REQUIRE(mdb_env_open(env, tmp.path.c_str(), MDB_RDONLY, 0) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn) == 0);
  auto raw = [&](const char* name, std::string key) {
    MDB_dbi dbi;
    REQUIRE(mdb_dbi_open(txn, name, 0, &dbi) == 0);
    MDB_val k{key.size(), key.data()};
    MDB_val v;
    REQUIRE(mdb_get(txn, dbi, &k, &v) == 0);
    return std::string{static_cast<const char*>(v.mv_data), v.mv_size};
  };
  CHECK(raw("customers", "c-1") == std::string{"\0\0\0\0\0\0\1\2doc", 11});
  CHECK(raw("meta", "node") == "n1");
  CHECK(raw("meta", "schema-version") == "2");
  mdb_txn_abort(txn);
  mdb_env_close(env);
}

TEST_CASE("meta values are raw bytes without a version") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto res = apply_one(*env, insert_op("node", "n1", table::meta));
  CHECK(res.st == status::ok);
  CHECK(res.version == 0);
  auto rec = get(*env, "node", table::meta);
  REQUIRE(rec);
  CHECK(rec->version == 0);
  CHECK(rec->json == "n1");
  // Meta keys live apart from customer keys.
  CHECK_FALSE(get(*env, "node"));
  CHECK(apply_one(*env, replace_op("node", "n2", 0, table::meta)).st
        == status::ok);
  CHECK(get(*env, "node", table::meta)->json == "n2");
  // Meta has no versions: stored counts as 0, so any other expected
  // version conflicts.
  CHECK(apply_one(*env, replace_op("node", "n3", 1, table::meta)).st
        == status::conflict);
  CHECK(apply_one(*env, erase_op("node", 1, table::meta)).st
        == status::conflict);
  CHECK(apply_one(*env, erase_op("node", 0, table::meta)).st == status::ok);
  CHECK_FALSE(get(*env, "node", table::meta));
}

// -- apply: batches -----------------------------------------------------------

TEST_CASE("a batch with failing ops still commits the good ops") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "v1"));
  auto results = apply_ok(*env, {
                                  insert_op("c-0", "a"),
                                  insert_op("c-1", "dup"),
                                  replace_op("c-9", "missing"),
                                  replace_op("c-1", "stale", 5),
                                  insert_op("c-2", "b"),
                                });
  CHECK(results[0].st == status::ok);
  CHECK(results[1].st == status::exists);
  CHECK(results[2].st == status::not_found);
  CHECK(results[3].st == status::conflict);
  CHECK(results[4].st == status::ok);
  CHECK(get(*env, "c-0")->json == "a");
  CHECK(get(*env, "c-1")->json == "v1");
  CHECK(get(*env, "c-2")->json == "b");
  CHECK_FALSE(get(*env, "c-9"));
}

TEST_CASE("ops in a batch see the earlier ops of the same batch") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto results = apply_ok(*env, {
                                  insert_op("c-1", "v1"),
                                  replace_op("c-1", "v2", 1),
                                  insert_op("c-1", "dup"),
                                  insert_op("c-2", "x"),
                                  erase_op("c-2", 1),
                                });
  CHECK(results[0].version == 1);
  CHECK(results[1].st == status::ok);
  CHECK(results[1].version == 2);
  CHECK(results[2].st == status::exists);
  CHECK(results[4].st == status::ok);
  CHECK(get(*env, "c-1")->version == 2);
  CHECK_FALSE(get(*env, "c-2"));
}

TEST_CASE("an empty batch returns ok and no results") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  std::vector<write_result> results{write_result{status::failed, 3}};
  std::string error = "stale";
  CHECK(env->apply({}, results, error) == status::ok);
  CHECK(results.empty());
  CHECK(error.empty());
}

TEST_CASE("an invalid key fails only its own op") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto results = apply_ok(*env, {
                                  insert_op("", "empty key"),
                                  insert_op(std::string(600, 'k'), "long"),
                                  insert_op("c-1", "fine"),
                                });
  CHECK(results[0].st == status::failed);
  CHECK(results[1].st == status::failed);
  CHECK(results[2].st == status::ok);
  CHECK(get(*env, "c-1")->json == "fine");
  auto txn = env->read();
  CHECK(entries(txn, table::customers) == 1);
}

TEST_CASE("data survives close and reopen") {
  temp_dir tmp;
  {
    auto env = open_env(tmp.path);
    apply_one(*env, insert_op("c-1", "v1"));
    apply_one(*env, replace_op("c-1", "v2"));
    apply_one(*env, insert_op("c-2", "other"));
  }
  auto env = open_env(tmp.path);
  auto rec = get(*env, "c-1");
  REQUIRE(rec);
  CHECK(rec->version == 2);
  CHECK(rec->json == "v2");
  CHECK(get(*env, "c-2")->json == "other");
  CHECK(entries(*env, table::customers) == 2);
}

// -- reads --------------------------------------------------------------------

TEST_CASE("count returns the number of entries per table") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  CHECK(entries(*env, table::customers) == 0);
  CHECK(entries(*env, table::meta) == 1); // schema-version
  apply_ok(*env, {insert_op("a", "1"), insert_op("b", "2"),
                  insert_op("c", "3")});
  apply_one(*env, erase_op("b"));
  CHECK(entries(*env, table::customers) == 2);
  CHECK(entries(*env, table::meta) == 1);
}

TEST_CASE("scan visits all entries in key order") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_ok(*env, {insert_op("c", "3"), insert_op("a", "1"),
                  insert_op("b", "2"), insert_op("ab", "12")});
  apply_one(*env, replace_op("b", "2b"));
  CHECK(scan_keys(*env, "") == strings{"a", "ab", "b", "c"});
  std::vector<std::pair<uint64_t, std::string>> seen;
  auto txn = env->read();
  auto res = txn.scan(table::customers, "", [&](const record_view& rec) {
    seen.emplace_back(rec.version, std::string{rec.json});
    return true;
  });
  CHECK(res.st == status::ok);
  using entry = std::pair<uint64_t, std::string>;
  CHECK(seen
        == std::vector<entry>{{1, "1"}, {1, "12"}, {2, "2b"}, {1, "3"}});
}

TEST_CASE("scan starts at the first key not less than from") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_ok(*env, {insert_op("a", "1"), insert_op("c", "3"),
                  insert_op("e", "5")});
  CHECK(scan_keys(*env, "b") == strings{"c", "e"});
  CHECK(scan_keys(*env, "c") == strings{"c", "e"});
  CHECK(scan_keys(*env, "e") == strings{"e"});
  CHECK(scan_keys(*env, "f").empty());
}

TEST_CASE("scan stops when the visitor returns false") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_ok(*env, {insert_op("a", "1"), insert_op("b", "2"),
                  insert_op("c", "3"), insert_op("d", "4")});
  strings keys;
  auto txn = env->read();
  auto res = txn.scan(table::customers, "", [&](const record_view& rec) {
    keys.emplace_back(rec.key);
    return keys.size() < 2;
  });
  CHECK(res.st == status::ok); // stopping early is no failure
  CHECK(keys == strings{"a", "b"});
}

TEST_CASE("scan of an empty table visits nothing") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  CHECK(scan_keys(*env, "").empty());
  CHECK(scan_keys(*env, "x").empty());
}

TEST_CASE("a read snapshot does not see writes committed after it began") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "v1"));
  auto snapshot = env->read();
  REQUIRE(snapshot.valid());
  apply_ok(*env, {replace_op("c-1", "v2"), insert_op("c-2", "new")});
  auto old = find(snapshot, table::customers, "c-1");
  REQUIRE(old);
  CHECK(old->version == 1);
  CHECK(old->json == "v1");
  CHECK_FALSE(find(snapshot, table::customers, "c-2"));
  CHECK(entries(snapshot, table::customers) == 1);
  auto fresh = env->read();
  CHECK(find(fresh, table::customers, "c-1")->version == 2);
  CHECK(entries(fresh, table::customers) == 2);
}

TEST_CASE("read is invalid and every read fails when all reader slots are "
          "taken") {
  temp_dir tmp;
  auto env = open_env(tmp.path, 1ull << 24, 1);
  apply_one(*env, insert_op("c-1", "v1"));
  auto first = env->read();
  REQUIRE(first.valid());
  auto second = env->read();
  CHECK_FALSE(second.valid());
  auto why = std::string{"mdb_txn_begin: MDB_READERS_FULL"};
  CHECK(second.error().rfind(why, 0) == 0);
  auto got = second.get(table::customers, "c-1");
  CHECK(got.st == status::failed);
  CHECK(got.error == second.error());
  auto counted = second.count(table::customers);
  CHECK(counted.st == status::failed);
  CHECK(counted.error == second.error());
  auto visited = false;
  auto scanned = second.scan(table::customers, "", [&](const record_view&) {
    visited = true;
    return true;
  });
  CHECK(scanned.st == status::failed);
  CHECK(scanned.error == second.error());
  CHECK_FALSE(visited);
  // Ending the first snapshot frees its slot.
  { auto gone = std::move(first); }
  CHECK(env->read().valid());
}

TEST_CASE("a moved-from read_txn is invalid and every read fails") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "v1"));
  auto txn = env->read();
  auto moved = std::move(txn);
  CHECK(moved.valid());
  CHECK(find(moved, table::customers, "c-1"));
  CHECK_FALSE(txn.valid()); // NOLINT(bugprone-use-after-move)
  CHECK_FALSE(txn.error().empty());
  CHECK(txn.get(table::customers, "c-1").st == status::failed);
  CHECK(txn.count(table::customers).st == status::failed);
  auto scanned = txn.scan(table::customers, "", [](const record_view&) {
    return true;
  });
  CHECK(scanned.st == status::failed);
}

// -- map full and usage -------------------------------------------------------

TEST_CASE("a full map fails the whole batch and keeps committed data") {
  temp_dir tmp;
  constexpr uint64_t map_size = 64 * 1024;
  auto env = open_env(tmp.path, map_size);
  auto value = std::string(300, 'x');
  strings committed;
  std::vector<write_op> ops;
  std::vector<write_result> results;
  std::string error;
  auto st = status::ok;
  for (auto i = 0; i < 1000 && st == status::ok; ++i) {
    ops.clear();
    for (auto j = 0; j < 4; ++j)
      ops.push_back(insert_op("k-" + std::to_string(i * 4 + j), value));
    st = env->apply(ops, results, error);
    if (st == status::ok)
      for (const auto& op : ops)
        committed.push_back(op.key);
  }
  REQUIRE(st == status::full);
  REQUIRE_FALSE(committed.empty());
  CHECK(error.find("MDB_MAP_FULL") != std::string::npos);
  REQUIRE(results.size() == ops.size());
  for (const auto& res : results) {
    CHECK(res.st == status::full);
    CHECK(res.version == 0);
  }
  { // Nothing from the failed batch, everything from before it.
    auto txn = env->read();
    REQUIRE(txn.valid());
    for (const auto& op : ops)
      CHECK_FALSE(find(txn, table::customers, op.key));
    CHECK(entries(txn, table::customers) == committed.size());
    for (const auto& key : committed) {
      auto rec = find(txn, table::customers, key);
      REQUIRE(rec);
      CHECK(rec->json == value);
    }
  }
  auto usage = env->usage();
  CHECK(usage.map_size == map_size);
  CHECK(usage.used_bytes <= map_size);
  // A full store still opens again (open writes nothing when meta is set).
  env.reset();
  env = open_env(tmp.path, map_size);
  CHECK(entries(*env, table::customers) == committed.size());
}

TEST_CASE("a value larger than the map fails its batch with full") {
  // Unlike many small inserts (MAP_FULL at commit), an oversized value
  // fails in mdb_put itself.
  temp_dir tmp;
  constexpr uint64_t map_size = 64 * 1024;
  auto env = open_env(tmp.path, map_size);
  apply_one(*env, insert_op("before", "kept"));
  std::vector<write_result> results;
  std::string error;
  auto st = env->apply({insert_op("small", "fits"),
                        insert_op("huge", std::string(map_size, 'x')),
                        insert_op("after", "fits too")},
                       results, error);
  CHECK(st == status::full);
  CHECK(error == "mdb_put: MDB_MAP_FULL: Environment mapsize limit reached");
  REQUIRE(results.size() == 3);
  for (const auto& res : results) {
    CHECK(res.st == status::full);
    CHECK(res.version == 0);
  }
  auto txn = env->read();
  CHECK_FALSE(find(txn, table::customers, "small"));
  CHECK_FALSE(find(txn, table::customers, "huge"));
  CHECK_FALSE(find(txn, table::customers, "after"));
  CHECK(find(txn, table::customers, "before")->json == "kept");
  CHECK(entries(txn, table::customers) == 1);
  // The env still takes writes that fit.
  CHECK(apply_one(*env, insert_op("small", "fits")).st == status::ok);
}

TEST_CASE("usage reports the map size and grows with data") {
  temp_dir tmp;
  constexpr uint64_t map_size = 1ull << 24;
  auto env = open_env(tmp.path, map_size);
  auto before = env->usage();
  CHECK(before.map_size == map_size);
  CHECK(before.used_bytes > 0);
  CHECK(before.used_bytes % 4096 == 0);
  std::vector<write_op> ops;
  for (auto i = 0; i < 100; ++i)
    ops.push_back(insert_op("k-" + std::to_string(i), std::string(1000, 'x')));
  apply_ok(*env, ops);
  auto after = env->usage();
  CHECK(after.used_bytes >= before.used_bytes + 100 * 1000);
  CHECK(after.map_size == map_size);
}

TEST_CASE("to_string names every status") {
  CHECK(std::string{to_string(status::ok)} == "ok");
  CHECK(std::string{to_string(status::not_found)} == "not_found");
  CHECK(std::string{to_string(status::exists)} == "exists");
  CHECK(std::string{to_string(status::conflict)} == "conflict");
  CHECK(std::string{to_string(status::full)} == "full");
  CHECK(std::string{to_string(status::failed)} == "failed");
}

TEST_CASE("put stores whether or not the key exists, discard ignores "
          "missing keys") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto idx = table::customer_index;
  apply_ok(*env, {{write_op::put, idx, "name\1a\1id1", {}, 0},
                  {write_op::put, idx, "name\1a\1id1", {}, 0},
                  {write_op::discard, idx, "missing", {}, 0}});
  CHECK(entries(*env, idx) == 1);
  apply_ok(*env, {{write_op::discard, idx, "name\1a\1id1", {}, 0}});
  CHECK(entries(*env, idx) == 0);
}

TEST_CASE("restore stores a row with the given version, existing or not, "
          "and only in a versioned table") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto res = apply_one(*env, {write_op::restore, table::customers, "c-1",
                              "moved", 7});
  CHECK(res.st == status::ok);
  CHECK(res.version == 7);
  auto rec = get(*env, "c-1");
  REQUIRE(rec);
  CHECK(rec->version == 7);
  CHECK(rec->json == "moved");
  res = apply_one(*env, {write_op::restore, table::customers, "c-1",
                         "again", 3});
  CHECK(res.version == 3);
  CHECK(get(*env, "c-1")->json == "again");
  // Version 0 and unversioned tables are refused.
  CHECK(apply_one(*env, {write_op::restore, table::customers, "c-2", "x", 0})
          .st
        == status::failed);
  CHECK(apply_one(*env, {write_op::restore, table::meta, "k", "x", 1}).st
        == status::failed);
  CHECK_FALSE(get(*env, "c-2"));
}

TEST_CASE("dependent ops follow the fate of their primary op") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  auto idx = table::customer_index;
  write_op dep_a{write_op::put, idx, "name\1a\1c-1", {}, 0, true};
  write_op dep_b{write_op::put, idx, "name\1b\1c-1", {}, 0, true};
  write_op dep_c{write_op::put, idx, "name\1c\1c-2", {}, 0, true};
  auto res = apply_ok(*env, {insert_op("c-1", "x"), dep_a,
                             insert_op("c-1", "y"), dep_b,  // exists
                             insert_op("c-2", "z"), dep_c});
  REQUIRE(res.size() == 6);
  CHECK(res[1].st == status::ok);
  CHECK(res[2].st == status::exists);
  CHECK(res[3].st == status::exists); // skipped with its primary
  CHECK(res[5].st == status::ok);
  auto txn = env->read();
  CHECK(find(txn, idx, "name\1a\1c-1"));
  CHECK_FALSE(find(txn, idx, "name\1b\1c-1"));
  CHECK(find(txn, idx, "name\1c\1c-2"));
}

// -- failures injected through the fault hook ---------------------------------

namespace {

/// What the fault hook of `open_faulty` does: the calls of `origin` after
/// the first `skip` ones return `rc`. Nothing fails while `origin` is empty.
struct fault_plan {
  std::string origin;
  int rc = 0;
  int skip = 0;
  int hits = 0; ///< Calls made to fail so far.

  void fail(std::string call, int code, int after = 0) {
    origin = std::move(call);
    rc = code;
    skip = after;
  }
};

/// Opens `path` with a fault hook that follows `plan` (which must outlive
/// the environment).
std::unique_ptr<environment> open_faulty(const std::string& path,
                                         fault_plan& plan,
                                         uint64_t map_size = 1ull << 24) {
  env_options opts;
  opts.path = path;
  opts.map_size = map_size;
  opts.fault = [&plan](std::string_view origin, int rc) {
    if (origin != plan.origin)
      return rc;
    if (plan.skip > 0) {
      --plan.skip;
      return rc;
    }
    ++plan.hits;
    return plan.rc;
  };
  std::string error;
  auto env = environment::open(opts, error);
  INFO("open error: " << error);
  REQUIRE(env != nullptr);
  return env;
}

/// Applies `ops`, which must fail as a whole with `expected`; checks that
/// every op reports it and returns the error message.
std::string apply_failing(environment& env, const std::vector<write_op>& ops,
                          status expected) {
  std::vector<write_result> results;
  std::string error;
  auto st = env.apply(ops, results, error);
  INFO("apply error: " << error);
  CHECK(st == expected);
  REQUIRE(results.size() == ops.size());
  for (const auto& res : results) {
    CHECK(res.st == expected);
    CHECK(res.version == 0);
  }
  return error;
}

} // namespace

TEST_CASE("a failed get is failed with the LMDB call, never not_found") {
  temp_dir tmp;
  fault_plan plan;
  auto env = open_faulty(tmp.path, plan);
  apply_one(*env, insert_op("c-1", "v1"));
  plan.fail("mdb_get", EIO);
  auto txn = env->read();
  for (auto key : {"c-1", "c-missing"}) {
    auto res = txn.get(table::customers, key);
    CHECK(res.st == status::failed);
    CHECK(res.failed());
    CHECK(res.error == "mdb_get: Input/output error");
    CHECK(res.rec.json.empty());
  }
  CHECK(plan.hits == 2);
  plan.fail("", 0); // the same snapshot reads again once LMDB does
  CHECK(find(txn, table::customers, "c-1")->json == "v1");
  CHECK_FALSE(find(txn, table::customers, "c-missing"));
}

TEST_CASE("a failed count is failed, not 0") {
  temp_dir tmp;
  fault_plan plan;
  auto env = open_faulty(tmp.path, plan);
  apply_one(*env, insert_op("c-1", "v1"));
  plan.fail("mdb_stat", MDB_CORRUPTED);
  auto txn = env->read();
  auto res = txn.count(table::customers);
  CHECK(res.st == status::failed);
  CHECK(res.entries == 0);
  CHECK(res.error.rfind("mdb_stat: MDB_CORRUPTED", 0) == 0);
  CHECK(plan.hits == 1);
}

TEST_CASE("a scan whose cursor fails midway is failed, not short") {
  temp_dir tmp;
  fault_plan plan;
  auto env = open_faulty(tmp.path, plan);
  apply_ok(*env, {insert_op("a", "1"), insert_op("b", "2"),
                  insert_op("c", "3")});
  plan.fail("mdb_cursor_get", EIO, 2); // the first two rows still come
  strings keys;
  auto txn = env->read();
  auto res = txn.scan(table::customers, "", [&](const record_view& rec) {
    keys.emplace_back(rec.key);
    return true;
  });
  CHECK(res.st == status::failed);
  CHECK(res.error == "mdb_cursor_get: Input/output error");
  CHECK(keys == strings{"a", "b"});
  plan.fail("mdb_cursor_open", ENOMEM);
  auto opened = txn.scan(table::customers, "b", [](const record_view&) {
    return true;
  });
  CHECK(opened.st == status::failed);
  CHECK(opened.error == "mdb_cursor_open: Cannot allocate memory");
}

TEST_CASE("a read txn that cannot begin fails every read with the cause") {
  temp_dir tmp;
  fault_plan plan;
  auto env = open_faulty(tmp.path, plan);
  apply_one(*env, insert_op("c-1", "v1"));
  plan.fail("mdb_txn_begin", MDB_READERS_FULL);
  auto txn = env->read();
  CHECK_FALSE(txn.valid());
  CHECK(txn.error().rfind("mdb_txn_begin: MDB_READERS_FULL", 0) == 0);
  CHECK(txn.get(table::customers, "c-1").error == txn.error());
  CHECK(txn.count(table::customers).st == status::failed);
  // A write txn that cannot begin fails its batch the same way.
  auto error = apply_failing(*env, {insert_op("c-2", "v")}, status::failed);
  CHECK(error.rfind("mdb_txn_begin: MDB_READERS_FULL", 0) == 0);
  plan.fail("", 0);
  CHECK_FALSE(get(*env, "c-2"));
}

TEST_CASE("a failed put fails the whole batch and writes nothing") {
  temp_dir tmp;
  fault_plan plan;
  auto env = open_faulty(tmp.path, plan);
  plan.fail("mdb_put", MDB_TXN_FULL, 1); // the first put goes through
  auto error = apply_failing(*env, {insert_op("c-1", "a"),
                                    insert_op("c-2", "b")},
                             status::failed);
  CHECK(error.rfind("mdb_put: MDB_TXN_FULL", 0) == 0);
  CHECK(plan.hits == 1);
  CHECK(entries(*env, table::customers) == 0);
}

TEST_CASE("a failed commit fails the whole batch with the LMDB message") {
  // The hook sees the code after the call: the commit has happened, only
  // its report changes. What counts is what every writer is told.
  temp_dir tmp;
  fault_plan plan;
  auto env = open_faulty(tmp.path, plan);
  plan.fail("mdb_txn_commit", MDB_PANIC);
  auto error = apply_failing(*env, {insert_op("c-1", "a"),
                                    insert_op("c-2", "b")},
                             status::failed);
  CHECK(error.rfind("mdb_txn_commit: MDB_PANIC", 0) == 0);
  plan.fail("", 0);
  CHECK(apply_one(*env, insert_op("c-3", "c")).st == status::ok);
}

TEST_CASE("no space, quota and file-size errors make a batch full") {
  temp_dir tmp;
  fault_plan plan;
  auto env = open_faulty(tmp.path, plan);
  apply_one(*env, insert_op("kept", "v"));
  for (auto rc : {ENOSPC, EDQUOT, EFBIG}) {
    plan.fail("mdb_put", rc);
    auto error = apply_failing(*env, {insert_op("c-1", "a"),
                                      replace_op("kept", "changed")},
                               status::full);
    CHECK(error == std::string{"mdb_put: "} + std::strerror(rc));
  }
  plan.fail("mdb_txn_commit", ENOSPC);
  apply_failing(*env, {insert_op("c-2", "b")}, status::full);
  plan.fail("", 0);
  CHECK(get(*env, "kept")->json == "v");
  CHECK_FALSE(get(*env, "c-1"));
}

TEST_CASE("an open that fails names the LMDB call and releases the folder") {
  temp_dir tmp;
  fault_plan plan;
  plan.fail("mdb_env_open", EACCES);
  env_options opts;
  opts.path = tmp.path;
  opts.fault = [&plan](std::string_view origin, int rc) {
    return origin == plan.origin ? plan.rc : rc;
  };
  std::string error;
  CHECK(environment::open(opts, error) == nullptr);
  CHECK(error
        == "data-dir " + tmp.path + ": LMDB: mdb_env_open: Permission denied");
  auto env = open_env(tmp.path);
}

TEST_CASE("a corrupt row is a failed read, not a missing one") {
  temp_dir tmp;
  { // A customer row shorter than its 8-byte version, written raw.
    auto env = open_env(tmp.path);
    apply_one(*env, insert_op("a", "1"));
  }
  MDB_env* raw = nullptr;
  REQUIRE(mdb_env_create(&raw) == 0);
  REQUIRE(mdb_env_set_maxdbs(raw, 3) == 0);
  REQUIRE(mdb_env_open(raw, tmp.path.c_str(), 0, 0640) == 0);
  MDB_txn* txn = nullptr;
  REQUIRE(mdb_txn_begin(raw, nullptr, 0, &txn) == 0);
  MDB_dbi dbi;
  REQUIRE(mdb_dbi_open(txn, "customers", 0, &dbi) == 0);
  MDB_val key{1, const_cast<char*>("b")};
  MDB_val val{3, const_cast<char*>("bad")};
  REQUIRE(mdb_put(txn, dbi, &key, &val, 0) == 0);
  REQUIRE(mdb_txn_commit(txn) == 0);
  mdb_env_close(raw);
  auto env = open_env(tmp.path);
  auto snapshot = env->read();
  auto got = snapshot.get(table::customers, "b");
  CHECK(got.st == status::failed);
  CHECK(got.error == "customers row \"b\" is shorter than its version");
  auto scanned = snapshot.scan(table::customers, "", [](const record_view&) {
    return true;
  });
  CHECK(scanned.st == status::failed);
  CHECK(scanned.error == got.error);
}

// -- the file-size limit ------------------------------------------------------

namespace {

/// In a child process under a 256 KiB file-size limit (SIGXFSZ ignored, as
/// tmf629d does): inserts batches until one fails, checks that the failed
/// batch left nothing, and reports `<status> <committed> <count> <error>`.
[[noreturn]] void fill_under_limit(const std::string& path, int out) {
  std::signal(SIGXFSZ, SIG_IGN);
  rlimit lim;
  ::getrlimit(RLIMIT_FSIZE, &lim);
  lim.rlim_cur = 256 * 1024;
  ::setrlimit(RLIMIT_FSIZE, &lim);
  std::string error;
  auto env = environment::open({path, 1ull << 24, 126}, error);
  if (!env)
    _exit(2);
  std::vector<write_op> ops;
  std::vector<write_result> results;
  size_t committed = 0;
  auto st = status::ok;
  for (auto i = 0; i < 1000 && st == status::ok; ++i) {
    ops.clear();
    for (auto j = 0; j < 3; ++j)
      ops.push_back(insert_op("k-" + std::to_string(i * 3 + j),
                              std::string(1500, 'x')));
    st = env->apply(ops, results, error);
    if (st == status::ok)
      committed += ops.size();
  }
  auto txn = env->read();
  auto left = txn.get(table::customers, ops.front().key).st;
  auto count = txn.count(table::customers);
  auto line = std::string{to_string(st)} + " " + std::to_string(committed)
              + " " + std::to_string(count.entries) + " "
              + to_string(left) + " " + error;
  if (::write(out, line.data(), line.size()) < 0)
    _exit(3);
  _exit(0);
}

/// Runs `fill_under_limit` in a child; returns its report.
std::string fill_in_child(const std::string& path) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  auto pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    fill_under_limit(path, fds[1]);
  }
  ::close(fds[1]);
  std::string report;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof(buf))) > 0;)
    report.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int wstatus = 0;
  REQUIRE(::waitpid(pid, &wstatus, 0) == pid);
  REQUIRE(WIFEXITED(wstatus));
  CHECK(WEXITSTATUS(wstatus) == 0);
  return report;
}

} // namespace

TEST_CASE("a file that reaches the file-size limit makes a batch full and "
          "keeps every committed write") {
  temp_dir tmp;
  auto report = fill_in_child(tmp.path);
  INFO("child: " << report);
  std::istringstream in{report};
  std::string st;
  size_t committed = 0;
  size_t count = 0;
  std::string left;
  std::string error;
  in >> st >> committed >> count >> left;
  std::getline(in >> std::ws, error);
  CHECK(st == "full");
  CHECK(committed > 0);
  CHECK(count == committed);
  CHECK(left == "not_found");
  // A short write (LMDB: EIO) or a write at the limit (EFBIG), explained.
  auto explained = error.find("file-size limit") != std::string::npos
                   || error.find("File too large") != std::string::npos;
  CHECK(explained);
  // Without the limit, everything committed is there and writes go on.
  auto env = open_env(tmp.path);
  CHECK(entries(*env, table::customers) == committed);
  CHECK(apply_one(*env, insert_op("after", "v")).st == status::ok);
}

// -- the data file removed or replaced ----------------------------------------

TEST_CASE("a data file removed under the env refuses writes with gone") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  apply_one(*env, insert_op("c-1", "v1"));
  REQUIRE(::unlink((tmp.path + "/data.mdb").c_str()) == 0);
  auto error = apply_failing(*env, {insert_op("c-2", "v")}, status::gone);
  CHECK(error.find("data.mdb was removed") != std::string::npos);
  // Reads go on from the open file.
  CHECK(get(*env, "c-1")->json == "v1");
  CHECK_FALSE(get(*env, "c-2"));
}

TEST_CASE("a data folder removed under the env refuses writes with gone") {
  temp_dir tmp;
  auto path = tmp.path + "/data";
  auto env = open_env(path);
  apply_one(*env, insert_op("c-1", "v1"));
  std::filesystem::remove_all(path);
  apply_failing(*env, {insert_op("c-2", "v")}, status::gone);
  apply_failing(*env, {replace_op("c-1", "v2")}, status::gone);
  CHECK(get(*env, "c-1")->json == "v1");
}

TEST_CASE("a data file replaced under the env refuses writes with gone "
          "until the original is back") {
  temp_dir tmp;
  auto path = tmp.path + "/data";
  auto env = open_env(path);
  apply_one(*env, insert_op("c-1", "v1"));
  // Another folder (here a copy of the data) takes the place of the open one.
  REQUIRE(::rename(path.c_str(), (path + ".old").c_str()) == 0);
  std::filesystem::create_directory(path);
  std::filesystem::copy_file(path + ".old/data.mdb", path + "/data.mdb");
  auto error = apply_failing(*env, {insert_op("c-2", "v")}, status::gone);
  CHECK(error.find("data.mdb was replaced by another file")
        != std::string::npos);
  std::filesystem::remove_all(path);
  error = apply_failing(*env, {insert_op("c-2", "v")}, status::gone);
  CHECK(error.find("data.mdb no longer exists") != std::string::npos);
  // The open file back in its place: writes go on.
  REQUIRE(::rename((path + ".old").c_str(), path.c_str()) == 0);
  CHECK(apply_one(*env, insert_op("c-2", "v")).st == status::ok);
  CHECK(to_string(status::gone) == std::string{"gone"});
}

// -- read-only ----------------------------------------------------------------

namespace {

/// The access modes (O_RDONLY, O_RDWR, ...) of every descriptor this
/// process holds on `file`, from /proc/self/fdinfo.
std::vector<int> access_modes(const std::string& file) {
  std::vector<int> modes;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(fd.path(), ec);
    if (ec || target != std::filesystem::path{file})
      continue;
    std::ifstream info{"/proc/self/fdinfo/" + fd.path().filename().string()};
    std::string key;
    std::string value;
    while (info >> key >> value)
      if (key == "flags:")
        modes.push_back(std::stoi(value, nullptr, 8) & O_ACCMODE);
  }
  return modes;
}

/// Opens `path` read-only; returns nullptr and sets `error` on failure.
std::unique_ptr<environment> open_read_only(const std::string& path,
                                            std::string& error) {
  env_options opts;
  opts.path = path;
  opts.map_size = 1ull << 24;
  opts.read_only = true;
  return environment::open(opts, error);
}

} // namespace

TEST_CASE("a read-only open of a missing folder fails and creates nothing") {
  temp_dir tmp;
  auto path = tmp.path + "/missing/data";
  std::string error;
  CHECK(open_read_only(path, error) == nullptr);
  CHECK(error
        == "data-dir " + path
             + ": cannot open read-only: No such file or directory");
  CHECK_FALSE(std::filesystem::exists(tmp.path + "/missing"));
}

TEST_CASE("a read-only open of a folder without data fails and creates "
          "nothing") {
  temp_dir tmp;
  std::string error;
  CHECK(open_read_only(tmp.path, error) == nullptr);
  CHECK(error
        == "data-dir " + tmp.path
             + ": cannot open read-only: data.mdb: No such file or directory");
  CHECK(std::filesystem::is_empty(tmp.path));
  auto file = tmp.path + "/file";
  std::ofstream{file} << "x";
  CHECK(open_read_only(file, error) == nullptr);
  CHECK(error == "data-dir " + file + ": cannot open read-only: not a folder");
}

TEST_CASE("a read-only open reads the data and writes nothing") {
  temp_dir tmp;
  {
    auto env = open_env(tmp.path);
    apply_ok(*env, {insert_op("a", "1"), insert_op("b", "2")});
  }
  auto data = tmp.path + "/data.mdb";
  auto size = std::filesystem::file_size(data);
  auto mtime = std::filesystem::last_write_time(data);
  std::string error;
  auto env = open_read_only(tmp.path, error);
  INFO("open error: " << error);
  REQUIRE(env != nullptr);
  CHECK(get(*env, "b")->json == "2");
  CHECK(entries(*env, table::customers) == 2);
  CHECK(scan_keys(*env, "") == strings{"a", "b"});
  // LMDB holds the data file read-only (a read-write env would also hold it
  // O_RDWR and open a second, write-only descriptor for the meta pages).
  auto modes = access_modes(std::filesystem::canonical(data).string());
  CHECK_FALSE(modes.empty());
  for (auto mode : modes)
    CHECK(mode == O_RDONLY);
  error = apply_failing(*env, {insert_op("c", "3")}, status::failed);
  CHECK(error == "the store is open read-only");
  env.reset();
  CHECK(std::filesystem::file_size(data) == size);
  CHECK(std::filesystem::last_write_time(data) == mtime);
}

TEST_CASE("erase_below and erase_prefix remove exactly their keys") {
  temp_dir tmp;
  auto env = open_env(tmp.path);
  std::vector<write_op> ops;
  for (uint64_t i = 1; i <= 2000; ++i)
    ops.push_back({write_op::put, table::outbox, seq_key(i), "e", 0});
  for (auto key : {"a\0x", "ab\0y", "ab", "b\0z"})
    ops.push_back({write_op::put, table::parked,
                   std::string{key, std::char_traits<char>::length(key) + 2},
                   "p", 0});
  std::vector<write_result> results;
  std::string error;
  REQUIRE(env->apply(ops, results, error) == status::ok);
  ops = {{write_op::erase_below, table::outbox, seq_key(1501), {}, 0},
         {write_op::erase_prefix, table::parked, std::string{"a\0", 2}, {},
          0}};
  REQUIRE(env->apply(ops, results, error) == status::ok);
  auto txn = env->read();
  std::vector<uint64_t> left;
  auto res = txn.scan(table::outbox, {}, [&](const record_view& rec) {
    left.push_back(key_seq(rec.key));
    return true;
  });
  REQUIRE(res.st == status::ok);
  REQUIRE(left.size() == 500);
  CHECK(left.front() == 1501);
  CHECK(left.back() == 2000);
  CHECK(txn.count(table::parked).entries == 3);
  CHECK(txn.get(table::parked, std::string{"a\0x", 3}).st
        == status::not_found);
}

TEST_CASE("seq_key sorts like the number it holds") {
  CHECK(seq_key(1) < seq_key(2));
  CHECK(seq_key(255) < seq_key(256));
  CHECK(key_seq(seq_key(1234567890123)) == 1234567890123);
  CHECK(key_seq("short") == 0);
}
