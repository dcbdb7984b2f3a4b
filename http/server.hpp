#pragma once

// The HTTP front end: RESTinio on its own I/O threads. Handlers validate
// the request, send it to the router through the gateway (http/gateway.hpp)
// and return at once; the reply completes the response on the replying
// actor's thread. Nothing here blocks on an actor.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/protocol.hpp"
#include "domain/query_string.hpp"

namespace tmf::domain {
class index_layout;
}

namespace tmf {
class metrics_registry;
}

namespace tmf::http {
class authenticator;
class rate_limiter;
} // namespace tmf::http

namespace tmf::http {

/// What the HTTP layer needs from the configuration.
struct server_settings {
  std::string address = "127.0.0.1";
  uint16_t port = 8080; ///< 0: any free port
  std::string public_url; ///< "" = build href from the Host header
  std::string base_path = "/tmf-api/customerManagement/v4";
  size_t io_threads = 1;
  uint64_t max_body_size = 1 << 20; ///< larger bodies: 413
  size_t max_json_depth = 32;       ///< deeper bodies: 400
  size_t max_url_size = 8192;       ///< longer request targets: 414
  size_t max_header_size = 8192;    ///< longer header names/values: 431
  size_t max_header_count = 100;    ///< more header fields: 431
  size_t max_connections = 1024;    ///< more wait in the listen backlog
  /// Bytes of partly received requests over all connections; past it a
  /// connection is answered 503 and closed.
  uint64_t max_buffered_bytes = 64ull << 20;
  domain::list_limits limits;       ///< paging and query caps
  size_t listener_log_size = 1000;  ///< events the listener keeps
  /// In a cluster: this node's name and the owner of a customer id, named
  /// in the X-Served-By header; empty: a single node, no header.
  std::string node_name;
  std::function<std::string(std::string_view)> owner_of;
  std::chrono::nanoseconds request_timeout = std::chrono::seconds(5);
  int request_log_level = 1; ///< tmf::log::level of the request lines
  /// A paged list that is a strict subset answers 206 (else 200).
  bool partial_content = true;
  /// The secondary indexes (a create sends its entries); null: none.
  std::shared_ptr<const domain::index_layout> layout;
  /// Probed by /health/ready (unset: the store check fails).
  store_writer_actor writer;
  /// Bound of each readiness probe; larger backlogs are not ready.
  std::chrono::nanoseconds ready_timeout = std::chrono::seconds(1);
  uint64_t ready_max_backlog = 100000;
  /// Where requests are recorded and what /metrics renders; null: off.
  std::shared_ptr<metrics_registry> metrics;
  /// Checks credentials of API requests; null: authentication off.
  std::shared_ptr<authenticator> auth;
  /// Per-client request rate; null: no rate limit.
  std::shared_ptr<rate_limiter> rate_limit;
  /// The HTTPS listener (http/tls.hpp), on the same I/O threads.
  bool tls = false;
  uint16_t tls_port = 8443;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls13_only = false;
};

/// A running HTTP server.
class server {
public:
  /// Binds and starts serving; throws std::exception with a one-line
  /// message when the address cannot be bound.
  server(caf::actor_system& sys, router_actor router, notifier_actor notifier,
         server_settings cfg);
  ~server();

  /// The port actually bound (useful with port 0).
  uint16_t port() const noexcept;

  /// `http://HOST:PORT<base-path>` of the bound socket.
  std::string url() const;

  /// `https://HOST:PORT<base-path>` of the HTTPS listener, "" without.
  std::string tls_url() const;

  /// Reads the HTTPS certificate and key again (SIGHUP); false with
  /// `error` when they cannot be used (the current pair stays).
  bool reload_tls(std::string& error);

  /// `<public URL or bound address><base-path>/customer/`: the href base
  /// of customers where no request names a host (events).
  std::string href_base() const;

  /// Makes /health/ready answer 503 from now on while requests are still
  /// served (the first step of a shutdown).
  void mark_unready();

  /// Stops serving in order: readiness fails, new requests get 503,
  /// in-flight requests get up to `drain` to finish, then the listener and
  /// I/O threads stop.
  void stop(std::chrono::nanoseconds drain);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace tmf::http
