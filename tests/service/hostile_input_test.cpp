// Hostile input against the real tmf629d: every request gets a status with
// a TMF Error body, nothing crashes, hangs or changes a stored customer.

#include <catch2/catch.hpp>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "domain/customer_index.hpp"
#include "persistence/lmdb_store.hpp"
#include "support/service_fixture.hpp"

using json = nlohmann::json;
using namespace tmf::test;

namespace {

const std::string base = service::base_path();

struct fixture : service_fixture {
  using service_fixture::service_fixture;

  std::string create(const std::string& name) {
    return post_customer(json::parse(sample_customer(name)))["id"];
  }

  /// Every stored customer, by id.
  std::map<std::string, std::string> snapshot() {
    auto r = http.get(base + "/customer?limit=1000");
    REQUIRE(r.status == 200);
    std::map<std::string, std::string> out;
    for (auto& c : json::parse(r.body))
      out[c["id"]] = c.dump();
    return out;
  }
};

/// Checks the TMF Error shape of `r` and returns its message.
std::string error_message(const response& r) {
  auto body = json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["@type"] == "Error");
  CHECK(body["code"] == std::to_string(r.status));
  CHECK(body["status"] == std::to_string(r.status));
  REQUIRE(body["message"].is_string());
  return body["message"];
}

std::string nested(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

/// A valid customer body with `extra` members spliced in.
std::string customer_with(const std::string& extra) {
  auto body = sample_customer("Hostile");
  return body.substr(0, body.size() - 1) + "," + extra + "}";
}

std::string request(const std::string& method, const std::string& target,
                    const std::string& body = {},
                    const std::string& type = "application/json") {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: t\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH")
    out += "Content-Type: " + type + "\r\nContent-Length: "
           + std::to_string(body.size()) + "\r\n";
  return out + "\r\n" + body;
}

/// The number of open descriptors of process `pid`.
size_t descriptors(pid_t pid) {
  size_t n = 0;
  for ([[maybe_unused]] auto& entry : std::filesystem::directory_iterator(
         "/proc/" + std::to_string(pid) + "/fd"))
    ++n;
  return n;
}

/// The one response to `bytes` sent on a fresh connection.
response one_response(const fixture& f, const std::string& bytes) {
  auto all = parse_responses(raw_exchange(f.svc.port(), bytes));
  REQUIRE(all.size() == 1);
  return all.front();
}

} // namespace

TEST_CASE("deeply nested JSON is refused while parsing, at any depth") {
  fixture f;
  auto id = f.create("Keep");
  auto before = f.snapshot();
  // 30,000 levels once overflowed the stack in the stored-form walk.
  auto r = f.http.post_json(base + "/customer",
                            customer_with("\"ext\":" + nested(30000)));
  CHECK(r.status == 400);
  CHECK(error_message(r).find("nests deeper than 32 levels")
        != std::string::npos);
  // characteristic.value may hold any JSON: not deeper than the limit.
  r = f.http.post_json(
    base + "/customer",
    customer_with(R"("characteristic":[{"name":"n","value":)"
                  + nested(16000) + "}]"));
  CHECK(r.status == 400);
  r = f.http.merge_patch(base + "/customer/" + id,
                         "{\"ext\":" + nested(100000) + "}");
  CHECK(r.status == 400);
  CHECK(error_message(r).find("nests deeper") != std::string::npos);
  // Up to the limit is fine, and lists walk such documents safely.
  r = f.http.post_json(base + "/customer",
                       customer_with("\"ext\":" + nested(30)));
  CHECK(r.status == 201);
  CHECK(f.total("&characteristic.value=1") == 0);
  CHECK(f.total("&ext=1") == 0);
  auto after = f.snapshot();
  after.erase(json::parse(r.body)["id"].get<std::string>());
  CHECK(after == before);
}

