#include "http/tls.hpp"

#include <atomic>
#include <future>
#include <mutex>
#include <stdexcept>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <restinio/all.hpp>
#include <restinio/tls.hpp>

#include "http/context.hpp"
#include "http/routes.hpp"

namespace tmf::http {

namespace {

/// RESTinio's TLS traits (an asio strand per connection, so any number of
/// I/O threads) with a cap on parallel connections.
struct tls_traits : restinio::default_tls_traits_t {
  static constexpr bool use_connection_count_limiter = true;
};

/// A certificate chain and its private key, as OpenSSL objects.
struct cert_pair {
  X509* cert = nullptr;
  STACK_OF(X509)* chain = nullptr;
  EVP_PKEY* key = nullptr;

  cert_pair() = default;
  cert_pair(const cert_pair&) = delete;
  cert_pair& operator=(const cert_pair&) = delete;

  ~cert_pair() {
    X509_free(cert);
    sk_X509_pop_free(chain, X509_free);
    EVP_PKEY_free(key);
  }
};

std::string openssl_error() {
  auto code = ERR_get_error();
  ERR_clear_error();
  if (code == 0)
    return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

/// Reads the PEM chain (leaf first) and key; throws naming the file.
std::shared_ptr<cert_pair> load_pair(const std::string& cert_file,
                                     const std::string& key_file) {
  auto pair = std::make_shared<cert_pair>();
  std::unique_ptr<BIO, decltype(&BIO_free)> certs{
    BIO_new_file(cert_file.c_str(), "r"), BIO_free};
  if (!certs)
    throw std::runtime_error("cannot read " + cert_file);
  pair->cert = PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr);
  if (pair->cert == nullptr)
    throw std::runtime_error(cert_file + ": no PEM certificate: "
                             + openssl_error());
  pair->chain = sk_X509_new_null();
  while (auto* extra = PEM_read_bio_X509(certs.get(), nullptr, nullptr,
                                         nullptr))
    sk_X509_push(pair->chain, extra);
  ERR_clear_error(); // the end of the file
  std::unique_ptr<BIO, decltype(&BIO_free)> key{
    BIO_new_file(key_file.c_str(), "r"), BIO_free};
  if (!key)
    throw std::runtime_error("cannot read " + key_file);
  pair->key = PEM_read_bio_PrivateKey(key.get(), nullptr, nullptr, nullptr);
  if (pair->key == nullptr)
    throw std::runtime_error(key_file + ": no PEM private key: "
                             + openssl_error());
  if (X509_check_private_key(pair->cert, pair->key) != 1)
    throw std::runtime_error(key_file + " is not the key of " + cert_file);
  return pair;
}

std::string bracketed(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]"
                                                 : address;
}

} // namespace

struct tls_listener::impl {
  tls_settings cfg;
  std::mutex mtx;
  std::shared_ptr<cert_pair> current; ///< guarded by mtx
  std::shared_ptr<std::atomic<uint16_t>> bound
    = std::make_shared<std::atomic<uint16_t>>(0);
  std::unique_ptr<restinio::http_server_t<tls_traits>> server;
  bool stopped = false;

  std::shared_ptr<cert_pair> pair() {
    std::lock_guard<std::mutex> guard{mtx};
    return current;
  }

  /// OpenSSL's certificate callback: every handshake takes the current
  /// pair.
  static int select_cert(SSL* ssl, void* arg) {
    auto* self = static_cast<impl*>(arg);
    auto p = self->pair();
    if (!p)
      return 0;
    return SSL_use_cert_and_key(ssl, p->cert, p->key, p->chain, 1);
  }
};

tls_listener::tls_listener(std::shared_ptr<context> ctx,
                           restinio::asio_ns::io_context& io,
                           tls_settings cfg)
  : impl_(std::make_unique<impl>()) {
  auto& st = *impl_;
  st.cfg = std::move(cfg);
  st.current = load_pair(st.cfg.cert_file, st.cfg.key_file);
  namespace asio = restinio::asio_ns;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  tls.set_options(asio::ssl::context::default_workarounds
                  | asio::ssl::context::no_sslv2
                  | asio::ssl::context::no_sslv3
                  | asio::ssl::context::no_tlsv1
                  | asio::ssl::context::no_tlsv1_1
                  | asio::ssl::context::single_dh_use);
  auto* native = tls.native_handle();
  SSL_CTX_set_min_proto_version(native, st.cfg.tls13_only ? TLS1_3_VERSION
                                                          : TLS1_2_VERSION);
  SSL_CTX_set_cert_cb(native, &impl::select_cert, &st);
  const auto& s = ctx->cfg;
  auto handler_ctx = ctx;
  auto bound = st.bound;
  auto settings
    = restinio::server_settings_t<tls_traits>{}
        .address(st.cfg.address)
        .port(st.cfg.port)
        .protocol(st.cfg.address.find(':') != std::string::npos
                    ? asio::ip::tcp::v6()
                    : asio::ip::tcp::v4())
        .request_handler([handler_ctx](restinio::request_handle_t req) {
          return route(handler_ctx, std::move(req));
        })
        .handle_request_timeout(
          std::chrono::duration_cast<std::chrono::milliseconds>(
            s.request_timeout)
          + std::chrono::seconds(2))
        .read_next_http_message_timelimit(std::chrono::seconds(60))
        .write_http_response_timelimit(std::chrono::seconds(10))
        .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                    .max_url_size(s.max_url_size)
                                    .max_field_name_size(s.max_header_size)
                                    .max_field_value_size(s.max_header_size)
                                    .max_field_count(s.max_header_count)
                                    .max_body_size(s.max_body_size))
        .max_parallel_connections(s.max_connections)
        .acceptor_post_bind_hook([bound](asio::ip::tcp::acceptor& a) {
          bound->store(a.local_endpoint().port());
        })
        .tls_context(std::move(tls));
  st.server = std::make_unique<restinio::http_server_t<tls_traits>>(
    restinio::external_io_context(io), std::move(settings));
  try {
    // The I/O threads do not run yet: opening here is not concurrent
    // with anything.
    st.server->open_sync();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen for HTTPS on "
                             + bracketed(st.cfg.address) + ":"
                             + std::to_string(st.cfg.port) + ": " + e.what());
  }
}

tls_listener::~tls_listener() {
  // nop (the server closes in its destructor if still open)
}

uint16_t tls_listener::port() const noexcept {
  return impl_->bound->load();
}

bool tls_listener::reload(std::string& error) {
  auto& st = *impl_;
  try {
    auto fresh = load_pair(st.cfg.cert_file, st.cfg.key_file);
    std::lock_guard<std::mutex> guard{st.mtx};
    st.current = std::move(fresh);
    return true;
  } catch (const std::exception& e) {
    error = e.what();
    return false;
  }
}

void tls_listener::stop() {
  auto& st = *impl_;
  if (st.stopped)
    return;
  st.stopped = true;
  auto closed = std::make_shared<std::promise<void>>();
  auto done = closed->get_future();
  st.server->close_async([closed] { closed->set_value(); },
                         [closed](std::exception_ptr) { closed->set_value(); });
  done.wait_for(std::chrono::seconds(5));
}

} // namespace tmf::http
