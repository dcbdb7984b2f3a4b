// A local cluster of real tmf629d processes (scripts/cluster.sh, 127.0.0.1,
// free ports, data under a temporary folder, always `cluster.sh down` at
// the end): every node serves every customer and the same merged lists;
// a killed, restarted, hung or misconfigured node costs only its own
// shards, fast, and loses no acknowledged write; TLS between the nodes
// links them and refuses a node with a certificate of another CA.

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "support/cluster.hpp"
#include "support/http_client.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

using json = nlohmann::json;
using namespace std::chrono_literals;
using namespace tmf::test;

namespace {

const std::string base = "/tmf-api/customerManagement/v4";

using clock_type = std::chrono::steady_clock;

/// One keep-alive client per node, by name.
struct clients {
  std::map<std::string, std::unique_ptr<http_client>> by_name;

  explicit clients(const local_cluster& c) {
    for (const auto& nd : c.nodes())
      by_name[nd.name] = std::make_unique<http_client>(nd.port);
  }

  http_client& operator[](const std::string& name) {
    return *by_name.at(name);
  }
};

/// The resource without `href` (built from each node's own address).
json without_href(json doc) {
  doc.erase("href");
  return doc;
}

std::vector<std::string> ids_of(const json& items) {
  std::vector<std::string> out;
  for (const auto& item : items)
    out.push_back(item.at("id").get<std::string>());
  return out;
}

/// Creates a customer through `node`; its id (empty on failure).
std::string create_via(clients& cl, const std::string& node,
                       const std::string& name, response* out = nullptr) {
  auto r = cl[node].post_json(base + "/customer", sample_customer(name));
  if (out)
    *out = r;
  if (r.status != 201)
    return {};
  return json::parse(r.body).at("id").get<std::string>();
}

/// Creates customers through every node until each owns at least `n`
/// (creates are local: a node owns what it creates). Returns id -> owner.
std::map<std::string, std::string> seed_each(local_cluster& c, clients& cl,
                                             size_t n) {
  std::map<std::string, std::string> out;
  for (const auto& nd : c.nodes())
    for (size_t i = 0; i < n; ++i) {
      auto id = create_via(cl, nd.name, "Seed " + nd.name + " "
                                          + std::to_string(i));
      REQUIRE_FALSE(id.empty());
      REQUIRE(c.owner_of(id) == nd.name);
      out[id] = nd.name;
    }
  return out;
}

/// Some id in `ids` owned by `owner`.
std::string owned_by(const std::map<std::string, std::string>& ids,
                     const std::string& owner) {
  for (const auto& [id, who] : ids)
    if (who == owner)
      return id;
  FAIL("no customer owned by " << owner);
  return {};
}

/// One request and how long it took.
struct timed_response {
  response resp;
  std::chrono::microseconds elapsed{0};
};

timed_response timed_get(http_client& http, const std::string& target) {
  auto t0 = clock_type::now();
  auto r = http.get(target);
  return {r, std::chrono::duration_cast<std::chrono::microseconds>(
               clock_type::now() - t0)};
}

/// How many times `node` logged its link to `peer` going `what` ("up",
/// "down").
size_t link_events(local_cluster& c, const std::string& node,
                   const std::string& peer, const std::string& what) {
  return occurrences(c.log(node), "cluster: link to " + peer + " " + what);
}

/// The lines of `text` holding `part`.
std::string lines_with(const std::string& text, const std::string& part) {
  std::string out;
  size_t begin = 0;
  while (begin < text.size()) {
    auto end = text.find('\n', begin);
    if (end == std::string::npos)
      end = text.size();
    auto line = text.substr(begin, end - begin);
    if (line.find(part) != std::string::npos)
      out += line + "\n";
    begin = end + 1;
  }
  return out;
}

/// Asserts that `target` through `node` answers 503 with Retry-After
/// within 100 ms, `times` times.
void check_fast_503(http_client& http, const std::string& node,
                    const std::string& target, int times = 5) {
  for (int i = 0; i < times; ++i) {
    auto t = timed_get(http, target);
    INFO("via " << node << ": " << target << " -> " << t.resp.status
                << " in " << t.elapsed.count() << " us: " << t.resp.body);
    CHECK(t.resp.status == 503);
    CHECK_FALSE(t.resp.header("retry-after").empty());
    CHECK(t.elapsed < 100ms);
  }
}

} // namespace

