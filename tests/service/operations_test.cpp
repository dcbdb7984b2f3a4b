// Health and metrics of the real tmf629d: readiness against the real store
// and actors, the metrics every layer records after known traffic, and
// readiness failing first at shutdown.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <signal.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>

#include "support/service.hpp"

using json = nlohmann::json;
using namespace tmf::test;

namespace {

const std::string base = service::base_path();

/// The value of the sample `series` in a Prometheus text body, or -1.
double sample(const std::string& text, const std::string& series) {
  auto pos = text.find("\n" + series + " ");
  if (pos == std::string::npos)
    return -1;
  pos += series.size() + 2;
  return std::stod(text.substr(pos, text.find('\n', pos) - pos));
}

} // namespace

TEST_CASE("ready passes on a sound store and fails once the data folder "
          "is gone") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  service svc{data};
  http_client http{svc.port()};
  auto r = http.get("/health/ready");
  REQUIRE(r.status == 200);
  auto body = json::parse(r.body);
  CHECK(body["status"] == "pass");
  CHECK(body["checks"]["store"]["status"] == "pass");
  std::filesystem::remove_all(data);
  r = http.get("/health/ready");
  CHECK(r.status == 503);
  body = json::parse(r.body);
  CHECK(body["checks"]["store"]["status"] == "fail");
  CHECK(body["checks"]["store"]["output"].get<std::string>().find("data.mdb")
        != std::string::npos);
  CHECK(body["checks"]["actors"]["status"] == "pass");
  CHECK(http.get("/health/live").status == 200);
}

TEST_CASE("metrics show the store, the readers and the router after known "
          "traffic") {
  temp_dir dir;
  service svc{dir.path() + "/data"};
  http_client http{svc.port()};
  for (int i = 0; i < 5; ++i)
    REQUIRE(http.post_json(base + "/customer",
                           sample_customer(i < 2 ? "Metric Two" : "Other"))
              .status
            == 201);
  REQUIRE(http.get(base + "/customer?name=Metric%20Two").status == 200);
  REQUIRE(http.get(base + "/customer").status == 200);
  // statusReason has no index (status has one): every row is read.
  REQUIRE(http.get(base + "/customer?statusReason=none").status == 200);
  auto r = http.get("/metrics");
  REQUIRE(r.status == 200);
  const auto& m = r.body;
  CHECK(sample(m, R"(tmf_http_requests_total{method="POST",route="/customer",status="201"})")
        == 5);
  CHECK(sample(m, R"(tmf_http_requests_total{method="GET",route="/customer",status="200"})")
        == 3);
  // Five customer writes, in at most five commits.
  CHECK(sample(m, "tmf_store_commit_batch_size_sum") == 5);
  auto commits = sample(m, "tmf_store_commit_batch_size_count");
  CHECK(commits >= 1);
  CHECK(commits <= 5);
  CHECK(sample(m, "tmf_store_commit_duration_seconds_count") == commits);
  CHECK(sample(m, "tmf_store_commit_failures_total") == 0);
  CHECK(sample(m, R"(tmf_list_queries_total{path="index"})") == 1);
  CHECK(sample(m, R"(tmf_list_rows_read_total{path="index"})") == 2);
  CHECK(sample(m, R"(tmf_list_queries_total{path="plain"})") == 1);
  CHECK(sample(m, R"(tmf_list_rows_read_total{path="plain"})") == 5);
  CHECK(sample(m, R"(tmf_list_queries_total{path="scan"})") == 1);
  CHECK(sample(m, R"(tmf_list_rows_read_total{path="scan"})") == 5);
  CHECK(sample(m, "tmf_customers_resident") == 5);
  CHECK(sample(m, "tmf_customer_passivations_total") == 0);
  CHECK(sample(m, "tmf_lmdb_map_size_bytes") == 64.0 * 1024 * 1024);
  CHECK(sample(m, "tmf_lmdb_used_bytes") > 0);
  CHECK(sample(m, "tmf_lmdb_page_size_bytes") >= 4096);
  CHECK(sample(m, "tmf_lmdb_free_pages") >= 0);
  CHECK(sample(m, "tmf_outbox_backlog_events") == 0);
  CHECK(sample(m, "tmf_hub_subscriptions") == 0);
  CHECK(sample(m, "tmf_event_deliveries_total") == 0);
}

TEST_CASE("passivations are counted and leave the resident gauge") {
  temp_dir dir;
  service svc{dir.path() + "/data",
              {"--tmf.idle-timeout=200ms"}};
  http_client http{svc.port()};
  for (int i = 0; i < 3; ++i)
    REQUIRE(http.post_json(base + "/customer", sample_customer("Idle"))
              .status
            == 201);
  std::string m;
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    m = http.get("/metrics").body;
    if (sample(m, "tmf_customer_passivations_total") == 3)
      break;
  }
  CHECK(sample(m, "tmf_customer_passivations_total") == 3);
  CHECK(sample(m, "tmf_customers_resident") == 0);
}

TEST_CASE("metrics=off serves no /metrics") {
  temp_dir dir;
  service svc{dir.path() + "/data", {"--tmf.metrics=off"}};
  http_client http{svc.port()};
  CHECK(http.get("/metrics").status == 404);
  CHECK(http.get("/health/ready").status == 200);
}

