// Starting, configuring, stopping and restarting the real tmf629d, and what
// it promises about acknowledged writes (kill -9, full storage map).

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <mutex>
#include <thread>

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "domain/stored_text.hpp"
#include "persistence/lmdb_store.hpp"
#include "support/service.hpp"

using json = nlohmann::json;
using namespace tmf::test;

namespace {

const std::string base = service::base_path();

std::string only_line(const std::string& text) {
  auto out = text;
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

} // namespace

TEST_CASE("a restart keeps every customer") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  std::vector<json> created;
  {
    service svc{data};
    http_client http{svc.port()};
    for (int i = 0; i < 20; ++i) {
      auto r = http.post_json(base + "/customer",
                              sample_customer("Restart " + std::to_string(i)));
      REQUIRE(r.status == 201);
      created.push_back(json::parse(r.body));
    }
    auto target = base + "/customer/" + created[0]["id"].get<std::string>();
    auto p = http.merge_patch(target, R"({"status":"active"})");
    REQUIRE(p.status == 200);
    created[0] = json::parse(p.body);
    auto d = http.request("DELETE", base + "/customer/"
                                      + created[1]["id"].get<std::string>());
    REQUIRE(d.status == 204);
    auto status = svc.stop(SIGTERM);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  service svc{data};
  http_client http{svc.port()};
  auto list = http.get(base + "/customer");
  CHECK(list.header("x-total-count") == "19");
  for (size_t i = 0; i < created.size(); ++i) {
    auto id = created[i]["id"].get<std::string>();
    auto r = http.get(base + "/customer/" + id);
    if (i == 1) {
      CHECK(r.status == 404);
      continue;
    }
    REQUIRE(r.status == 200);
    auto body = json::parse(r.body);
    body["href"] = created[i]["href"]; // the port changed
    CHECK(body == created[i]);
  }
}

TEST_CASE("SIGTERM and SIGINT shut down in order within seconds, exit 0") {
  for (int sig : {SIGTERM, SIGINT}) {
    temp_dir dir;
    service svc{dir.path() + "/data", {"--tmf.log-level=info"}};
    http_client http{svc.port()};
    REQUIRE(http.post_json(base + "/customer", sample_customer("Bye")).status
            == 201);
    auto begin = std::chrono::steady_clock::now();
    auto status = svc.stop(sig, std::chrono::milliseconds(8000));
    auto took = std::chrono::steady_clock::now() - begin;
    REQUIRE(status != -1);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(took < std::chrono::seconds(8));
    CHECK(svc.log().find("stopped") != std::string::npos);
  }
}

TEST_CASE("a full storage map answers 507 and loses nothing") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  service svc{data, {"--tmf.map-size=1MiB"}};
  http_client http{svc.port()};
  std::vector<std::string> stored;
  int full = 0;
  for (int i = 0; i < 200 && full == 0; ++i) {
    auto body = json::parse(sample_customer("Full " + std::to_string(i)));
    body["description"] = std::string(60000, 'x');
    auto r = http.post_json(base + "/customer", body.dump());
    if (r.status == 201) {
      stored.push_back(json::parse(r.body)["id"]);
    } else {
      REQUIRE(r.status == 507);
      auto err = json::parse(r.body);
      CHECK(err["code"] == "507");
      CHECK(err["message"].get<std::string>().find("full")
            != std::string::npos);
      ++full;
    }
  }
  REQUIRE(full == 1);
  REQUIRE(!stored.empty());
  for (const auto& id : stored)
    CHECK(http.get(base + "/customer/" + id).status == 200);
  // Space can be freed: a delete still works, and so does a small create.
  CHECK(http.request("DELETE", base + "/customer/" + stored.back()).status
        == 204);
  stored.pop_back();
  CHECK(http.post_json(base + "/customer", sample_customer("Small")).status
        == 201);
  REQUIRE(WIFEXITED(svc.stop(SIGTERM)));
  service again{data, {"--tmf.map-size=1MiB"}};
  http_client http2{again.port()};
  for (const auto& id : stored)
    CHECK(http2.get(base + "/customer/" + id).status == 200);
}

