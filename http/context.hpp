#pragma once

// Shared state of one HTTP server, used by the routes and the handlers: the
// router handle, the gateway replies come back to, settings, and the
// in-flight counter that lets shutdown drain.

#include <atomic>
#include <chrono>
#include <string>

#include <restinio/asio_include.hpp>

#include "actors/protocol.hpp"
#include "domain/query_string.hpp"
#include "http/gateway.hpp"
#include "http/server.hpp"

namespace caf {
class actor_system;
}

namespace tmf::http {

using clock = std::chrono::steady_clock;

struct context {
  context(caf::actor_system& system, router_actor r, server_settings s)
    : sys(system), router(std::move(r)), cfg(std::move(s)),
      gw(system, cfg.request_timeout) {
    // nop
  }

  caf::actor_system& sys;
  router_actor router;
  server_settings cfg;
  gateway gw; ///< sends to the router, completes requests from its replies
  /// The I/O threads' io_context: answers given inside a handler are
  /// posted to it (see exchange).
  restinio::asio_ns::io_context* io = nullptr;
  std::string fixed_href_base;    ///< public-url + base + "/customer/"
  /// From the bound address; set before the first request is accepted.
  std::string fallback_href_base;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> stopping{false};
};

} // namespace tmf::http