TEST_CASE("a three-node cluster serves every customer through every node "
          "with the owner's name and the same merged lists") {
  local_cluster c{3};
  clients cl{c};
  std::mt19937 rng{20261201};
  std::map<std::string, json> created; // id -> document
  std::vector<std::string> names = c.names();
  for (int i = 0; i < 30; ++i) {
    const auto& via = names[rng() % names.size()];
    response r;
    auto name = "Cluster Customer " + std::to_string(100 + i);
    auto id = create_via(cl, via, name, &r);
    INFO("POST via " << via << ": " << r.status << " " << r.body);
    REQUIRE_FALSE(id.empty());
    // Creation is local: the receiving node owns the new id's shard.
    CHECK(r.header("x-served-by") == via);
    CHECK(c.owner_of(id) == via);
    created[id] = without_href(json::parse(r.body));
  }
  std::set<std::string> owners;
  for (const auto& [id, doc] : created) {
    owners.insert(c.owner_of(id));
    for (const auto& nd : c.nodes()) {
      auto r = cl[nd.name].get(base + "/customer/" + id);
      INFO("GET " << id << " via " << nd.name << ": " << r.status << " "
                  << r.body);
      REQUIRE(r.status == 200);
      CHECK(r.header("x-served-by") == c.owner_of(id));
      auto got = json::parse(r.body);
      CHECK(got.at("href").get<std::string>().find("/customer/" + id)
            != std::string::npos);
      CHECK(without_href(got) == doc);
    }
  }
  CHECK(owners.size() == 3); // every node owned some: reads were forwarded

  // The whole list, and one sorted page, are the same through every node.
  std::vector<std::string> sorted_names;
  for (const auto& [id, doc] : created)
    sorted_names.push_back(doc.at("name").get<std::string>());
  std::sort(sorted_names.begin(), sorted_names.end());
  // Names 100 to 119 match ^Cluster Customer 1[01]: their ids in order.
  std::vector<std::string> matching_ids;
  for (const auto& [id, doc] : created)
    if (doc.at("name").get<std::string>() < "Cluster Customer 12")
      matching_ids.push_back(id);
  REQUIRE(matching_ids.size() == 20);
  json first_all;
  for (const auto& nd : c.nodes()) {
    INFO("lists via " << nd.name);
    auto all = cl[nd.name].get(base + "/customer?limit=1000");
    REQUIRE(all.status == 200);
    CHECK(all.header("x-total-count") == "30");
    CHECK(all.header("x-result-count") == "30");
    auto items = json::parse(all.body);
    auto ids = ids_of(items);
    CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 30);
    for (const auto& id : ids)
      CHECK(created.count(id) == 1);
    for (auto& item : items)
      item = without_href(item);
    if (first_all.is_null())
      first_all = items;
    CHECK(items == first_all);

    auto page = cl[nd.name].get(base + "/customer?sort=name&offset=7&limit=9");
    REQUIRE(page.status == 206);
    CHECK(page.header("x-total-count") == "30");
    CHECK(page.header("x-result-count") == "9");
    auto page_items = json::parse(page.body);
    REQUIRE(page_items.size() == 9);
    for (size_t k = 0; k < 9; ++k)
      CHECK(page_items[k].at("name") == sorted_names[7 + k]);
    // The Link header pages the merged list by offset (no cursor).
    auto link = page.header("link");
    INFO("Link: " << link);
    CHECK(link.find("cursor") == std::string::npos);
    CHECK(link.find("/customer?sort=name&offset=16&limit=9>; rel=\"next\"")
          != std::string::npos);
    CHECK(link.find("/customer?sort=name&offset=7&limit=9>; rel=\"self\"")
          != std::string::npos);
    auto with_cursor = cl[nd.name].get(base + "/customer?sort=name&cursor=x");
    CHECK(with_cursor.status == 400);

    // Unsorted, a node reads an index in its value order; the merged
    // pages are still the matches in id order, whatever node answers.
    auto filtered = cl[nd.name].get(
      base + "/customer?name.regex=%5ECluster%20Customer%201%5B01%5D"
             "&offset=5&limit=6");
    INFO("filtered: " << filtered.body);
    REQUIRE(filtered.status == 206);
    CHECK(filtered.header("x-total-count") == "20");
    CHECK(filtered.header("x-result-count") == "6");
    CHECK(ids_of(json::parse(filtered.body))
          == std::vector<std::string>(matching_ids.begin() + 5,
                                      matching_ids.begin() + 11));
  }

  // Writes through a node that does not own the customer.
  auto id = created.begin()->first;
  auto owner = c.owner_of(id);
  auto other = owner == "n1" ? std::string{"n2"} : std::string{"n1"};
  auto patched = cl[other].merge_patch(base + "/customer/" + id,
                                       R"({"status":"approved"})");
  REQUIRE(patched.status == 200);
  CHECK(patched.header("x-served-by") == owner);
  for (const auto& nd : c.nodes()) {
    auto r = cl[nd.name].get(base + "/customer/" + id);
    REQUIRE(r.status == 200);
    CHECK(json::parse(r.body).at("status") == "approved");
  }
  auto erased = cl[other].request("DELETE", base + "/customer/" + id);
  CHECK(erased.status == 204);
  for (const auto& nd : c.nodes())
    CHECK(cl[nd.name].get(base + "/customer/" + id).status == 404);
}

