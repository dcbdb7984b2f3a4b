#pragma once

// The responder: a one-shot actor that asks the router on behalf of one
// HTTP request and completes it. RESTinio threads never wait for actors.

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "http/context.hpp"
#include "http/error_mapping.hpp"

namespace tmf::http {

/// Counts a request as in flight for as long as it lives.
class flight_guard {
public:
  explicit flight_guard(std::shared_ptr<context> ctx) : ctx_(std::move(ctx)) {
    ctx_->in_flight.fetch_add(1, std::memory_order_relaxed);
  }
  ~flight_guard() {
    ctx_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  }
  flight_guard(const flight_guard&) = delete;
  flight_guard& operator=(const flight_guard&) = delete;

private:
  std::shared_ptr<context> ctx_;
};

/// Sends `xs...` to the router from a fresh one-shot actor; `on_ok` (a
/// lambda taking the typed reply) completes `req`; an error or a timeout
/// completes it with the mapped TMF Error.
template <class OnOk, class... Ts>
void ask(const std::shared_ptr<context>& ctx, restinio::request_handle_t req,
         clock::time_point start, OnOk on_ok, Ts... xs) {
  auto guard = std::make_shared<flight_guard>(ctx);
  ctx->sys.spawn([=](caf::event_based_actor* self) {
    self->request(ctx->router, ctx->cfg.request_timeout, xs...)
      .then(on_ok, [ctx, req, start, guard](caf::error& err) {
        auto e = map_error(err);
        respond_error(*ctx, req, e.status, e.message, start);
      });
  });
}

} // namespace tmf::http