namespace {

/// Checks that `r` is a TMF Error with `status` whose message contains
/// `part`.
void check_error(const response& r, int status, const std::string& part) {
  INFO(r.status << " " << r.body);
  REQUIRE(r.status == status);
  auto err = json::parse(r.body, nullptr, false);
  REQUIRE(err.is_object());
  CHECK(err["@type"] == "Error");
  CHECK(err["code"] == std::to_string(status));
  CHECK(err["status"] == std::to_string(status));
  CHECK(err["message"].get<std::string>().find(part) != std::string::npos);
}

size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos;
       pos = text.find(part, pos + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("a data folder removed under the running service makes writes "
          "answer 503 while reads go on") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  service svc{data};
  http_client http{svc.port()};
  std::vector<std::string> ids;
  for (int i = 0; i < 2; ++i) {
    auto r = http.post_json(base + "/customer",
                            sample_customer("Gone " + std::to_string(i)));
    REQUIRE(r.status == 201);
    ids.push_back(json::parse(r.body)["id"]);
  }
  std::filesystem::remove_all(data);
  const std::string why = "the data folder was removed or replaced";
  check_error(http.post_json(base + "/customer", sample_customer("Lost")),
              503, why);
  auto target = base + "/customer/" + ids[0];
  check_error(http.merge_patch(target, R"({"status":"active"})"), 503, why);
  check_error(http.request("DELETE", base + "/customer/" + ids[1]), 503, why);
  check_error(http.post_json(base + "/customer", sample_customer("Lost 2")),
              503, "restart the service");
  // Reads answer from the open file: the list scans LMDB.
  auto list = http.get(base + "/customer");
  CHECK(list.status == 200);
  CHECK(list.header("x-total-count") == "2");
  auto got = http.get(target);
  REQUIRE(got.status == 200);
  CHECK(json::parse(got.body)["status"] == "initialized");
  REQUIRE(WIFEXITED(svc.stop(SIGTERM)));
  CHECK(count_of(svc.log(), "data folder was removed or replaced") == 1);
}

TEST_CASE("a service at its file-size limit answers 507, loses no "
          "acknowledged write and keeps serving reads") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  std::vector<std::string> stored;
  {
    service svc{data, {}, service_options{1ull << 20}};
    http_client http{svc.port()};
    int full = 0;
    for (int i = 0; i < 200 && full == 0; ++i) {
      auto body = json::parse(sample_customer("Big " + std::to_string(i)));
      body["description"] = std::string(30000, 'x');
      auto r = http.post_json(base + "/customer", body.dump());
      if (r.status == 201) {
        stored.push_back(json::parse(r.body)["id"]);
        continue;
      }
      check_error(r, 507, "storage is full");
      ++full;
    }
    REQUIRE(full == 1);
    REQUIRE(stored.size() >= 5);
    // The process is alive (no SIGXFSZ) and reads go on.
    auto list = http.get(base + "/customer?limit=1");
    CHECK((list.status == 200 || list.status == 206));
    CHECK(list.header("x-total-count") == std::to_string(stored.size()));
    for (const auto& id : stored)
      CHECK(http.get(base + "/customer/" + id).status == 200);
    REQUIRE(WIFEXITED(svc.stop(SIGTERM)));
  }
  // Without the limit: every acknowledged create is there, nothing else.
  service svc{data};
  http_client http{svc.port()};
  CHECK(http.get(base + "/customer?limit=0").header("x-total-count")
        == std::to_string(stored.size()));
  for (const auto& id : stored)
    CHECK(http.get(base + "/customer/" + id).status == 200);
}

TEST_CASE("a file-size limit below the store's first write stops start-up "
          "with one line, not with SIGXFSZ") {
  // A fresh store writes its two meta pages (8 KiB), then commits its
  // tables from offset 8192: exactly at the limit, where the kernel sends
  // SIGXFSZ unless it is ignored.
  temp_dir dir;
  std::string out;
  auto code = run_tmf629d({"--config-file=" TMF_SOURCE_DIR "/config/test.ini",
                           "--tmf.data-dir=" + dir.path() + "/data"},
                          out, service_options{8192});
  INFO(out);
  CHECK(code == 1);
  CHECK(only_line(out).find("tmf629d: data-dir ") == 0);
  CHECK(out.find("mdb_txn_commit: File too large") != std::string::npos);
  CHECK(std::count(out.begin(), out.end(), '\n') == 1);
}