TEST_CASE("a body is exactly one JSON value, or it is refused") {
  fixture f;
  auto before = f.total();
  auto bom = "\xEF\xBB\xBF" + sample_customer("Bom");
  auto r = f.http.post_json(base + "/customer", bom);
  CHECK(r.status == 400);
  CHECK(error_message(r).find("byte order mark") != std::string::npos);
  auto nul = sample_customer("Nul") + std::string{"\0", 1}
             + R"(,"injected":"<script>"])";
  r = f.http.post_json(base + "/customer", nul);
  CHECK(r.status == 400);
  CHECK(error_message(r).find("NUL byte") != std::string::npos);
  r = f.http.post_json(base + "/customer", sample_customer("Two") + " {}");
  CHECK(r.status == 400);
  CHECK(f.total() == before);
  // A number out of range is a 400, and the connection stays usable.
  auto out = parse_responses(raw_exchange(
    f.svc.port(),
    request("POST", base + "/customer", customer_with("\"x\":1e400"))
      + request("GET", base + "/customer?limit=0")));
  REQUIRE(out.size() == 2);
  CHECK(out[0].status == 400);
  CHECK(error_message(out[0]).find("number overflow") != std::string::npos);
  CHECK(out[1].status == 200);
  CHECK(f.http.get(base + "/customer").body.find("injected")
        == std::string::npos);
}

TEST_CASE("regular expressions run in linear time, whatever the pattern") {
  fixture f;
  f.create(std::string(12000, 'a'));
  f.create(std::string(30, 'a'));
  // Each of these once crashed the process or held a reader for minutes.
  CHECK(f.total("&name.regex=(a%7Cb)*") == 2);
  CHECK(f.total("&name.regex=(a%2B)%2Bb") == 0);
  auto r = f.http.get(base + "/customer?name.regex=a************b");
  CHECK(r.status == 400);
  CHECK(error_message(r).rfind("name.regex: invalid regular expression", 0)
        == 0);
  r = f.http.get(base + "/customer?name.regex=" + std::string(3000, '('));
  CHECK(r.status == 400);
  CHECK(error_message(r).find("max-regex-length") != std::string::npos);
  std::string alternatives;
  for (int i = 0; i < 5000; ++i)
    alternatives += "a" + std::to_string(i) + "%7C";
  r = f.http.get(base + "/customer?name.regex=" + alternatives);
  CHECK(r.status == 414);
  error_message(r);
  r = f.http.get(base + "/customer?name.regex=a%7B4444444444444444444444%7D");
  CHECK((r.status == 200 || r.status == 400));
  // Indexed lists were never blocked meanwhile.
  CHECK(f.total("&name=" + std::string(30, 'a')) == 1);
}

TEST_CASE("query caps answer 400 and request limits 414 and 431") {
  fixture f;
  std::string sort = "sort=";
  for (int i = 0; i < 9; ++i)
    sort += "k" + std::to_string(i) + ",";
  auto r = f.http.get(base + "/customer?" + sort);
  CHECK(r.status == 400);
  CHECK(error_message(r).find("max-sort-keys") != std::string::npos);
  std::string filters;
  for (int i = 0; i < 21; ++i)
    filters += "&a" + std::to_string(i) + "=1";
  r = f.http.get(base + "/customer?limit=1" + filters);
  CHECK(r.status == 400);
  CHECK(error_message(r).find("max-filters") != std::string::npos);
  std::string fields = "fields=";
  for (int i = 0; i < 65; ++i)
    fields += "f" + std::to_string(i) + ",";
  r = f.http.get(base + "/customer/00a-aaaaaaaaaaaaaaaaaaaaaaaaaa?" + fields);
  CHECK(r.status == 400);
  CHECK(error_message(r).find("max-fields") != std::string::npos);
  // 13,000 sort keys: refused before anything is parsed.
  std::string huge = "sort=";
  for (int i = 0; i < 13000; ++i)
    huge += "k" + std::to_string(i) + ",";
  r = f.http.get(base + "/customer?" + huge);
  CHECK(r.status == 414);
  CHECK(error_message(r).find("max-url-size") != std::string::npos);
  r = one_response(f, "GET " + base + "/customer HTTP/1.1\r\nHost: t\r\nX-Big: "
                        + std::string(9000, 'x') + "\r\n\r\n");
  CHECK(r.status == 431);
  CHECK(error_message(r).find("max-header-size") != std::string::npos);
  std::string many;
  for (int i = 0; i < 101; ++i)
    many += "X-H" + std::to_string(i) + ": v\r\n";
  r = one_response(f, "GET " + base + "/customer HTTP/1.1\r\n" + many
                        + "\r\n");
  CHECK(r.status == 431);
  CHECK(error_message(r).find("max-header-count") != std::string::npos);
}

