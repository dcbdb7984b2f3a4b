// The cluster's membership and shard table.

#include "domain/cluster_map.hpp"

#include <catch2/catch.hpp>

using namespace tmf::domain;

TEST_CASE("members are name=host:port=http-url") {
  member m;
  std::string error;
  REQUIRE(parse_member("n1=127.0.0.1:20010=http://127.0.0.1:8080", m, error));
  CHECK(m.name == "n1");
  CHECK(m.host == "127.0.0.1");
  CHECK(m.port == 20010);
  CHECK(m.http_url == "http://127.0.0.1:8080");
  REQUIRE(parse_member("n2=[::1]:20011=https://h", m, error));
  CHECK(m.host == "::1");
  for (auto bad : {"n1", "n1=h=http://x", "n1=h:0=http://x", "n1=h:70000=http://x",
                   "n 1=h:1=http://x", "n1=h:1=ftp://x", "=h:1=http://x"}) {
    INFO(bad);
    CHECK_FALSE(parse_member(bad, m, error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("a membership lists self, unique names and addresses") {
  membership m;
  CHECK_FALSE(make_membership("b", 1, {"b=h:2=http://b", "a=h:1=http://a"}, m));
  CHECK(m.members.front().name == "a"); // sorted
  CHECK(make_membership("c", 1, {"a=h:1=http://a"}, m));
  CHECK(make_membership("a", 1, {"a=h:1=http://a", "a=h:2=http://a"}, m));
  CHECK(make_membership("a", 1, {"a=h:1=http://a", "b=h:1=http://b"}, m));
}

TEST_CASE("the membership digest changes with the epoch and the members") {
  membership a, b, c;
  REQUIRE_FALSE(make_membership("x", 1, {"x=h:1=http://x", "y=h:2=http://y"}, a));
  REQUIRE_FALSE(make_membership("y", 1, {"y=h:2=http://y", "x=h:1=http://x"}, b));
  CHECK(membership_digest(a) == membership_digest(b)); // self and order aside
  REQUIRE_FALSE(make_membership("x", 2, {"x=h:1=http://x", "y=h:2=http://y"}, c));
  CHECK(membership_digest(a) != membership_digest(c));
  REQUIRE_FALSE(make_membership("x", 1, {"x=h:1=http://x", "y=h:3=http://y"}, c));
  CHECK(membership_digest(a) != membership_digest(c));
}

TEST_CASE("the shard table is stable and spreads shards evenly") {
  shard_table t{{"n1", "n2", "n3"}};
  // Fixed hash: the same table in every run and build.
  CHECK(t.owner(0) == shard_table{{"n1", "n2", "n3"}}.owner(0));
  CHECK(rendezvous_score(7, "n1") == rendezvous_score(7, "n1"));
  size_t total = 0;
  for (size_t i = 0; i < 3; ++i) {
    auto n = t.shards_of(i).size();
    CHECK(n > 1024 / 3 - 60);
    CHECK(n < 1024 / 3 + 60);
    total += n;
  }
  CHECK(total == shard_count);
}

TEST_CASE("adding a member moves about 1/(N+1) of the shards, all to it") {
  shard_table before{{"n1", "n2", "n3"}};
  shard_table after{{"n1", "n2", "n3", "n4"}};
  size_t moved = 0;
  for (uint16_t s = 0; s < shard_count; ++s) {
    if (before.owner(s) == after.owner(s))
      continue;
    ++moved;
    CHECK(after.names()[after.owner(s)] == "n4");
  }
  CHECK(moved > 1024 / 4 - 60);
  CHECK(moved < 1024 / 4 + 60);
}

TEST_CASE("held marks name their shard and nothing else reads as one") {
  using namespace tmf::domain;
  for (uint16_t shard : {0, 9, 0x1a7, 1023}) {
    auto key = held_shard_key(shard);
    CHECK(key.rfind(held_shard_prefix, 0) == 0);
    REQUIRE(held_shard_of(key));
    CHECK(*held_shard_of(key) == shard);
  }
  CHECK(held_shard_key(0x1a7) == "held-shard/1a7");
  CHECK_FALSE(held_shard_of("held-shard/"));
  CHECK_FALSE(held_shard_of("held-shard/1a"));
  CHECK_FALSE(held_shard_of("held-shard/1a77"));
  CHECK_FALSE(held_shard_of("held-shard/xyz"));
  CHECK_FALSE(held_shard_of("held-shard/400")); // shard 1024
  CHECK_FALSE(held_shard_of(held_marks_key));
  CHECK_FALSE(held_shard_of("schema-version"));
}