TEST_CASE("bad configuration stops start-up with one clear line") {
  temp_dir dir;
  auto data = "--tmf.data-dir=" + dir.path() + "/data";
  struct bad_case {
    std::vector<std::string> args;
    std::string expect;
  };
  std::vector<bad_case> cases{
    {{data, "--tmf.port=70000"}, "tmf.port"},
    {{data, "--tmf.map-size=0"}, "tmf.map-size"},
    {{data, "--tmf.log-level=loud"}, "tmf.log-level"},
    {{data, "--tmf.public-url=ftp://x"}, "tmf.public-url"},
    {{"--tmf.data-dir=/proc/version/data"}, "/proc/version/data"},
    {{data, "--tmf.port=abc"}, "tmf.port"},
    {{data, "--tmf.cpu-scheduling=fifo"}, "tmf.cpu-scheduling"},
    {{data, "--cluster.self=n3", "--cluster.epoch=1",
      "--cluster.members=[\"n1=127.0.0.1:1=http://x\",\"n2=127.0.0.1:2=http://y\"]"},
     "cluster.members"},
    {{data, "--cluster.self=n1", "--cluster.epoch=1",
      "--cluster.members=[\"n1=127.0.0.1:1=http://x\",\"n2=127.0.0.1:2=http://y\"]",
      "--cluster.tls"},
     "cluster.tls"},
  };
  for (auto& c : cases) {
    std::string out;
    auto code = run_tmf629d(c.args, out);
    INFO(out);
    CHECK(code != 0);
    CHECK(code != -1);
    CHECK(out.find(c.expect) != std::string::npos);
    CHECK(std::count(out.begin(), out.end(), '\n') == 1);
    CHECK(only_line(out).find("tmf629d: ") == 0);
  }
}

TEST_CASE("--help lists every tmf key and exits 0") {
  std::string out;
  CHECK(run_tmf629d({"--help"}, out) == 0);
  for (auto key : {"tmf.address", "tmf.port", "tmf.public-url",
                   "tmf.base-path", "tmf.data-dir", "tmf.map-size",
                   "tmf.io-threads", "tmf.request-timeout", "tmf.idle-timeout",
                   "tmf.log-level", "tmf.max-body-size",
                   "tmf.cpu-scheduling"})
    CHECK(out.find(key) != std::string::npos);
}

namespace {

/// The scheduling policy (field 41 of /proc/PID/task/TID/stat) of every
/// thread of `pid`.
std::vector<int> thread_policies(pid_t pid) {
  std::vector<int> out;
  auto dir = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(dir)) {
    std::ifstream in{task.path() / "stat"};
    std::string stat{std::istreambuf_iterator<char>{in}, {}};
    // Fields after the command name, which is in parentheses.
    std::istringstream rest{stat.substr(stat.rfind(')') + 2)};
    std::string field;
    for (int i = 3; i <= 41 && rest >> field; ++i)
      if (i == 41)
        out.push_back(std::stoi(field));
  }
  return out;
}

} // namespace

TEST_CASE("cpu-scheduling puts every service thread under SCHED_BATCH or "
          "leaves it normal") {
  temp_dir dir;
  {
    service svc{dir.path() + "/data"}; // batch is the default
    auto policies = thread_policies(svc.pid());
    CHECK(policies.size() >= 4); // main, HTTP, CAF worker, clock, store...
    for (auto p : policies)
      CHECK(p == SCHED_BATCH);
  }
  service svc{dir.path() + "/data", {"--tmf.cpu-scheduling=normal"}};
  auto policies = thread_policies(svc.pid());
  CHECK(policies.size() >= 4);
  for (auto p : policies)
    CHECK(p == SCHED_OTHER);
}

