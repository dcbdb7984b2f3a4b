// The HTTPS listener of the real tmf629d with a self-signed certificate
// made at test time: a verified handshake and requests, TLS 1.1 refused,
// and the certificate reloaded on SIGHUP.

#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "support/service.hpp"

using namespace tmf::test;

namespace {

const std::string base = service::base_path();

/// Writes a self-signed certificate for 127.0.0.1 with common name `cn`
/// and its key (EC P-256) to `cert_file` and `key_file`.
void make_self_signed(const std::string& cn, const std::string& cert_file,
                      const std::string& key_file) {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  REQUIRE(key != nullptr);
  X509* cert = X509_new();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert),
                   static_cast<long>(std::time(nullptr)));
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  auto* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(
    name, "CN", MBSTRING_ASC,
    reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509V3_CTX v3;
  X509V3_set_ctx(&v3, cert, cert, nullptr, nullptr, 0);
  auto* san = X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name,
                                  "IP:127.0.0.1");
  REQUIRE(san != nullptr);
  X509_add_ext(cert, san, -1);
  X509_EXTENSION_free(san);
  REQUIRE(X509_sign(cert, key, EVP_sha256()) > 0);
  auto* out = BIO_new_file(cert_file.c_str(), "w");
  PEM_write_bio_X509(out, cert);
  BIO_free(out);
  out = BIO_new_file(key_file.c_str(), "w");
  PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  BIO_free(out);
  X509_free(cert);
  EVP_PKEY_free(key);
}

/// What one HTTPS exchange gave: the handshake's outcome and the answer.
struct tls_outcome {
  bool handshake = false;
  std::string version; ///< "TLSv1.3", ...
  std::string peer_cn;
  std::string response; ///< the raw HTTP response
};

/// Connects to 127.0.0.1:port, verifies the server against `ca_file` (and
/// the IP 127.0.0.1), sends `request` and reads until the server closes
/// (bounded by 5 s). `max_version` limits the client (0: any).
tls_outcome tls_request(uint16_t port, const std::string& ca_file,
                        const std::string& request, int max_version = 0) {
  tls_outcome out;
  auto* ctx = SSL_CTX_new(TLS_client_method());
  REQUIRE(ctx != nullptr);
  if (max_version != 0) {
    SSL_CTX_set_security_level(ctx, 0); // let the client offer old TLS
    SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx, max_version);
  }
  REQUIRE(SSL_CTX_load_verify_locations(ctx, ca_file.c_str(), nullptr) == 1);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
          == 0);
  auto* ssl = SSL_new(ctx);
  SSL_set_fd(ssl, fd);
  X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1");
  if (SSL_connect(ssl) == 1 && SSL_get_verify_result(ssl) == X509_V_OK) {
    out.handshake = true;
    out.version = SSL_get_version(ssl);
    if (auto* peer = SSL_get1_peer_certificate(ssl)) {
      char cn[256] = {0};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName,
                                cn, sizeof(cn));
      out.peer_cn = cn;
      X509_free(peer);
    }
    SSL_write(ssl, request.data(), static_cast<int>(request.size()));
    char buf[4096];
    int n = 0;
    while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
      out.response.append(buf, static_cast<size_t>(n));
  }
  ERR_clear_error();
  SSL_free(ssl);
  ::close(fd);
  SSL_CTX_free(ctx);
  return out;
}

std::string get_request(const std::string& target) {
  return "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
         "Connection: close\r\n\r\n";
}

} // namespace

TEST_CASE("HTTPS with a self-signed certificate: handshake, requests, TLS "
          "1.1 refused, certificate reloaded on SIGHUP") {
  temp_dir dir;
  auto cert = dir.path() + "/cert.pem";
  auto key = dir.path() + "/key.pem";
  make_self_signed("first", cert, key);
  service svc{dir.path() + "/data",
              {"--tmf.tls=on", "--tmf.tls-port=0", "--tmf.tls-cert-file=" + cert,
               "--tmf.tls-key-file=" + key, "--tmf.log-level=info"}};
  REQUIRE(svc.tls_port() != 0);
  REQUIRE(svc.tls_port() != svc.port());
  auto r = tls_request(svc.tls_port(), cert, get_request("/health/live"));
  REQUIRE(r.handshake);
  CHECK((r.version == "TLSv1.3" || r.version == "TLSv1.2"));
  CHECK(r.peer_cn == "first");
  CHECK(r.response.rfind("HTTP/1.1 200", 0) == 0);
  auto body = sample_customer("Over TLS");
  r = tls_request(svc.tls_port(), cert,
                  "POST " + base + "/customer HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    "Content-Type: application/json\r\nContent-Length: "
                    + std::to_string(body.size())
                    + "\r\nConnection: close\r\n\r\n" + body);
  CHECK(r.response.rfind("HTTP/1.1 201", 0) == 0);
  // The plain listener serves the same data.
  http_client http{svc.port()};
  CHECK(http.get(base + "/customer?name=Over%20TLS").header("x-total-count")
        == "1");
  // Clients that cannot speak TLS 1.2 are refused.
  auto old = tls_request(svc.tls_port(), cert, get_request("/health/live"),
                         TLS1_1_VERSION);
  CHECK_FALSE(old.handshake);
  // A new certificate is taken by new handshakes after SIGHUP.
  make_self_signed("second", cert, key);
  CHECK(tls_request(svc.tls_port(), cert, get_request("/health/live")).handshake
        == false); // the client now trusts only the new one
  kill(svc.pid(), SIGHUP);
  tls_outcome again;
  for (int i = 0; i < 50 && again.peer_cn != "second"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    again = tls_request(svc.tls_port(), cert, get_request("/health/ready"));
  }
  CHECK(again.peer_cn == "second");
  CHECK(again.response.rfind("HTTP/1.1 200", 0) == 0);
  // A broken pair is refused and the current one stays.
  {
    std::ofstream broken{key};
    broken << "not a key\n";
  }
  kill(svc.pid(), SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto kept = tls_request(svc.tls_port(), cert, get_request("/health/live"));
  CHECK(kept.peer_cn == "second");
  auto status = svc.stop(SIGTERM);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  auto log = svc.log();
  CHECK(log.find("reloaded the TLS certificate") != std::string::npos);
  CHECK(log.find("stay as they were") != std::string::npos);
}

TEST_CASE("tls=on without usable files stops start-up with one line") {
  temp_dir dir;
  std::string out;
  CHECK(run_tmf629d({"--tmf.data-dir=" + dir.path() + "/d", "--tmf.tls=on"},
                    out)
        == 1);
  CHECK(out.find("tmf.tls: on needs") != std::string::npos);
  auto cert = dir.path() + "/cert.pem";
  auto key = dir.path() + "/key.pem";
  make_self_signed("a", cert, key);
  auto other_cert = dir.path() + "/other.pem";
  auto other_key = dir.path() + "/other.key";
  make_self_signed("b", other_cert, other_key);
  out.clear();
  CHECK(run_tmf629d({"--tmf.data-dir=" + dir.path() + "/d", "--tmf.tls=on",
                     "--tmf.tls-port=0", "--tmf.tls-cert-file=" + cert,
                     "--tmf.tls-key-file=" + other_key},
                    out)
        == 1);
  CHECK(out.find("is not the key of") != std::string::npos);
}