namespace {

/// A write stream against the cluster on a thread of its own: creates
/// through the nodes in turn and merge-patches acknowledged customers
/// through random nodes, recording what was acknowledged.
class write_stream {
public:
  struct acked {
    std::string name;   ///< as created
    std::string status; ///< as acknowledged last
    /// Statuses of patches refused since: a refused write may still have
    /// been applied before its owner died (never acknowledged, though).
    std::set<std::string> maybe;
  };

  explicit write_stream(const local_cluster& c) {
    for (const auto& nd : c.nodes())
      ports_.emplace_back(nd.name, nd.port);
    thread_ = std::thread([this] { loop(); });
  }

  ~write_stream() {
    stop();
  }

  void stop() {
    stop_ = true;
    if (thread_.joinable())
      thread_.join();
  }

  std::map<std::string, acked> acknowledged() {
    std::lock_guard<std::mutex> guard{mtx_};
    return acked_;
  }

  size_t creates() const {
    return creates_;
  }

  size_t patches() const {
    return patches_;
  }

  size_t failures() const {
    return failures_;
  }

private:
  void loop() {
    std::vector<std::unique_ptr<http_client>> http;
    for (const auto& p : ports_)
      http.push_back(std::make_unique<http_client>(p.second));
    std::mt19937 rng{4242};
    size_t n = 0;
    while (!stop_) {
      auto k = n % ports_.size();
      if (n % 3 == 2) {
        std::string id;
        {
          std::lock_guard<std::mutex> guard{mtx_};
          if (!acked_.empty()) {
            auto i = acked_.begin();
            std::advance(i, static_cast<long>(rng() % acked_.size()));
            id = i->first;
          }
        }
        if (!id.empty()) {
          auto status = "s" + std::to_string(n);
          auto r = http[rng() % http.size()]->merge_patch(
            base + "/customer/" + id, R"({"status":")" + status + R"("})");
          std::lock_guard<std::mutex> guard{mtx_};
          if (r.status == 200) {
            acked_[id].status = status;
            acked_[id].maybe.clear();
            ++patches_;
          } else {
            acked_[id].maybe.insert(status);
            ++failures_;
          }
        }
      } else {
        auto name = "Stream " + std::to_string(n);
        auto r = http[k]->post_json(base + "/customer", sample_customer(name));
        if (r.status == 201) {
          auto id = json::parse(r.body).at("id").get<std::string>();
          std::lock_guard<std::mutex> guard{mtx_};
          acked_[id] = acked{name, "initialized", {}};
          ++creates_;
        } else {
          ++failures_;
        }
      }
      ++n;
      std::this_thread::sleep_for(3ms); // a light stream: 2 cores
    }
  }

  std::vector<std::pair<std::string, uint16_t>> ports_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex mtx_;
  std::map<std::string, acked> acked_;
  std::atomic<size_t> creates_{0};
  std::atomic<size_t> patches_{0};
  std::atomic<size_t> failures_{0};
};

} // namespace

