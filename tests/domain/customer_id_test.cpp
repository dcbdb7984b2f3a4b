#include "domain/customer_id.hpp"

#include <set>
#include <string>

#include <catch2/catch.hpp>

TEST_CASE("customer ids carry their shard and are well formed") {
  for (uint16_t shard : {0, 1, 0x1a7, 1023}) {
    auto id = tmf::domain::make_customer_id(shard);
    CHECK(tmf::domain::is_customer_id(id));
    CHECK(tmf::domain::shard_of(id) == shard);
    CHECK(id.size() == 30);
  }
}

TEST_CASE("customer ids do not repeat, across refills of the random pool") {
  std::set<std::string> ids;
  for (int i = 0; i < 5000; ++i) // about 20 refills of 4 KiB
    ids.insert(tmf::domain::make_customer_id(7));
  CHECK(ids.size() == 5000);
}

TEST_CASE("is_customer_id rejects other strings") {
  CHECK_FALSE(tmf::domain::is_customer_id("f0425514-22ec-4937-a579-563c575142f5"));
  CHECK_FALSE(tmf::domain::is_customer_id(""));
  CHECK_FALSE(tmf::domain::is_customer_id("400-aaaaaaaaaaaaaaaaaaaaaaaaaa")); // shard
  CHECK_FALSE(tmf::domain::is_customer_id("00a-aaaaaaaaaaaaaaaaaaaaaaaaa1")); // 1
  CHECK_FALSE(tmf::domain::is_customer_id("00A-aaaaaaaaaaaaaaaaaaaaaaaaaa"));
  CHECK(tmf::domain::is_customer_id("3ff-abcdefghijklmnopqrstuvwxyz"));
}

TEST_CASE("an id starts with its shard's prefix") {
  for (uint16_t shard : {0, 7, 0x1a7, 1023}) {
    auto id = tmf::domain::make_customer_id(shard);
    CHECK(id.rfind(tmf::domain::shard_prefix(shard), 0) == 0);
    CHECK(tmf::domain::shard_prefix(shard).size() == 4);
  }
  CHECK(tmf::domain::shard_prefix(0x1a7) == "1a7-");
}
