#pragma once

// Asking the router on behalf of one HTTP request and completing it from
// the reply. RESTinio threads never wait for actors.

#include <memory>

#include <caf/error.hpp>

#include "http/context.hpp"
#include "http/error_mapping.hpp"

namespace tmf::http {

/// Counts a request as in flight for as long as it lives.
class flight_guard {
public:
  explicit flight_guard(std::shared_ptr<context> ctx) : ctx_(std::move(ctx)) {
    ctx_->in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  flight_guard(flight_guard&& other) noexcept = default;
  ~flight_guard() {
    if (ctx_)
      ctx_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  }
  flight_guard(const flight_guard&) = delete;
  flight_guard& operator=(const flight_guard&) = delete;
  flight_guard& operator=(flight_guard&&) = delete;

private:
  std::shared_ptr<context> ctx_;
};

/// Sends `xs...` to the router through the gateway; `on_ok` (a lambda
/// taking the typed reply) completes `req`; an error or the request timeout
/// completes it with the mapped TMF Error.
template <class OnOk, class... Ts>
void ask(const std::shared_ptr<context>& ctx, restinio::request_handle_t req,
         clock::time_point start, OnOk on_ok, Ts&&... xs) {
  ctx->gw.ask(
    ctx->router, std::move(on_ok),
    [ctx, req = std::move(req), start,
     guard = flight_guard{ctx}](const caf::error& err) {
      auto e = map_error(err);
      respond_error(*ctx, req, e.status, e.message, start);
    },
    std::forward<Ts>(xs)...);
}

} // namespace tmf::http
