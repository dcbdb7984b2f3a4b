// Fair readers against the real tmf629d: a cheap indexed query is
// answered while a long scan runs, and a scan running at SIGTERM is
// stopped within the shutdown timeout.

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "persistence/lmdb_store.hpp"
#include "support/service.hpp"

using json = nlohmann::json;
using namespace tmf::test;
using namespace std::chrono_literals;

namespace {

const std::string base = service::base_path();

/// Arguments for a store big enough to scan slowly.
std::vector<std::string> big_store(std::vector<std::string> more = {}) {
  std::vector<std::string> args{"--tmf.map-size=1GiB",
                                "--tmf.request-timeout=60s"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

/// A data folder whose customers take seconds to scan with a regex on
/// `notes` (thousands of numbers each, every one of them matched): the
/// service creates the folder and its index markers on an empty store,
/// then the rows are written straight into LMDB (the indexes do not hold
/// them, which no query of these tests needs).
void fill_slow_store(const std::string& data) {
  {
    service svc{data, big_store()};
    REQUIRE(svc.stop(SIGTERM) != -1);
  }
  std::string error;
  auto env = tmf::persistence::environment::open({data, 1ull << 30, 126},
                                                 error);
  REQUIRE(env);
  json notes = json::array();
  for (int i = 0; i < 4000; ++i)
    notes.push_back(i);
  std::vector<tmf::persistence::write_op> ops;
  for (int i = 0; i < 8000; ++i) {
    auto id = "1b1-" + std::to_string(1000000 + i);
    json row = {{"id", id},
                {"name", "Slow " + std::to_string(i)},
                {"engagedParty", {{"id", "p"}, {"@referredType", "O"}}},
                {"notes", notes}};
    ops.push_back({tmf::persistence::write_op::insert,
                   tmf::persistence::table::customers, id, row.dump(), 0});
    if (ops.size() == 500) {
      std::vector<tmf::persistence::write_result> results;
      REQUIRE(env->apply(ops, results, error)
              == tmf::persistence::status::ok);
      ops.clear();
    }
  }
}

/// Runs a scan in the background; `done` once it has an answer.
struct background_scan {
  std::atomic<bool> done{false};
  std::atomic<int> status{0};
  std::chrono::steady_clock::time_point began;
  std::chrono::steady_clock::time_point ended;
  std::chrono::steady_clock::duration took{};
  std::thread thread;

  explicit background_scan(uint16_t port) {
    began = std::chrono::steady_clock::now();
    thread = std::thread([this, port] {
      http_client http{port};
      auto r = http.get(base + "/customer?notes.regex=x&limit=1");
      ended = std::chrono::steady_clock::now();
      took = ended - began;
      status = r.status;
      done = true;
    });
  }

  ~background_scan() {
    thread.join();
  }
};

} // namespace

TEST_CASE("a cheap indexed query is answered while a long scan runs") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  fill_slow_store(data);
  service svc{data, big_store({"--tmf.readers=1"})};
  http_client http{svc.port()};
  auto made = http.post_json(base + "/customer", sample_customer("Needle"));
  REQUIRE(made.status == 201);
  auto id = json::parse(made.body)["id"].get<std::string>();
  std::vector<std::chrono::steady_clock::duration> cheap;
  {
    background_scan scan{svc.port()};
    std::this_thread::sleep_for(300ms); // the scan holds the only reader
    for (const auto& query :
         std::vector<std::string>{"name=Needle", "id=" + id,
                                  "sort=name&limit=5",
                                  "status=initialized&limit=1"}) {
      auto began = std::chrono::steady_clock::now();
      auto r = http.get(base + "/customer?" + query);
      cheap.push_back(std::chrono::steady_clock::now() - began);
      CHECK((r.status == 200 || r.status == 206));
      CHECK_FALSE(scan.done.load()); // answered while the scan ran
    }
    auto one = http.get(base + "/customer/" + id);
    CHECK(one.status == 200);
    // A second scan waits for the busy reader, not the fast lane.
    CHECK_FALSE(scan.done.load());
  }
  for (auto d : cheap)
    CHECK(d < 500ms);
}

TEST_CASE("a scan running at SIGTERM stops within the shutdown timeout") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  fill_slow_store(data);
  service svc{data, big_store({"--tmf.shutdown-timeout=2s"})};
  // How long the scan takes when nothing stops it: its answer, or the
  // client's 10 s timeout (status 0) when it takes longer (the sanitizer
  // build); the service then goes on scanning on one reader, and the scan
  // below takes the other.
  std::chrono::steady_clock::duration full_took{};
  {
    background_scan full{svc.port()};
    while (!full.done)
      std::this_thread::sleep_for(10ms);
    REQUIRE((full.status == 200 || full.status == 0));
    INFO("a full scan took "
         << std::chrono::duration_cast<std::chrono::milliseconds>(full.took)
              .count()
         << " ms");
    full_took = full.took;
  }
  background_scan scan{svc.port()};
  std::this_thread::sleep_for(300ms);
  auto began = std::chrono::steady_clock::now();
  auto status = svc.stop(SIGTERM, 10000ms);
  auto took = std::chrono::steady_clock::now() - began;
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  while (!scan.done)
    std::this_thread::sleep_for(10ms);
  // The scan is stopped and answered within the shutdown timeout (2 s),
  // the service ends soon after, and far sooner than the scan would.
  CHECK(scan.status == 503);
  CHECK(scan.ended - began < 2s);
  CHECK(took < 3500ms);
  CHECK(took + 1s < full_took);
}