TEST_CASE("malformed requests and unknown methods get a status and a TMF "
          "Error") {
  fixture f;
  auto r = one_response(f, "FOO " + base + "/customer HTTP/1.1\r\nHost: t"
                             "\r\n\r\n");
  CHECK(r.status == 501);
  error_message(r);
  r = one_response(f, "GET " + base + "/customer HTTP/1.1\r\nHost: t\r\n"
                        "No colon here\r\n\r\n");
  CHECK(r.status == 400);
  CHECK(error_message(r).find("not valid HTTP/1.1") != std::string::npos);
  r = one_response(f, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
                      "\r\n\r\n"); // a TLS client hello
  CHECK((r.status == 400 || r.status == 501));
  error_message(r);
  // A body over the limit is refused from its Content-Length, unread.
  r = one_response(f, "POST " + base + "/customer HTTP/1.1\r\nHost: t\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: 104857600\r\n\r\n{\"name\":");
  CHECK(r.status == 413);
  CHECK(error_message(r).find("104857600") != std::string::npos);
  CHECK(f.http.get(base + "/customer").status == 200);
}

TEST_CASE("pipelined requests each get their own response, in order") {
  fixture f;
  auto out = parse_responses(raw_exchange(
    f.svc.port(),
    request("POST", base + "/customer", "{not json")
      + request("POST", base + "/customer", sample_customer("Piped"))
      + request("GET", base + "/customer/nope")
      + request("GET", base + "/customer?name=Piped")));
  REQUIRE(out.size() == 4);
  CHECK(out[0].status == 400);
  CHECK(out[1].status == 201);
  CHECK(out[2].status == 404);
  CHECK(out[3].status == 200);
  CHECK(out[3].header("x-total-count") == "1");
  // Exactly one customer: the write was answered, not executed twice.
  CHECK(f.total() == 1);
}

TEST_CASE("a connection flood never stops the service from accepting") {
  // 300 descriptors: the service fits its connections below that limit
  // so that accepting never fails with EMFILE.
  fixture f({"--tmf.max-connections=1000"}, service_options{0, 300});
  CHECK(f.svc.log().find("does not fit the descriptor limit 300")
        != std::string::npos);
  std::vector<int> fds;
  for (int i = 0; i < 500; ++i) {
    auto fd = socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(f.svc.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd);
      break;
    }
    fds.push_back(fd);
  }
  CHECK(fds.size() > 300);
  // Let the service accept all it will, then count its descriptors.
  size_t open_fds = 0;
  for (int i = 0; i < 20; ++i) {
    usleep(100000);
    open_fds = descriptors(f.svc.pid());
  }
  CHECK(open_fds < 300);
  for (auto fd : fds)
    ::close(fd);
  http_client fresh{f.svc.port()};
  auto r = fresh.get(base + "/customer?limit=0");
  CHECK(r.status == 200);
}

TEST_CASE("partly received requests share a memory budget") {
  fixture f({"--tmf.max-body-size=1MiB", "--tmf.max-buffered-bytes=1536KiB"});
  auto partial = [&](size_t body) {
    return "POST " + base + "/customer HTTP/1.1\r\nHost: t\r\n"
           "Content-Type: application/json\r\nContent-Length: "
           + std::to_string(body) + "\r\n\r\n{\"name\":";
  };
  auto open_conn = [&](const std::string& bytes) {
    auto fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(f.svc.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
            == 0);
    REQUIRE(::send(fd, bytes.data(), bytes.size(), 0)
            == static_cast<ssize_t>(bytes.size()));
    return fd;
  };
  // The first holds 1 MiB (its Content-Length); the second would exceed.
  auto first = open_conn(partial(1 << 20));
  usleep(200000);
  auto r = one_response(f, partial(1 << 20));
  CHECK(r.status == 503);
  CHECK(r.header("retry-after") == "1");
  CHECK(error_message(r).find("max-buffered-bytes") != std::string::npos);
  ::close(first);
  usleep(200000);
  // Closing the first gave its share back.
  CHECK(f.http.post_json(base + "/customer", sample_customer("After"))
          .status
        == 201);
}