TEST_CASE("on SIGTERM readiness fails first while requests are still served") {
  temp_dir dir;
  service svc{dir.path() + "/data", {"--tmf.unready-delay=1500ms"}};
  http_client http{svc.port()};
  auto created = http.post_json(base + "/customer", sample_customer("Drain"));
  REQUIRE(created.status == 201);
  auto id = json::parse(created.body)["id"].get<std::string>();
  REQUIRE(http.get("/health/ready").status == 200);
  kill(svc.pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto r = http.get("/health/ready");
  CHECK(r.status == 503);
  CHECK(json::parse(r.body)["checks"]["shutdown"]["status"] == "fail");
  CHECK(http.get(base + "/customer/" + id).status == 200);
  auto status = svc.stop(0, std::chrono::milliseconds(10000));
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("every request gets a request id, echoed and logged once") {
  temp_dir dir;
  service svc{dir.path() + "/data",
              {"--tmf.log-level=info", "--tmf.request-log-level=info"}};
  http_client http{svc.port()};
  auto r = http.request("GET", base + "/customer", {},
                        {{"X-Request-ID", "trace-42.a"}});
  CHECK(r.status == 200);
  CHECK(r.header("x-request-id") == "trace-42.a");
  r = http.request("GET", base + "/customer", {},
                   {{"X-Request-ID", "has space"}});
  auto made = r.header("x-request-id");
  CHECK(made.size() == 16);
  CHECK(made.find_first_not_of("0123456789abcdef") == std::string::npos);
  auto other = http.get(base + "/customer/nope").header("x-request-id");
  CHECK(other.size() == 16);
  CHECK(other != made);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto log = svc.log();
  CHECK(log.find("GET " + base + "/customer 200 ") != std::string::npos);
  CHECK(log.find("rid=trace-42.a client=127.0.0.1") != std::string::npos);
  CHECK(log.find("rid=" + made) != std::string::npos);
  CHECK(log.find("rid=" + other) != std::string::npos);
}

TEST_CASE("log-format=json writes one JSON object per line") {
  temp_dir dir;
  service svc{dir.path() + "/data",
              {"--tmf.log-level=info", "--tmf.request-log-level=info",
               "--tmf.log-format=json"}};
  http_client http{svc.port()};
  auto r = http.request("GET", base + "/customer?name=%22q%22", {},
                        {{"X-Request-ID", "json-1"}});
  CHECK(r.status == 200);
  REQUIRE(svc.stop(SIGTERM) != -1);
  std::istringstream lines{svc.log()};
  std::string line;
  int requests = 0;
  int count = 0;
  while (std::getline(lines, line)) {
    ++count;
    auto obj = json::parse(line, nullptr, false);
    REQUIRE(obj.is_object());
    CHECK(obj["time"].is_string());
    CHECK(obj["level"].is_string());
    CHECK(obj["msg"].is_string());
    if (obj["msg"] == "request") {
      ++requests;
      CHECK(obj["method"] == "GET");
      CHECK(obj["target"] == base + "/customer?name=%22q%22");
      CHECK(obj["status"] == 200);
      CHECK(obj["durationUs"].is_number());
      CHECK(obj["requestId"] == "json-1");
      CHECK(obj["client"] == "127.0.0.1");
    }
  }
  CHECK(requests == 1);
  CHECK(count >= 3); // starting, listening, the request, stopped
}

TEST_CASE("request-log-level=off turns the access log off") {
  temp_dir dir;
  service svc{dir.path() + "/data",
              {"--tmf.log-level=debug", "--tmf.request-log-level=off"}};
  http_client http{svc.port()};
  REQUIRE(http.get(base + "/customer").status == 200);
  REQUIRE(svc.stop(SIGTERM) != -1);
  auto log = svc.log();
  CHECK(log.find("listening on") != std::string::npos);
  CHECK(log.find(" rid=") == std::string::npos);
}

TEST_CASE("every metric the Grafana dashboard uses is in /metrics") {
  std::ifstream in{TMF_SOURCE_DIR "/docs/grafana-dashboard.json"};
  REQUIRE(in);
  auto dashboard = json::parse(in, nullptr, false);
  REQUIRE(dashboard.is_object());
  std::set<std::string> names;
  std::vector<std::string> labels_used;
  const std::regex metric{R"(\btmf_[a-z_]+\b)"};
  size_t exprs = 0;
  for (const auto& panel : dashboard["panels"]) {
    if (!panel.contains("targets"))
      continue;
    for (const auto& target : panel["targets"]) {
      auto expr = target["expr"].get<std::string>();
      ++exprs;
      for (std::sregex_iterator i{expr.begin(), expr.end(), metric}, end;
           i != end; ++i)
        names.insert(i->str());
    }
  }
  CHECK(exprs >= 10);
  CHECK(names.size() >= 15);
  temp_dir dir;
  service svc{dir.path() + "/data"};
  http_client http{svc.port()};
  REQUIRE(http.post_json(base + "/customer", sample_customer("Dash")).status
          == 201);
  auto text = http.get("/metrics").body;
  for (const auto& name : names) {
    INFO(name);
    CHECK(std::regex_search(text, std::regex{"(^|\n)" + name + "[{ ]"}));
  }
}
