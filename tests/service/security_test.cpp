// Authentication, authorization and rate limits of the real tmf629d: API
// keys, JWT bearer tokens (HS256, RS256, ES256, JWKS) with their claims
// checked, 401/403/429 with their headers and TMF Error bodies, and no
// credential in the log.

#include <catch2/catch.hpp>

#include <atomic>
#include <ctime>
#include <fstream>
#include <thread>

#include <signal.h>

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

#include "support/service.hpp"

using json = nlohmann::json;
using namespace tmf::test;

namespace {

const std::string base = service::base_path();
const std::string reader_key = "reader-key-0123456789abcdef";
const std::string writer_key = "writer-key-fedcba9876543210";
const std::string secret = "an-hs256-secret-of-at-least-32-bytes!!";

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary};
  out << text;
}

std::string sha256_hex(const std::string& text) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (auto c : d) {
    out += hex[c >> 4];
    out += hex[c & 0xf];
  }
  return out;
}

std::string base64url(const std::string& bytes) {
  static constexpr char abc[]
    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (auto c : bytes) {
    acc = acc << 8 | static_cast<unsigned char>(c);
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += abc[(acc >> bits) & 0x3f];
    }
  }
  if (bits > 0)
    out += abc[(acc << (6 - bits)) & 0x3f];
  return out;
}

/// A signed JWT with `claims` (and `kid` in its header when not empty).
std::string sign(jwt_alg_t alg, const std::string& key, const json& claims,
                 const std::string& kid = {}) {
  jwt_t* jwt = nullptr;
  REQUIRE(jwt_new(&jwt) == 0);
  REQUIRE(jwt_add_grants_json(jwt, claims.dump().c_str()) == 0);
  if (!kid.empty())
    REQUIRE(jwt_add_header(jwt, "kid", kid.c_str()) == 0);
  REQUIRE(jwt_set_alg(jwt, alg,
                      reinterpret_cast<const unsigned char*>(key.data()),
                      static_cast<int>(key.size()))
          == 0);
  auto* text = jwt_encode_str(jwt);
  REQUIRE(text != nullptr);
  std::string token{text};
  free(text);
  jwt_free(jwt);
  return token;
}

/// A key pair made at test time: PEM private key, PEM public key, JWK.
struct key_pair {
  std::string private_pem;
  std::string public_pem;
  json jwk;
};

std::string pem_of(EVP_PKEY* key, bool is_private) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (is_private)
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  else
    PEM_write_bio_PUBKEY(bio, key);
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(len));
  BIO_free(bio);
  return out;
}

std::string bn_bytes(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, name, &bn);
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(out.data()));
  BN_free(bn);
  return out;
}

key_pair rsa_pair(const std::string& kid) {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  REQUIRE(key != nullptr);
  key_pair kp{pem_of(key, true), pem_of(key, false),
              {{"kty", "RSA"},
               {"kid", kid},
               {"use", "sig"},
               {"n", base64url(bn_bytes(key, OSSL_PKEY_PARAM_RSA_N))},
               {"e", base64url(bn_bytes(key, OSSL_PKEY_PARAM_RSA_E))}}};
  EVP_PKEY_free(key);
  return kp;
}

key_pair ec_pair(const std::string& kid) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  unsigned char point[65];
  size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point,
                                  sizeof(point), &len);
  REQUIRE(len == 65);
  std::string raw(reinterpret_cast<char*>(point), len);
  key_pair kp{pem_of(key, true), pem_of(key, false),
              {{"kty", "EC"},
               {"kid", kid},
               {"crv", "P-256"},
               {"x", base64url(raw.substr(1, 32))},
               {"y", base64url(raw.substr(33, 32))}}};
  EVP_PKEY_free(key);
  return kp;
}

long now() {
  return static_cast<long>(std::time(nullptr));
}

json claims(const std::string& scope, long exp_in = 300) {
  return json{{"sub", "user-1"},
              {"iss", "https://idp.test"},
              {"aud", "tmf629"},
              {"exp", now() + exp_in},
              {"scope", scope}};
}

response get_with(http_client& http, const std::string& target,
                  const std::map<std::string, std::string>& headers) {
  return http.request("GET", target, {}, headers);
}

std::map<std::string, std::string> bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