TEST_CASE("SIGKILL of each node in turn during a write stream loses no "
          "acknowledged write, and its shards answer 503 fast while it is "
          "down") {
  local_cluster c{3};
  clients cl{c};
  auto seeded = seed_each(c, cl, 2);
  write_stream stream{c};
  for (const auto& victim : c.names()) {
    INFO("victim " << victim);
    std::this_thread::sleep_for(400ms); // writes flow everywhere
    std::vector<std::string> survivors;
    for (const auto& name : c.names())
      if (name != victim)
        survivors.push_back(name);
    std::map<std::string, size_t> downs;
    for (const auto& s : survivors)
      downs[s] = link_events(c, s, victim, "down");
    auto kill_time = clock_type::now();
    c.signal(victim, SIGKILL);
    REQUIRE(c.wait_exit(victim, 5s));
    // The survivors see the dead peer's connection close at once.
    REQUIRE(wait_until(
      [&] {
        for (const auto& s : survivors)
          if (link_events(c, s, victim, "down") <= downs[s])
            return false;
        return true;
      },
      5s));
    auto detected = std::chrono::duration_cast<std::chrono::milliseconds>(
      clock_type::now() - kill_time);
    INFO("both survivors logged the link down after " << detected.count()
                                                      << " ms");
    CHECK(detected < 2s);
    auto creates_before = stream.creates();
    for (const auto& s : survivors) {
      // The dead node's shards: 503 with Retry-After, within 100 ms.
      check_fast_503(cl[s], s, base + "/customer/" + owned_by(seeded, victim));
      // Every other node's shards keep serving.
      for (const auto& t : survivors) {
        auto r = cl[s].get(base + "/customer/" + owned_by(seeded, t));
        INFO("GET a customer of " << t << " via " << s << ": " << r.body);
        CHECK(r.status == 200);
        CHECK(r.header("x-served-by") == t);
      }
      // A list needs every node: 503, never a short page.
      auto list = cl[s].get(base + "/customer?limit=10");
      INFO("list via " << s << ": " << list.body);
      CHECK(list.status == 503);
      CHECK_FALSE(list.header("retry-after").empty());
    }
    // The stream kept being acknowledged through the survivors.
    CHECK(wait_until([&] { return stream.creates() > creates_before + 5; },
                     5s));
    c.restart(victim);
    // Back: its customers answer through every node again.
    for (const auto& nd : c.nodes()) {
      auto r = cl[nd.name].get(base + "/customer/"
                               + owned_by(seeded, victim));
      CHECK(r.status == 200);
    }
  }
  stream.stop();
  auto acked = stream.acknowledged();
  INFO(acked.size() << " customers acknowledged (" << stream.creates()
                    << " creates, " << stream.patches() << " patches, "
                    << stream.failures() << " refused)");
  CHECK(stream.creates() > 30);
  CHECK(stream.patches() > 10);
  size_t checked = 0;
  for (const auto& [id, a] : acked) {
    for (const auto& nd : c.nodes()) {
      auto r = cl[nd.name].get(base + "/customer/" + id);
      INFO("GET " << id << " (owner " << c.owner_of(id) << ") via "
                  << nd.name << ": " << r.status << " " << r.body);
      REQUIRE(r.status == 200);
      auto doc = json::parse(r.body);
      CHECK(doc.at("name") == a.name);
      // The acknowledged status, or that of a later refused patch.
      auto status = doc.at("status").get<std::string>();
      CHECK((status == a.status || a.maybe.count(status) == 1));
      ++checked;
    }
  }
  CHECK(checked == acked.size() * 3);
}