TEST_CASE("start-up logs the effective configuration and one line per request") {
  temp_dir dir;
  service svc{dir.path() + "/data",
              {"--tmf.log-level=debug", "--tmf.request-log-level=info"}};
  http_client http{svc.port()};
  REQUIRE(http.get(base + "/customer").status == 200);
  auto status = svc.stop(SIGTERM);
  REQUIRE(WIFEXITED(status));
  auto log = svc.log();
  CHECK(log.find("tmf629d starting: address=127.0.0.1") != std::string::npos);
  CHECK(log.find("map-size=67108864") != std::string::npos);
  CHECK(log.find("GET " + base + "/customer 200 ") != std::string::npos);
}

TEST_CASE("passivating least recently used customers loses no request") {
  // Two resident actors at most: creates keep pushing the hot customers out
  // while other clients keep sending them requests.
  temp_dir dir;
  service svc{dir.path() + "/data", {"--tmf.max-resident=2"}};
  std::vector<std::string> hot;
  {
    http_client http{svc.port()};
    for (int i = 0; i < 3; ++i) {
      auto r = http.post_json(base + "/customer",
                              sample_customer("Hot" + std::to_string(i)));
      REQUIRE(r.status == 201);
      hot.push_back(json::parse(r.body)["id"]);
    }
  }
  std::atomic<int> failures{0};
  std::atomic<int> done{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 2; ++t) {
    clients.emplace_back([&, t] {
      http_client http{svc.port()};
      for (int i = 0; i < 300; ++i)
        if (http.post_json(base + "/customer",
                           sample_customer("Churn" + std::to_string(t) + "-"
                                           + std::to_string(i)))
              .status
            != 201)
          ++failures;
      ++done;
    });
  }
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      http_client http{svc.port()};
      for (int i = 0; done < 2 && i < 100000; ++i) {
        auto target = base + "/customer/" + hot[(t + i) % hot.size()];
        auto r = i % 2 == 0
                   ? http.get(target)
                   : http.merge_patch(target, R"({"status":"s)"
                                                + std::to_string(i) + "\"}");
        if (r.status != 200)
          ++failures;
      }
    });
  }
  for (auto& c : clients)
    c.join();
  CHECK(failures == 0);
}

TEST_CASE("a request the actors do not answer in time gets 504, not a hang") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  {
    // Enough customers that a scan that must parse each one takes a while.
    service svc{data};
    std::vector<std::thread> clients;
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, t] {
        http_client http{svc.port()};
        for (int i = 0; i < 1500; ++i)
          http.post_json(base + "/customer",
                         sample_customer("Slow" + std::to_string(t) + "-"
                                         + std::to_string(i)));
      });
    }
    for (auto& c : clients)
      c.join();
    REQUIRE(WIFEXITED(svc.stop(SIGTERM)));
  }
  // A 1ns request timeout expires long before a regex scan over 6000
  // customers can answer.
  service svc{data, {"--tmf.request-timeout=1ns"}};
  http_client http{svc.port()};
  auto begin = std::chrono::steady_clock::now();
  auto r = http.get(base + "/customer?name.regex=.*x.*");
  auto took = std::chrono::steady_clock::now() - begin;
  REQUIRE(r.status == 504);
  auto err = json::parse(r.body);
  CHECK(err["code"] == "504");
  CHECK(err["message"].get<std::string>().find("outcome is unknown")
        != std::string::npos);
  CHECK(took < std::chrono::seconds(2));
  // The connection and the service keep working.
  auto again = http.get(base + "/customer/000-aaaaaaaaaaaaaaaaaaaaaaaaaa");
  CHECK((again.status == 404 || again.status == 504));
  // Durable creates outlast the timeout too: the deadline sweeper answers
  // 504 for those in flight when it runs, and they still commit.
  int timeouts = 0;
  for (int i = 0; i < 200; ++i) {
    auto c = http.post_json(base + "/customer",
                            sample_customer("Late" + std::to_string(i)));
    REQUIRE((c.status == 201 || c.status == 504));
    if (c.status == 504)
      ++timeouts;
  }
  CHECK(timeouts > 0);
}

