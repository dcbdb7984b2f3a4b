// The store's index operations: counted entries, version checks, bounded
// range erases and backward scans (persistence/lmdb_store.hpp).

#include "persistence/lmdb_store.hpp"

#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "support/temp_dir.hpp"

using namespace tmf::persistence;
using namespace std::string_literals;

namespace {

struct store {
  tmf::test::temp_dir dir;
  std::unique_ptr<environment> env;

  store() {
    std::string error;
    env = environment::open({dir.path() + "/data", 1ull << 24, 126}, error);
    INFO(error);
    REQUIRE(env);
  }

  std::vector<write_result> apply(std::vector<write_op> ops) {
    std::vector<write_result> results;
    std::string error;
    REQUIRE(env->apply(ops, results, error) == status::ok);
    return results;
  }

  /// The count under `key` in index_counts, 0 when absent.
  uint64_t count(const std::string& key) {
    auto txn = env->read();
    auto r = txn.get(table::index_counts, key);
    REQUIRE_FALSE(r.failed());
    if (r.st != status::ok)
      return 0;
    REQUIRE(r.rec.json.size() == 8);
    return key_seq(r.rec.json);
  }

  std::vector<std::string> keys(table tbl, bool backward = false,
                                std::string from = {}) {
    std::vector<std::string> out;
    auto txn = env->read();
    auto visit = [&](const record_view& rec) {
      out.emplace_back(rec.key);
      return true;
    };
    auto r = backward ? txn.scan_back(tbl, from, visit)
                      : txn.scan(tbl, from, visit);
    REQUIRE_FALSE(r.failed());
    return out;
  }
};

write_op op(write_op::kind_t kind, table tbl, std::string key,
            std::string value = {}, uint64_t version = 0,
            bool dependent = false) {
  write_op w{kind, tbl, std::move(key), std::move(value), version, dependent};
  return w;
}

} // namespace

TEST_CASE("counted index entries keep their count in the same transaction") {
  store s;
  auto idx = table::customer_index;
  s.apply({op(write_op::index_put, idx, "a\0x\0001"s, "a\0x"s),
           op(write_op::index_put, idx, "a\0x\0002"s, "a\0x"s),
           op(write_op::index_put, idx, "a\0x\0002"s, "a\0x"s), // again
           op(write_op::index_put, idx, "a\0y\0001"s, "a\0y"s)});
  CHECK(s.count("a\0x"s) == 2);
  CHECK(s.count("a\0y"s) == 1);
  s.apply({op(write_op::index_discard, idx, "a\0x\0001"s, "a\0x"s),
           op(write_op::index_discard, idx, "a\0x\0009"s, "a\0x"s), // absent
           op(write_op::index_discard, idx, "a\0y\0001"s, "a\0y"s)});
  CHECK(s.count("a\0x"s) == 1);
  CHECK(s.count("a\0y"s) == 0);
  CHECK(s.keys(table::index_counts) == std::vector<std::string>{"a\0x"s});
  CHECK(s.keys(idx) == std::vector<std::string>{"a\0x\0002"s});
}

TEST_CASE("check guards the dependent ops that follow it") {
  store s;
  s.apply({op(write_op::insert, table::customers, "c1", "{}")});
  auto r = s.apply(
    {op(write_op::check, table::customers, "c1", {}, 2),
     op(write_op::index_put, table::customer_index, "k1", "k", 0, true),
     op(write_op::check, table::customers, "c1", {}, 1),
     op(write_op::index_put, table::customer_index, "k2", "k", 0, true),
     op(write_op::check, table::customers, "c9", {}, 1),
     op(write_op::index_put, table::customer_index, "k3", "k", 0, true)});
  CHECK(r[0].st == status::conflict);
  CHECK(r[1].st == status::conflict);
  CHECK(r[2].st == status::ok);
  CHECK(r[4].st == status::not_found);
  CHECK(s.keys(table::customer_index) == std::vector<std::string>{"k2"});
  CHECK(s.count("k") == 1);
}

TEST_CASE("erase_range removes a bounded part of a key range") {
  store s;
  std::vector<write_op> ops;
  for (char c = 'a'; c <= 'j'; ++c)
    ops.push_back(op(write_op::put, table::customer_index, std::string(1, c)));
  s.apply(ops);
  auto r = s.apply({op(write_op::erase_range, table::customer_index, "c",
                       "h")});
  CHECK(r[0].version == 5);
  CHECK(s.keys(table::customer_index)
        == std::vector<std::string>{"a", "b", "h", "i", "j"});
  auto limited = write_op{write_op::erase_range, table::customer_index, "",
                          "i", 0};
  limited.limit = 2;
  CHECK(s.apply({limited})[0].version == 2);
  CHECK(s.keys(table::customer_index)
        == std::vector<std::string>{"h", "i", "j"});
  CHECK(s.apply({op(write_op::erase_range, table::customer_index, "i")})[0]
          .version
        == 2);
  CHECK(s.keys(table::customer_index) == std::vector<std::string>{"h"});
}

TEST_CASE("scan_back visits keys below a bound in descending order") {
  store s;
  s.apply({op(write_op::put, table::customer_index, "b"),
           op(write_op::put, table::customer_index, "d"),
           op(write_op::put, table::customer_index, "f")});
  CHECK(s.keys(table::customer_index, true)
        == std::vector<std::string>{"f", "d", "b"});
  CHECK(s.keys(table::customer_index, true, "e")
        == std::vector<std::string>{"d", "b"});
  CHECK(s.keys(table::customer_index, true, "d")
        == std::vector<std::string>{"b"});
  CHECK(s.keys(table::customer_index, true, "z")
        == std::vector<std::string>{"f", "d", "b"});
  CHECK(s.keys(table::customer_index, true, "a").empty());
}
