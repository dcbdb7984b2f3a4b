// The notifier's HTTP client against a listener in the test process.

#include "actors/deliverer.hpp"

#include <condition_variable>
#include <map>
#include <mutex>

#include <catch2/catch.hpp>

#include "support/listener.hpp"

using namespace std::chrono_literals;
using tmf::delivery;
using tmf::delivery_result;
using tmf::deliverer;
using tmf::test::test_listener;

namespace {

/// Collects results; each tag must end exactly once.
struct results {
  std::mutex mtx;
  std::condition_variable cv;
  std::map<uint64_t, delivery_result> by_tag;
  int duplicates = 0;

  void add(delivery_result r) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!by_tag.emplace(r.tag, r).second)
      ++duplicates;
    cv.notify_all();
  }

  bool wait_for(size_t n, std::chrono::milliseconds limit = 10s) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, limit, [&] { return by_tag.size() >= n; });
  }

  delivery_result get(uint64_t tag) {
    std::lock_guard<std::mutex> guard{mtx};
    return by_tag.at(tag);
  }
};

deliverer::options fast(std::string deny = "") {
  deliverer::options opts;
  opts.connect_timeout = 1000ms;
  opts.total_timeout = 500ms;
  std::string error;
  REQUIRE(opts.policy.parse("", deny, error));
  return opts;
}

delivery job(uint64_t tag, std::string url) {
  return delivery{tag, std::move(url), "ev-" + std::to_string(tag),
                  R"({"eventId":"ev-)" + std::to_string(tag) + "\"}"};
}

} // namespace

TEST_CASE("deliverer POSTs the event with its id and reuses connections") {
  test_listener listener;
  results out;
  deliverer d{fast(), [&](delivery_result r) { out.add(std::move(r)); }};
  d.submit(job(1, listener.url("/hook")));
  REQUIRE(out.wait_for(1));
  d.submit(job(2, listener.url("/hook")));
  REQUIRE(out.wait_for(2));
  CHECK(out.get(1).status == 201);
  CHECK(out.get(2).status == 201);
  auto got = listener.received();
  REQUIRE(got.size() == 2);
  CHECK(got[0].method == "POST");
  CHECK(got[0].target == "/hook");
  CHECK(got[0].headers["content-type"] == "application/json");
  CHECK(got[0].headers["x-event-id"] == "ev-1");
  CHECK(got[0].body == R"({"eventId":"ev-1"})");
  CHECK(listener.connections() == 1);
}

TEST_CASE("deliverer reports statuses, Retry-After and failures") {
  test_listener listener;
  listener.script({{503, 0ms, "7"},
                   {429, 0ms, "Wed, 21 Oct 2015 07:28:00 GMT"},
                   {201, 2000ms, ""}});
  results out;
  deliverer d{fast(), [&](delivery_result r) { out.add(std::move(r)); }};
  d.submit(job(1, listener.url("/a")));
  REQUIRE(out.wait_for(1));
  d.submit(job(2, listener.url("/a")));
  REQUIRE(out.wait_for(2));
  d.submit(job(3, listener.url("/a"))); // answered too late
  d.submit(job(4, "http://127.0.0.1:1/closed"));
  REQUIRE(out.wait_for(4));
  CHECK(out.get(1).status == 503);
  CHECK(out.get(1).retry_after_ms == 7000);
  CHECK(out.get(2).status == 429);
  CHECK(out.get(2).retry_after_ms == 0); // a date in the past
  CHECK(out.get(3).status == 0);
  CHECK_FALSE(out.get(3).error.empty());
  CHECK(out.get(4).status == 0);
  CHECK_FALSE(out.get(4).error.empty());
}

TEST_CASE("deliverer never connects to an address the policy denies") {
  test_listener listener;
  results out;
  deliverer d{fast("127.0.0.0/8"),
              [&](delivery_result r) { out.add(std::move(r)); }};
  d.submit(job(1, listener.url("/x")));
  d.submit(job(2, "http://localhost:" + std::to_string(listener.port())));
  REQUIRE(out.wait_for(2));
  CHECK(out.get(1).status == 0);
  CHECK(out.get(1).error.find("not allowed") != std::string::npos);
  CHECK(out.get(2).status == 0);
  CHECK(listener.received().empty());
}

TEST_CASE("deliverer ends every one of many deliveries exactly once") {
  test_listener listener;
  results out;
  {
    deliverer d{fast(), [&](delivery_result r) { out.add(std::move(r)); }};
    for (uint64_t i = 0; i < 200; ++i)
      d.submit(job(i, listener.url("/many")));
    REQUIRE(out.wait_for(200));
  }
  CHECK(out.duplicates == 0);
  CHECK(listener.received().size() == 200);
}

TEST_CASE("deliverer ends what is still running when it stops") {
  test_listener listener;
  listener.set_fallback({201, 5000ms, ""});
  results out;
  {
    auto opts = fast();
    opts.total_timeout = 10s;
    deliverer d{opts, [&](delivery_result r) { out.add(std::move(r)); }};
    d.submit(job(1, listener.url("/slow")));
    REQUIRE(listener.wait_for(1));
  }
  REQUIRE(out.wait_for(1, 0ms));
  CHECK(out.get(1).status == 0);
  CHECK(out.get(1).error == "the service is stopping");
}