namespace {

/// What a stream of creates saw when the service was stopped under it.
struct stream_outcome {
  int exit_status = -1;        ///< as from waitpid
  std::vector<std::string> acked; ///< ids of every 201 received
  int unexpected = 0;          ///< answers other than 201 and 503
};

/// Streams creates from 8 clients into a service on `data`, sends `sig`
/// once a few hundred were acknowledged (bounded: at most 20 s), and
/// collects what the clients saw.
stream_outcome stop_during_creates(const std::string& data, int sig) {
  stream_outcome out;
  std::mutex mtx;
  std::atomic<int> count{0};
  service svc{data};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      http_client http{svc.port()};
      for (int i = 0; i < 100000; ++i) {
        auto r = http.post_json(base + "/customer",
                                sample_customer("S" + std::to_string(t) + "-"
                                                + std::to_string(i)));
        if (r.status == 0 || r.status == 503)
          break; // closed or refused: the service is stopping
        std::lock_guard<std::mutex> guard{mtx};
        if (r.status != 201) {
          ++out.unexpected;
          break;
        }
        out.acked.push_back(json::parse(r.body)["id"]);
        ++count;
      }
    });
  }
  for (int i = 0; i < 2000 && count < 300; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  out.exit_status = svc.stop(sig);
  for (auto& w : writers)
    w.join();
  return out;
}

/// How many of `ids` a fresh start on `data` cannot read back.
size_t missing_after_restart(const std::string& data,
                             const std::vector<std::string>& ids) {
  service svc{data};
  http_client http{svc.port()};
  size_t missing = 0;
  for (const auto& id : ids)
    if (http.get(base + "/customer/" + id).status != 200)
      ++missing;
  return missing;
}

} // namespace

TEST_CASE("kill -9 during a stream of creates loses no acknowledged create") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  auto out = stop_during_creates(data, SIGKILL);
  REQUIRE(out.exit_status != -1);
  REQUIRE(WIFSIGNALED(out.exit_status));
  CHECK(out.unexpected == 0);
  REQUIRE(out.acked.size() >= 100);
  CHECK(missing_after_restart(data, out.acked) == 0);
}

TEST_CASE("SIGTERM during a stream of creates answers or refuses each one "
          "and keeps every acknowledged create") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  auto out = stop_during_creates(data, SIGTERM);
  REQUIRE(out.exit_status != -1);
  REQUIRE(WIFEXITED(out.exit_status));
  CHECK(WEXITSTATUS(out.exit_status) == 0);
  CHECK(out.unexpected == 0);
  REQUIRE(out.acked.size() >= 100);
  CHECK(missing_after_restart(data, out.acked) == 0);
}


namespace {

/// RssAnon of `pid` in KiB (anonymous memory: the heap, not LMDB's map).
long rss_anon_kib(pid_t pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("RssAnon:", 0) == 0)
      return std::stol(line.substr(8));
  return -1;
}

/// Rewrites every stored customer of the data folder `data` behind the
/// running service's back (LMDB takes a second writing process), adding
/// `"description": mark`. Returns the ids.
std::vector<std::string> mark_every_row(const std::string& data,
                                        const std::string& mark) {
  using namespace tmf::persistence;
  std::string error;
  auto env = environment::open({data, 64ull << 20, 126}, error); // test.ini
  REQUIRE(env);
  std::vector<std::string> ids;
  std::vector<write_op> ops;
  auto scanned = env->read().scan(table::customers, {},
                                  [&](const record_view& rec) {
    auto doc = json::parse(rec.json);
    doc["description"] = mark;
    ids.emplace_back(rec.key);
    ops.push_back({write_op::replace, table::customers, std::string{rec.key},
                   tmf::domain::id_first_text(doc), 0, false});
    return true;
  });
  REQUIRE_FALSE(scanned.failed());
  std::vector<write_result> results;
  REQUIRE(env->apply(ops, results, error) == status::ok);
  for (const auto& r : results)
    REQUIRE(r.st == status::ok);
  return ids;
}