TEST_CASE("a hung (SIGSTOPped) node is detected by its peers within the "
          "connection timeout and relinked after SIGCONT") {
  local_cluster c{3, {"--middleman.heartbeat-interval=1s",
                      "--middleman.connection-timeout=3s"}};
  clients cl{c};
  auto seeded = seed_each(c, cl, 2);
  const std::string victim = "n2";
  const std::vector<std::string> peers{"n1", "n3"};
  std::map<std::string, size_t> downs, ups;
  for (const auto& p : peers) {
    downs[p] = link_events(c, p, victim, "down");
    ups[p] = link_events(c, p, victim, "up");
  }
  struct resume_guard {
    local_cluster& c;
    ~resume_guard() {
      c.signal("n2", SIGCONT);
    }
  } guard{c};
  auto t0 = clock_type::now();
  c.signal(victim, SIGSTOP);
  // Heartbeats every 1 s, a connection silent for 3 s is closed: allow
  // the timeout, one heartbeat and a margin for a loaded machine.
  auto detected = wait_until(
    [&] {
      for (const auto& p : peers)
        if (link_events(c, p, victim, "down") <= downs[p])
          return false;
      return true;
    },
    3s + 1s + 3s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
    clock_type::now() - t0);
  INFO("detected after " << took.count() << " ms; n1 log:\n" << c.log("n1"));
  REQUIRE(detected);
  for (const auto& p : peers) {
    check_fast_503(cl[p], p, base + "/customer/" + owned_by(seeded, victim));
    auto other = p == "n1" ? std::string{"n3"} : std::string{"n1"};
    auto r = cl[p].get(base + "/customer/" + owned_by(seeded, other));
    CHECK(r.status == 200);
  }

  c.signal(victim, SIGCONT);
  auto t1 = clock_type::now();
  auto relinked = wait_until(
    [&] {
      for (const auto& p : peers)
        if (link_events(c, p, victim, "up") <= ups[p])
          return false;
      return true;
    },
    15s);
  auto back = std::chrono::duration_cast<std::chrono::milliseconds>(
    clock_type::now() - t1);
  INFO("relinked after " << back.count() << " ms; n2 log:\n" << c.log("n2"));
  REQUIRE(relinked);
  for (const auto& nd : c.nodes())
    for (const auto& owner : c.names()) {
      auto r = cl[nd.name].get(base + "/customer/" + owned_by(seeded, owner));
      INFO("GET a customer of " << owner << " via " << nd.name << ": "
                                << r.body);
      CHECK(r.status == 200);
    }
}

TEST_CASE("a node started with another epoch is refused at link time with "
          "one log line and serves none of the others' shards") {
  local_cluster c{3};
  clients cl{c};
  auto seeded = seed_each(c, cl, 1);
  std::map<std::string, size_t> ups;
  for (const auto& p : {"n1", "n2"})
    ups[p] = link_events(c, p, "n3", "up");
  c.signal("n3", SIGTERM);
  REQUIRE(c.wait_exit("n3", 15s));
  c.start_with("n3", {"--cluster.epoch=2"});
  // n1 and n2 have the lower names: they dial n3 every retry period.
  auto refused = wait_until(
    [&] {
      auto log = c.log("n3");
      return occurrences(log, "refusing a link: node n1 has epoch 1") > 0
             && occurrences(log, "refusing a link: node n2 has epoch 1") > 0;
    },
    10s);
  INFO("n3 log:\n" << c.log("n3"));
  REQUIRE(refused);
  std::this_thread::sleep_for(2500ms); // several more dials (every 500 ms)
  auto n3_log = c.log("n3");
  CHECK(occurrences(n3_log, "refusing a link: node n1 has epoch 1") == 1);
  CHECK(occurrences(n3_log, "refusing a link: node n2 has epoch 1") == 1);
  CHECK(occurrences(n3_log, "cluster: link to") == 0);
  for (const auto& p : {"n1", "n2"}) {
    auto log = c.log(p);
    INFO(p << " log:\n" << log);
    // The dialer's side says so once too, naming both epochs.
    CHECK(occurrences(log, "cluster: link to n3 refused: hello failed") == 1);
    CHECK(occurrences(log, "we have epoch 2") == 1);
    CHECK(link_events(c, p, "n3", "up") == ups[p]);
    // n3's shards are unreachable from here.
    check_fast_503(cl[p], p, base + "/customer/" + owned_by(seeded, "n3"), 2);
  }
  // n3 serves its own shards, but none of the others'.
  http_client n3{c.node("n3").port};
  CHECK(n3.get(base + "/customer/" + owned_by(seeded, "n3")).status == 200);
  for (const auto& other : {"n1", "n2"})
    check_fast_503(n3, "n3", base + "/customer/" + owned_by(seeded, other),
                   2);
  CHECK(n3.get(base + "/customer?limit=5").status == 503);
}

