#pragma once

// Shared state of one HTTP server, used by the routes and the handlers: the
// router handle, the gateway replies come back to, settings, and the
// in-flight counter that lets shutdown drain.

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
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

class http_metrics;

using clock = std::chrono::steady_clock;

/// The events the listener endpoints received: the last `capacity`.
class received_log {
public:
  explicit received_log(size_t capacity) : capacity_(capacity) {
    // nop
  }

  void add(std::string event) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (capacity_ == 0)
      return;
    if (events_.size() == capacity_)
      events_.pop_front();
    events_.push_back(std::move(event));
  }

  std::deque<std::string> all() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return events_;
  }

private:
  mutable std::mutex mtx_;
  size_t capacity_;
  std::deque<std::string> events_;
};

struct context {
  context(caf::actor_system& system, router_actor r, notifier_actor n,
          server_settings s)
    : sys(system), router(std::move(r)), notifier(std::move(n)),
      cfg(std::move(s)), gw(system, cfg.request_timeout),
      probe_gw(system, cfg.ready_timeout),
      received(cfg.listener_log_size) {
    // nop
  }

  caf::actor_system& sys;
  router_actor router;
  notifier_actor notifier;
  server_settings cfg;
  gateway gw; ///< sends to the router, completes requests from its replies
  gateway probe_gw; ///< readiness probes, bounded by ready-timeout
  /// The I/O threads' io_context: answers given inside a handler are
  /// posted to it (see exchange).
  restinio::asio_ns::io_context* io = nullptr;
  std::string fixed_href_base;    ///< public-url + base + "/customer/"
  /// From the bound address; set before the first request is accepted.
  std::string fallback_href_base;
  std::atomic<int64_t> in_flight{0};
  std::atomic<bool> stopping{false};
  std::atomic<bool> unready{false}; ///< /health/ready fails (shutdown)
  /// Per-route request metrics; null when metrics are off.
  std::shared_ptr<http_metrics> metrics;
  received_log received; ///< what the listener endpoints received
};

} // namespace tmf::http
