#pragma once

// Shared state of one HTTP server, used by the routes and the handlers: the
// router handle, the gateway replies come back to, settings, and the
// in-flight counter that lets shutdown drain.

#include <atomic>
#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <restinio/request_handler.hpp>

#include "actors/protocol.hpp"
#include "http/gateway.hpp"
#include "domain/query_string.hpp"
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
    limits.default_limit = cfg.default_limit;
    limits.max_limit = cfg.max_limit;
  }

  caf::actor_system& sys;
  router_actor router;
  server_settings cfg;
  gateway gw; ///< sends to the router, completes requests from its replies
  domain::list_limits limits;
  std::string fixed_href_base;    ///< public-url + base + "/customer/"
  std::string fallback_href_base; ///< from the bound address
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> stopping{false};
};

using headers = std::vector<std::pair<std::string, std::string>>;

/// Completes `req` with `status` and `body` (JSON unless empty), logs the
/// request line. Safe from any thread; never throws.
void respond(context& ctx, const restinio::request_handle_t& req, int status,
             std::string body, const headers& extra, clock::time_point start);

/// Completes `req` with a TMF Error body.
void respond_error(context& ctx, const restinio::request_handle_t& req,
                   int status, const std::string& message,
                   clock::time_point start, const headers& extra = {});

/// `<base URL>/customer/` for this request: the configured public URL, else
/// `http://<Host header>`, else the bound address.
std::string href_base(const context& ctx,
                      const restinio::request_handle_t& req);

/// The request handler installed in RESTinio: routes by path and method.
restinio::request_handling_status_t
route(const std::shared_ptr<context>& ctx, restinio::request_handle_t req);

} // namespace tmf::http