namespace {

/// Runs the openssl CLI with `args` (bounded); its output, or a failed
/// check.
std::string openssl(const std::vector<std::string>& args) {
  std::vector<std::string> all{"/usr/bin/openssl"};
  all.insert(all.end(), args.begin(), args.end());
  auto res = run_command(all, {}, 30s);
  std::string line;
  for (const auto& a : all)
    line += a + " ";
  INFO(line << "\n" << res.output);
  REQUIRE(res.exit_code == 0);
  return res.output;
}

/// A throw-away CA in `dir`: `<name>-ca.pem`, `<name>-ca.key`.
void make_ca(const std::string& dir, const std::string& name) {
  openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2", "-subj",
           "/CN=" + name + " test CA", "-keyout", dir + "/" + name + "-ca.key",
           "-out", dir + "/" + name + "-ca.pem"});
}

/// A node certificate `<cert>.pem` with key `<cert>.key`, signed by CA
/// `ca`, usable as TLS server and client.
void make_cert(const std::string& dir, const std::string& ca,
               const std::string& cert) {
  auto ext = dir + "/" + cert + ".ext";
  {
    std::FILE* f = std::fopen(ext.c_str(), "w");
    REQUIRE(f != nullptr);
    std::fputs("basicConstraints=CA:FALSE\n"
               "keyUsage=digitalSignature,keyAgreement\n"
               "extendedKeyUsage=serverAuth,clientAuth\n"
               "subjectAltName=IP:127.0.0.1\n",
               f);
    std::fclose(f);
  }
  openssl({"req", "-new", "-newkey", "ec", "-pkeyopt",
           "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
           "/CN=" + cert, "-keyout", dir + "/" + cert + ".key", "-out",
           dir + "/" + cert + ".csr"});
  openssl({"x509", "-req", "-in", dir + "/" + cert + ".csr", "-CA",
           dir + "/" + ca + "-ca.pem", "-CAkey", dir + "/" + ca + "-ca.key",
           "-CAcreateserial", "-days", "2", "-extfile", ext, "-out",
           dir + "/" + cert + ".pem"});
}

std::vector<std::string> tls_options(const std::string& dir,
                                     const std::string& ca,
                                     const std::string& cert) {
  // CAF 0.17 takes a boolean option on the command line as a bare flag:
  // `--cluster.tls=true` is refused as an illegal argument.
  return {"--cluster.tls", "--openssl.cafile=" + dir + "/" + ca + "-ca.pem",
          "--openssl.certificate=" + dir + "/" + cert + ".pem",
          "--openssl.key=" + dir + "/" + cert + ".key"};
}

} // namespace