/// Those of `ids` whose GET does not answer the description `mark`: their
/// customer actor still holds the text from before the rows were marked.
std::vector<std::string> still_resident(http_client& http,
                                        const std::vector<std::string>& ids,
                                        const std::string& mark) {
  std::vector<std::string> out;
  for (const auto& id : ids) {
    auto r = http.get(base + "/customer/" + id);
    REQUIRE(r.status == 200);
    if (json::parse(r.body).value("description", "") != mark)
      out.push_back(id);
  }
  return out;
}

} // namespace

TEST_CASE("idle customers are passivated and their memory handed back") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  // Long enough that most customers are still resident when the last one
  // is created, even on a loaded machine.
  const auto idle_timeout = std::chrono::seconds(8);
  service svc{data, {"--tmf.idle-timeout=8s"}};
  auto start = rss_anon_kib(svc.pid());
  REQUIRE(start > 0);
  // The heap's high-water mark while creating: on a slow machine the first
  // customers may already be passivated before the last one is created.
  std::atomic<long> peak{start};
  std::atomic<bool> creating{true};
  std::thread sampler{[&] {
    while (creating) {
      auto now = rss_anon_kib(svc.pid());
      if (now > peak)
        peak = now;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }};
  std::vector<std::thread> clients;
  std::atomic<int> created{0};
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      http_client http{svc.port()};
      for (int i = 0; i < 3000; ++i)
        if (http.post_json(base + "/customer",
                           sample_customer("Mem" + std::to_string(t) + "-"
                                           + std::to_string(i)))
              .status
            == 201)
          ++created;
    });
  }
  for (auto& c : clients)
    c.join();
  auto last_create = std::chrono::steady_clock::now();
  creating = false;
  sampler.join();
  REQUIRE(created == 12000);
  INFO("RssAnon at start " << start << " KiB, peak " << peak.load() << " KiB");
#ifdef TMF_SANITIZE_ADDRESS
  WARN("AddressSanitizer build: the RssAnon assertions are skipped. ASan's "
       "allocator keeps freed memory in its quarantine and ignores "
       "malloc_trim, so the heap cannot shrink; that every customer actor "
       "is passivated is still checked.");
#else
  // Thousands of resident customers at the peak. How many depends on the
  // machine's speed (the first may be passivated before the last is
  // created), so the check is relative to where the heap started.
  auto grown = peak - start;
  REQUIRE(grown > std::max<long>(1024, start / 4));
  // Idle for the idle timeout: every customer actor goes (bounded wait),
  // and the heap shrinks back towards where it started. The allocator
  // keeps about 1-1.5 MiB after the first burst of requests whatever is
  // resident (measured on a quiet and a loaded machine), which is more
  // than a quarter of the growth when a slow machine passivates during
  // the creates: 2 MiB are always allowed (12,000 resident customers
  // would hold about 36 MiB).
  const long allowed = std::max<long>(grown / 4, 2048);
  long idle = peak;
  for (int i = 0; i < 250 && idle - start > allowed; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    idle = rss_anon_kib(svc.pid());
  }
  INFO("RssAnon idle " << idle << " KiB");
  CHECK(idle - start <= allowed);
#endif
  // Every customer actor went: once the rows are changed behind the
  // service's back, every GET loads its customer afresh and answers the
  // change; an actor still resident would answer its old text. One that
  // was used too recently for the sweep gets one more idle period.
  std::this_thread::sleep_until(last_create + 2 * idle_timeout);
  const std::string mark = "changed while passivated";
  auto ids = mark_every_row(data, mark);
  REQUIRE(ids.size() == 12000);
  http_client http{svc.port()};
  auto resident = still_resident(http, ids, mark);
  if (!resident.empty()) {
    std::this_thread::sleep_for(2 * idle_timeout);
    resident = still_resident(http, resident, mark);
  }
  CHECK(resident.empty());
  // The data is still all there.
  CHECK(http.get(base + "/customer?limit=0").header("x-total-count")
        == "12000");
}