namespace {

/// A function making the name index key of a name and a customer id, in
/// the generation the service gave that index in `env`.
std::function<std::string(const std::string&, const std::string&)>
name_index_key(tmf::persistence::environment& env) {
  auto marker = env.read().get(tmf::persistence::table::meta,
                               tmf::domain::index_marker_key("name"));
  REQUIRE(marker.st == tmf::persistence::status::ok);
  auto m = tmf::domain::parse_marker(marker.rec.json);
  REQUIRE(m);
  tmf::domain::index_spec spec{"name", m->generation, {}};
  return [spec](const std::string& name, const std::string& id) {
    auto terms = tmf::domain::index_layout::terms(spec, json{{"name", name}});
    return tmf::domain::index_key(terms.at(0), id);
  };
}

/// Bytes as verify prints them: printable, '?' for the others, cut at 64.
std::string shown(const std::string& bytes) {
  std::string out;
  for (auto c : bytes.substr(0, 64))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return bytes.size() > 64 ? out + "..." : out;
}

} // namespace

TEST_CASE("verify reports a sound data folder, then every planted fault") {
  temp_dir dir;
  auto data = dir.path() + "/data";
  std::vector<std::string> ids;
  {
    service svc{data};
    http_client http{svc.port()};
    for (auto name : {"A", "B", "C"}) {
      auto r = http.post_json(base + "/customer", sample_customer(name));
      REQUIRE(r.status == 201);
      ids.push_back(json::parse(r.body)["id"]);
    }
    REQUIRE(svc.stop(SIGTERM) != -1);
  }
  std::string out;
  std::function<std::string(const std::string&, const std::string&)> name_key;
  auto config = "--config-file=" TMF_SOURCE_DIR "/config/test.ini";
  CHECK(run_tmf629d({"verify", config, "--tmf.data-dir=" + data}, out) == 0);
  // Each sample has a name, a status, an engagedParty.id and a
  // validFor.startDateTime: four entries in the built-in indexes.
  CHECK(out.find("3 customer(s), 12 index entries, 0 problem(s)")
        != std::string::npos);
  // Faults an older build, a bug or a disk could leave behind.
  auto deep = R"({"id":"00b-deep","name":"Deep","v":)" + nested(5000) + "}";
  {
    std::string error;
    auto env = tmf::persistence::environment::open({data, 64ull << 20, 126},
                                                   error);
    REQUIRE(env);
    using op = tmf::persistence::write_op;
    auto customers = tmf::persistence::table::customers;
    auto index = tmf::persistence::table::customer_index;
    name_key = name_index_key(*env);
    std::vector<op> ops{
      {op::insert, customers, "00a-broken", "{oops", 0},
      {op::insert, customers, "00a-notfirst", R"({"name":"N","id":"x"})", 0},
      {op::insert, customers, "00b-deep", deep, 0},
      {op::discard, index, name_key("A", ids[0]), {}, 0},
      {op::put, index, name_key("Ghost", "00a-ghost"), {}, 0},
    };
    std::vector<tmf::persistence::write_result> results;
    REQUIRE(env->apply(ops, results, error) == tmf::persistence::status::ok);
  }
  CHECK(run_tmf629d({"verify", config, "--tmf.data-dir=" + data}, out) == 2);
  CHECK(out.find("customer 00a-broken: the stored text is not valid JSON")
        != std::string::npos);
  CHECK(out.find("customer 00a-notfirst: the stored text does not start "
                 "with its id")
        != std::string::npos);
  CHECK(out.find("customer 00b-deep: the stored text nests deeper than 256")
        != std::string::npos);
  CHECK(out.find(shown(name_key("Ghost", "00a-ghost"))
                 + " names no customer row")
        != std::string::npos);
  CHECK(out.find(shown(name_key("A", ids[0])) + " is missing")
        != std::string::npos);
  CHECK(out.find(shown(name_key("Deep", "00b-deep")) + " is missing")
        != std::string::npos);
  // The planted entries bypassed the counts: both disagree now.
  auto term_of = [](const std::string& key) {
    return std::string{tmf::domain::index_key_term(key)};
  };
  CHECK(out.find("index count " + shown(term_of(name_key("A", ids[0])))
                 + " says 1, the index holds 0 entries")
        != std::string::npos);
  CHECK(out.find("index count "
                 + shown(term_of(name_key("Ghost", "00a-ghost")))
                 + " is missing (the index holds 1 entry)")
        != std::string::npos);
  // The service still serves such a store, and never crashes on it.
  service svc{data};
  http_client http{svc.port()};
  CHECK(http.get(base + "/customer?v=1").status == 200);
  CHECK(http.get(base + "/customer?sort=v").status == 200);
  CHECK(http.get(base + "/customer?fields=v").status == 200);
  CHECK(http.get(base + "/customer?name.regex=D.*").status == 200);
}