/// Checks a TMF Error body with `status`.
void check_error(const response& r, int status) {
  CHECK(r.status == status);
  auto body = json::parse(r.body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["@type"] == "Error");
  CHECK(body["code"] == std::to_string(status));
}

} // namespace

TEST_CASE("API keys: 401 without or with a wrong key, 403 without the "
          "scope, served with it, health and metrics stay open") {
  temp_dir dir;
  auto keys = dir.path() + "/keys";
  write_file(keys, "# name scopes key\nreader customer.read " + reader_key
                     + "\nwriter customer.read,customer.write sha256:"
                     + sha256_hex(writer_key) + "\n");
  service svc{dir.path() + "/data",
              {"--tmf.auth=on", "--tmf.auth-api-keys-file=" + keys,
               "--tmf.log-level=debug", "--tmf.request-log-level=info"}};
  http_client http{svc.port()};
  auto r = http.get(base + "/customer");
  check_error(r, 401);
  CHECK(r.header("www-authenticate") == R"(Bearer realm="tmf629d")");
  check_error(http.get(base + "/nowhere"), 401);
  r = get_with(http, base + "/customer", {{"X-API-Key", "not-a-key-at-all"}});
  check_error(r, 401);
  CHECK(r.header("www-authenticate").find(R"(error="invalid_token")")
        != std::string::npos);
  CHECK(get_with(http, base + "/customer", {{"X-API-Key", reader_key}}).status
        == 200);
  CHECK(get_with(http, base + "/customer", bearer(reader_key)).status == 200);
  r = http.request("POST", base + "/customer", sample_customer("Keyed"),
                   {{"Content-Type", "application/json"},
                    {"X-API-Key", reader_key}});
  check_error(r, 403);
  CHECK(r.header("www-authenticate")
        == R"(Bearer realm="tmf629d", error="insufficient_scope", )"
           R"(scope="customer.write")");
  check_error(get_with(http, base + "/hub", {{"X-API-Key", reader_key}}), 403);
  r = http.request("POST", base + "/customer", sample_customer("Keyed"),
                   {{"Content-Type", "application/json"},
                    {"Authorization", "Bearer " + writer_key}});
  CHECK(r.status == 201);
  CHECK(get_with(http, base + "/hub", {{"X-API-Key", writer_key}}).status
        == 200);
  CHECK(http.get("/health/live").status == 200);
  CHECK(http.get("/health/ready").status == 200);
  CHECK(http.get("/metrics").status == 200);
  REQUIRE(svc.stop(SIGTERM) != -1);
  auto log = svc.log();
  CHECK(log.find(" 401 ") != std::string::npos);
  CHECK(log.find(reader_key) == std::string::npos);
  CHECK(log.find(writer_key) == std::string::npos);
}

TEST_CASE("metrics-auth=on puts /metrics behind the read scope") {
  temp_dir dir;
  auto keys = dir.path() + "/keys";
  write_file(keys, "reader customer.read " + reader_key + "\n");
  service svc{dir.path() + "/data",
              {"--tmf.auth=on", "--tmf.auth-api-keys-file=" + keys,
               "--tmf.metrics-auth=on"}};
  http_client http{svc.port()};
  check_error(http.get("/metrics"), 401);
  CHECK(get_with(http, "/metrics", {{"X-API-Key", reader_key}}).status == 200);
  CHECK(http.get("/health/ready").status == 200);
}