TEST_CASE("nodes linked over TLS forward requests, and a node with a "
          "certificate of another CA is refused") {
  INFO("the openssl CLI makes the test's certificates "
       "(scripts/install-deps.sh installs it)");
  REQUIRE(access("/usr/bin/openssl", X_OK) == 0);
  temp_dir certs;
  const auto& dir = certs.path();
  make_ca(dir, "cluster");
  make_ca(dir, "rogue");
  make_cert(dir, "cluster", "node");
  make_cert(dir, "rogue", "intruder");

  local_cluster c{3, tls_options(dir, "cluster", "node")};
  clients cl{c};
  auto caf_port = std::to_string(c.node("n1").caf_port);
  // The CAF port speaks TLS with the cluster's certificate...
  auto hs = run_command(
    {"/bin/sh", "-c",
     "/usr/bin/openssl s_client -brief -connect 127.0.0.1:" + caf_port
       + " -CAfile " + dir + "/cluster-ca.pem -cert " + dir + "/node.pem -key "
       + dir + "/node.key </dev/null"},
    {}, 20s);
  INFO("openssl s_client: " << hs.output);
  CHECK(occurrences(hs.output, "Verification: OK") == 1);
  CHECK(occurrences(hs.output, "Peer certificate: CN = node") == 1);
  // ...and refuses a client without a certificate, which costs the node
  // none of its links.
  std::map<std::string, size_t> downs;
  for (const auto& p : c.names())
    downs[p] = occurrences(c.log(p), "cluster: link to");
  auto anon = run_command(
    {"/bin/sh", "-c",
     "sleep 1 | /usr/bin/openssl s_client -connect 127.0.0.1:" + caf_port
       + " -CAfile " + dir + "/cluster-ca.pem"},
    {}, 20s);
  INFO("openssl s_client without a certificate: " << anon.output);
  CHECK(occurrences(anon.output, "alert certificate required") == 1);
  std::this_thread::sleep_for(1s);
  for (const auto& p : c.names()) {
    INFO(p << " log:\n" << c.log(p));
    CHECK(occurrences(c.log(p), "cluster: link to") == downs[p]);
  }

  // Linked over TLS: customers of every node are read through every node.
  auto seeded = seed_each(c, cl, 2);
  for (const auto& [id, owner] : seeded)
    for (const auto& nd : c.nodes()) {
      auto r = cl[nd.name].get(base + "/customer/" + id);
      INFO("GET " << id << " via " << nd.name << ": " << r.body);
      CHECK(r.status == 200);
      CHECK(r.header("x-served-by") == owner);
    }

  // n3 comes back with a certificate of another CA (trusting the cluster's
  // CA itself): n1 and n2 dial it and refuse its certificate.
  std::map<std::string, size_t> ups;
  for (const auto& p : {"n1", "n2"})
    ups[p] = link_events(c, p, "n3", "up");
  c.signal("n3", SIGTERM);
  REQUIRE(c.wait_exit("n3", 15s));
  // n1 and n2: the healthy pair.
  const std::vector<std::pair<std::string, std::string>> pair{{"n1", "n2"},
                                                              {"n2", "n1"}};
  std::map<std::string, size_t> events;
  for (const auto& [p, other] : pair)
    events[p] = occurrences(c.log(p), "cluster: link to " + other);
  c.start_with("n3", tls_options(dir, "cluster", "intruder"));
  // Eight dials at the 500 ms retry period; n1 and n2 keep serving each
  // other's customers all along.
  auto until = clock_type::now() + 4s;
  size_t served = 0;
  while (clock_type::now() < until) {
    for (const auto& [p, other] : pair) {
      auto r = cl[p].get(base + "/customer/" + owned_by(seeded, other));
      INFO("GET a customer of " << other << " via " << p << ": " << r.body);
      CHECK(r.status == 200);
      ++served;
    }
    std::this_thread::sleep_for(50ms);
  }
  CHECK(served > 20);
  for (const auto& [p, other] : pair) {
    auto log = c.log(p);
    INFO(p << " logged:\n" << lines_with(log, "cluster: link to"));
    CHECK(link_events(c, p, "n3", "up") == ups[p]);
    // The failed handshake ends CAF's connect with
    // disconnect_during_handshake or, at times, connection_timeout: a
    // line whenever the reason changes.
    CHECK(occurrences(log, "cluster: link to n3 refused: cannot connect")
          >= 1);
    // The refused handshakes cost the healthy link nothing.
    CHECK(occurrences(log, "cluster: link to " + other) == events[p]);
    check_fast_503(cl[p], p, base + "/customer/" + owned_by(seeded, "n3"), 2);
  }
  // The refused node serves nothing of the others.
  http_client n3{c.node("n3").port};
  check_fast_503(n3, "n3", base + "/customer/" + owned_by(seeded, "n1"), 2);
}

TEST_CASE("--help shows the cluster's boolean options as the bare flags the "
          "command line takes") {
  auto help = run_command({TMF629D_PATH, "--help"}, {}, 20s);
  REQUIRE(help.exit_code == 0);
  CHECK(occurrences(help.output, "--cluster.tls ") == 1);
  CHECK(occurrences(help.output, "=<boolean>") == 0);
  CHECK(occurrences(help.output, "--cluster.epoch=<") == 1);
  // What the help shows is what the command line takes: CAF 0.17 refuses
  // a boolean with a value.
  temp_dir dir;
  auto with_value = run_command(
    {TMF629D_PATH, "verify", "--cluster.tls=true",
     "--tmf.data-dir=" + dir.path() + "/data"},
    {}, 20s);
  CHECK(occurrences(with_value.output, "bad option") == 1);
  CHECK(occurrences(with_value.output, "--cluster.tls=true") == 1);
}
