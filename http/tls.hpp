#pragma once

// The optional HTTPS listener (tls=on): RESTinio's TLS socket over asio and
// OpenSSL on the I/O threads of the plain listener, the same routes, limits
// and handlers. TLS 1.2 or newer (tls-min-version), the certificate chain
// and key read from PEM files and read again by `reload` (SIGHUP): a new
// handshake takes the current pair (OpenSSL's certificate callback), a
// handshake under way keeps the one it began with, and a pair that fails
// to load leaves the previous one in place.
//
// What differs from plain HTTP: the plain listener's socket
// (http/guarded_socket.hpp) answers malformed or oversized requests with a
// status before closing and charges partly received requests to the shared
// max-buffered-bytes budget; RESTinio's TLS socket is a different type, so
// under TLS RESTinio's own limits (max-body-size, max-url-size,
// max-header-size, max-header-count, max-connections) refuse such
// requests by closing the connection without a status, and the shared
// budget does not cover TLS connections.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <restinio/asio_include.hpp>

namespace tmf::http {

struct context;

struct tls_settings {
  std::string address;
  uint16_t port = 8443; ///< 0: any free port
  std::string cert_file; ///< PEM chain: leaf first
  std::string key_file;  ///< PEM private key of the leaf
  bool tls13_only = false;
};

class tls_listener {
public:
  /// Loads the certificate and key and listens on the I/O threads of `io`
  /// (which must not run yet); throws std::runtime_error with one line.
  tls_listener(std::shared_ptr<context> ctx, restinio::asio_ns::io_context& io,
               tls_settings cfg);
  ~tls_listener();

  tls_listener(const tls_listener&) = delete;
  tls_listener& operator=(const tls_listener&) = delete;

  /// The port bound.
  uint16_t port() const noexcept;

  /// Reads the certificate and key files again; on failure keeps the
  /// current pair and returns false with `error` set.
  bool reload(std::string& error);

  /// Closes the listener (blocks until the I/O thread did).
  void stop();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace tmf::http