TEST_CASE("JWT HS256: signature, exp, nbf, iss, aud, leeway and scopes") {
  temp_dir dir;
  auto secret_file = dir.path() + "/secret";
  write_file(secret_file, secret + "\n");
  service svc{dir.path() + "/data",
              {"--tmf.auth=on", "--tmf.auth-jwt-secret-file=" + secret_file,
               "--tmf.auth-jwt-issuer=https://idp.test",
               "--tmf.auth-jwt-audience=tmf629",
               "--tmf.log-level=debug", "--tmf.request-log-level=info"}};
  http_client http{svc.port()};
  auto status_of = [&](const json& c, const std::string& key = secret) {
    return get_with(http, base + "/customer",
                    bearer(sign(JWT_ALG_HS256, key, c)))
      .status;
  };
  auto read = claims("customer.read");
  CHECK(status_of(read) == 200);
  auto c = claims("customer.read", -10); // expired, within the leeway
  CHECK(status_of(c) == 200);
  c = claims("customer.read", -120);
  auto expired = get_with(http, base + "/customer",
                          bearer(sign(JWT_ALG_HS256, secret, c)));
  check_error(expired, 401);
  CHECK(json::parse(expired.body)["message"] == "the token has expired");
  c = read;
  c["nbf"] = now() + 120;
  CHECK(status_of(c) == 401);
  c["nbf"] = now() + 10;
  CHECK(status_of(c) == 200);
  c = read;
  c["iss"] = "https://other.test";
  CHECK(status_of(c) == 401);
  c = read;
  c["aud"] = json::array({"billing", "tmf629"});
  CHECK(status_of(c) == 200);
  c["aud"] = "billing";
  CHECK(status_of(c) == 401);
  c = read;
  c.erase("exp");
  CHECK(status_of(c) == 401);
  CHECK(status_of(read, std::string(40, 'x')) == 401); // another secret
  // alg "none" and a forged signature are refused.
  auto none = base64url(R"({"alg":"none","typ":"JWT"})") + "."
              + base64url(read.dump()) + ".";
  check_error(get_with(http, base + "/customer", bearer(none)), 401);
  auto good = sign(JWT_ALG_HS256, secret, read);
  auto forged = good.substr(0, good.rfind('.') + 1) + base64url("forged");
  CHECK(get_with(http, base + "/customer", bearer(forged)).status == 401);
  // Scopes: `scope` read only cannot write; `scp` with write can.
  auto post = [&](const json& cl) {
    return http
      .request("POST", base + "/customer", sample_customer("Token"),
               {{"Content-Type", "application/json"},
                {"Authorization",
                 "Bearer " + sign(JWT_ALG_HS256, secret, cl)}})
      .status;
  };
  CHECK(post(read) == 403);
  c = read;
  c.erase("scope");
  c["scp"] = json::array({"customer.read", "customer.write"});
  CHECK(post(c) == 201);
  REQUIRE(svc.stop(SIGTERM) != -1);
  auto log = svc.log();
  CHECK(log.find(good) == std::string::npos);
  CHECK(log.find(good.substr(0, good.find('.'))) == std::string::npos);
  CHECK(log.find(secret) == std::string::npos);
}

TEST_CASE("JWT RS256 and ES256 public keys and a JWKS chosen by kid") {
  temp_dir dir;
  auto rsa = rsa_pair("r1");
  auto ec = ec_pair("e1");
  auto rsa_file = dir.path() + "/rsa.pem";
  write_file(rsa_file, rsa.public_pem);
  auto read = claims("customer.read");
  {
    service svc{dir.path() + "/data1",
                {"--tmf.auth=on", "--tmf.auth-jwt-public-key-file=" + rsa_file}};
    http_client http{svc.port()};
    CHECK(get_with(http, base + "/customer",
                   bearer(sign(JWT_ALG_RS256, rsa.private_pem, read)))
            .status
          == 200);
    // The public key used as an HMAC secret (algorithm confusion).
    CHECK(get_with(http, base + "/customer",
                   bearer(sign(JWT_ALG_HS256, rsa.public_pem, read)))
            .status
          == 401);
    // An ES256 token where only an RSA key is configured.
    CHECK(get_with(http, base + "/customer",
                   bearer(sign(JWT_ALG_ES256, ec.private_pem, read)))
            .status
          == 401);
  }
  auto jwks = dir.path() + "/jwks.json";
  write_file(jwks, json{{"keys", json::array({rsa.jwk, ec.jwk})}}.dump());
  service svc{dir.path() + "/data2",
              {"--tmf.auth=on", "--tmf.auth-jwt-jwks-file=" + jwks}};
  http_client http{svc.port()};
  CHECK(get_with(http, base + "/customer",
                 bearer(sign(JWT_ALG_RS256, rsa.private_pem, read, "r1")))
          .status
        == 200);
  CHECK(get_with(http, base + "/customer",
                 bearer(sign(JWT_ALG_ES256, ec.private_pem, read, "e1")))
          .status
        == 200);
  CHECK(get_with(http, base + "/customer",
                 bearer(sign(JWT_ALG_ES256, ec.private_pem, read, "r1")))
          .status
        == 401);
  CHECK(get_with(http, base + "/customer",
                 bearer(sign(JWT_ALG_RS256, rsa.private_pem, read, "zz")))
          .status
        == 401);
}

