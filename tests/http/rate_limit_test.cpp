// The per-client token buckets of the rate limiter, on a simulated clock.

#include <catch2/catch.hpp>

#include <string>

#include "http/rate_limit.hpp"

using tmf::http::rate_limiter;
using namespace std::chrono_literals;

TEST_CASE("a bucket holds the burst and refills at the rate") {
  rate_limiter limiter{10, 2, 100};
  auto t0 = rate_limiter::clock::now();
  CHECK(limiter.acquire("a", t0) == 0);
  CHECK(limiter.acquire("a", t0) == 0);
  auto wait = limiter.acquire("a", t0);
  CHECK(wait == Approx(0.1));
  // Another client has a bucket of its own.
  CHECK(limiter.acquire("b", t0) == 0);
  CHECK(limiter.acquire("a", t0 + 50ms) > 0);
  CHECK(limiter.acquire("a", t0 + 100ms) == 0);
  CHECK(limiter.acquire("a", t0 + 100ms) > 0);
  // Never more than the burst, however long the client was away.
  CHECK(limiter.acquire("a", t0 + 10s) == 0);
  CHECK(limiter.acquire("a", t0 + 10s) == 0);
  CHECK(limiter.acquire("a", t0 + 10s) > 0);
}

TEST_CASE("the limiter remembers at most max-clients clients") {
  rate_limiter limiter{1, 1, 100};
  auto t0 = rate_limiter::clock::now();
  for (int i = 0; i < 10000; ++i)
    limiter.acquire("client-" + std::to_string(i), t0);
  CHECK(limiter.size() == 100);
  // The most recent ones are still limited, the oldest were forgotten.
  CHECK(limiter.acquire("client-9999", t0) > 0);
  CHECK(limiter.acquire("client-0", t0) == 0);
  CHECK(limiter.size() == 100);
  // Over-long identities are cut, so an entry stays small.
  std::string huge(100000, 'x');
  CHECK(limiter.acquire(huge, t0) == 0);
  CHECK(limiter.acquire(huge + "y", t0) > 0); // the same cut identity
}
