#pragma once

// One HTTP request being answered. A handler gets an exchange, checks the
// request with the validators (http/validate.hpp), and either answers at
// once with `reply`/`fail` or asks the router with `ask`; the router's
// reply completes the exchange on the replying actor's thread. Every
// exchange is answered exactly once, is counted in flight until then (so
// shutdown can drain) and logs one line when answered.

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/error.hpp>
#include <restinio/request_handler.hpp>

#include "http/context.hpp"
#include "http/error_mapping.hpp"
#include "http/status.hpp"

namespace tmf::http {

using headers = std::vector<std::pair<std::string, std::string>>;

class exchange : public std::enable_shared_from_this<exchange> {
public:
  exchange(std::shared_ptr<context> ctx, restinio::request_handle_t req);
  ~exchange();

  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;

  context& ctx() const noexcept {
    return *ctx_;
  }

  const restinio::request_handle_t& request() const noexcept {
    return req_;
  }

  /// The request id: the request's `X-Request-ID` when it is 1..128
  /// visible ASCII characters, else one made up (16 hex digits). Echoed in
  /// the response and logged with the request line.
  const std::string& request_id();

  /// Names the route that answers (its template, in static storage) for
  /// the metrics; "unmatched" until set.
  void set_route(std::string_view route) noexcept {
    route_ = route;
  }

  /// `<base URL>/customer/` for this request: the configured public URL,
  /// else `http://<Host header>`, else the bound address.
  std::string href_base() const;

  /// `<base URL>/hub/` for this request (the Location of subscriptions).
  std::string hub_base() const;

  /// Answers with `st` and `body` (JSON unless empty or `extra` has a
  /// Content-Type). Safe from any thread; only the first answer of an
  /// exchange is sent.
  void reply(status st, std::string body, const headers& extra = {});

  /// Answers with a TMF Error body.
  void fail(status st, const std::string& message, const headers& extra = {});
  void fail(const http_error& err, const headers& extra = {});

  /// Sends `xs...` to `dest` through the gateway (see `ask`).
  template <class Handle, class OnOk, class... Ts>
  static void ask_actor(const std::shared_ptr<exchange>& ex,
                        const Handle& dest, OnOk on_ok, Ts&&... xs) {
    ex->ctx().gw.ask(
      dest, std::move(on_ok),
      [ex](const caf::error& err) { ex->fail(map_error(err)); },
      std::forward<Ts>(xs)...);
  }

  /// Sends `xs...` to the router through the gateway; `on_ok` gets the
  /// typed reply (it must answer the exchange); an error reply, a dead
  /// router or the request timeout fail the exchange with the mapped
  /// TMF Error.
  template <class OnOk, class... Ts>
  static void ask(const std::shared_ptr<exchange>& ex, OnOk on_ok,
                  Ts&&... xs) {
    ask_actor(ex, ex->ctx().router, std::move(on_ok),
              std::forward<Ts>(xs)...);
  }

  /// Like `ask`, to the notifier (the event hub).
  template <class OnOk, class... Ts>
  static void ask_notifier(const std::shared_ptr<exchange>& ex, OnOk on_ok,
                           Ts&&... xs) {
    ask_actor(ex, ex->ctx().notifier, std::move(on_ok),
              std::forward<Ts>(xs)...);
  }

private:
  void send(status st, std::string body, const headers& extra);

  void send_now(status st, std::string body, const headers& extra);
  void log_line(status st);

  std::shared_ptr<context> ctx_;
  restinio::request_handle_t req_;
  clock::time_point start_;
  std::string_view route_ = "unmatched";
  std::string request_id_;
  std::atomic<bool> answered_{false};
};

using exchange_ptr = std::shared_ptr<exchange>;

/// A request handler: `param` is the path parameter of its route (the id
/// in `/customer/{id}`), empty for routes without one.
using handler_fn = void (*)(const exchange_ptr& ex, std::string_view param);

/// Marks the current I/O thread as running a request handler for its
/// lifetime. Answers given meanwhile are sent after the handler returned:
/// RESTinio then reads the next pipelined request exactly once, and every
/// pipelined request gets its own response, in order.
class handler_scope {
public:
  handler_scope() noexcept;
  ~handler_scope();
  handler_scope(const handler_scope&) = delete;
  handler_scope& operator=(const handler_scope&) = delete;
};

} // namespace tmf::http