TEST_CASE("bad authentication settings stop start-up with one line") {
  temp_dir dir;
  std::string out;
  CHECK(run_tmf629d({"--tmf.data-dir=" + dir.path() + "/d", "--tmf.auth=on"},
                    out)
        == 1);
  CHECK(out.find("tmf.auth: on, but no") != std::string::npos);
  auto keys = dir.path() + "/keys";
  write_file(keys, "short customer.read abc\n");
  out.clear();
  CHECK(run_tmf629d({"--tmf.data-dir=" + dir.path() + "/d", "--tmf.auth=on",
                     "--tmf.auth-api-keys-file=" + keys},
                    out)
        == 1);
  CHECK(out.find("at least 16 characters") != std::string::npos);
  CHECK(out.find("abc") == std::string::npos);
}

TEST_CASE("a client over its rate gets 429 while another is not slowed") {
  temp_dir dir;
  auto keys = dir.path() + "/keys";
  write_file(keys, "noisy customer.read " + reader_key + "\nquiet "
                     "customer.read " + writer_key + "\n");
  service svc{dir.path() + "/data",
              {"--tmf.auth=on", "--tmf.auth-api-keys-file=" + keys,
               "--tmf.rate-limit=20", "--tmf.rate-limit-burst=20"}};
  std::atomic<bool> done{false};
  std::atomic<int> noisy_ok{0};
  std::atomic<int> noisy_limited{0};
  std::string retry_after;
  std::string limited_body;
  std::thread noisy{[&] {
    http_client http{svc.port()};
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
      auto r = get_with(http, base + "/customer", {{"X-API-Key", reader_key}});
      if (r.status == 200) {
        ++noisy_ok;
      } else if (r.status == 429) {
        if (noisy_limited++ == 0) {
          retry_after = r.header("retry-after");
          limited_body = r.body;
        }
      }
    }
    done = true;
  }};
  http_client quiet{svc.port()};
  int quiet_ok = 0;
  auto slowest = std::chrono::steady_clock::duration::zero();
  for (int i = 0; i < 15; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    auto r = get_with(quiet, base + "/customer", {{"X-API-Key", writer_key}});
    slowest = std::max(slowest, std::chrono::steady_clock::now() - t0);
    quiet_ok += r.status == 200;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  noisy.join();
  CHECK(quiet_ok == 15);
  CHECK(slowest < std::chrono::milliseconds(500));
  CHECK(noisy_limited > 0);
  // 20 at once, then 20 per second for about two seconds.
  CHECK(noisy_ok >= 20);
  CHECK(noisy_ok <= 20 + 2 * 20 + 10);
  CHECK(retry_after == "1");
  auto body = json::parse(limited_body, nullptr, false);
  REQUIRE(body.is_object());
  CHECK(body["code"] == "429");
  CHECK(body["@type"] == "Error");
}

TEST_CASE("without authentication the rate limit is per address") {
  temp_dir dir;
  service svc{dir.path() + "/data",
              {"--tmf.rate-limit=1", "--tmf.rate-limit-burst=5"}};
  http_client http{svc.port()};
  for (int i = 0; i < 5; ++i)
    CHECK(http.get(base + "/customer").status == 200);
  auto r = http.get(base + "/customer");
  check_error(r, 429);
  CHECK(r.header("retry-after") == "1");
  CHECK(http.get("/health/ready").status == 200); // not limited
  // Refusals are counted under the route they were meant for.
  auto metrics = http.get("/metrics").body;
  CHECK(metrics.find("\n" R"(tmf_http_requests_total{method="GET",route="/customer",status="429"} 1)" "\n")
        != std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(http.get(base + "/customer").status == 200);
}

TEST_CASE("a token verified before still expires on time") {
  temp_dir dir;
  auto secret_file = dir.path() + "/secret";
  write_file(secret_file, secret);
  service svc{dir.path() + "/data",
              {"--tmf.auth=on", "--tmf.auth-jwt-secret-file=" + secret_file,
               "--tmf.auth-jwt-leeway=0s"}};
  http_client http{svc.port()};
  auto token = sign(JWT_ALG_HS256, secret, claims("customer.read", 2));
  CHECK(get_with(http, base + "/customer", bearer(token)).status == 200);
  CHECK(get_with(http, base + "/customer", bearer(token)).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(3100));
  auto r = get_with(http, base + "/customer", bearer(token));
  check_error(r, 401);
  CHECK(json::parse(r.body)["message"] == "the token has expired");
}
