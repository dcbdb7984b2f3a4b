#include "http/server.hpp"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <restinio/all.hpp>

#include "actors/log.hpp"
#include "actors/metrics.hpp"
#include "http/context.hpp"
#include "http/guarded_socket.hpp"
#include "http/metrics.hpp"
#include "http/routes.hpp"
#include "http/tls.hpp"

namespace tmf::http {

namespace {

/// RESTinio's traits with our socket (http/guarded_socket.hpp) and a cap
/// on parallel connections.
template <class Base>
struct guarded_traits : Base {
  using stream_socket_t = guarded_socket;
  static constexpr bool use_connection_count_limiter = true;
};

/// One I/O thread: no strand. Responses completed from CAF threads are
/// posted to the io_context (RESTinio's `done()` dispatches to the
/// connection's executor), which only that one thread runs.
using single_traits = guarded_traits<restinio::default_single_thread_traits_t>;

/// Several I/O threads: an asio strand per connection.
using multi_traits = guarded_traits<restinio::default_traits_t>;

std::string bracketed(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]"
                                                 : address;
}

} // namespace

struct server::impl {
  std::shared_ptr<context> ctx;
  restinio::asio_ns::io_context io;
  std::shared_ptr<std::atomic<uint16_t>> bound_port;
  restinio::running_server_handle_t<single_traits> single;
  restinio::running_server_handle_t<multi_traits> multi;
  std::unique_ptr<tls_listener> tls; ///< on `io`; closed before it
  bool stopped = false;

  /// RESTinio's own limits: requests over them are refused while parsing.
  restinio::incoming_http_msg_limits_t msg_limits() const {
    const auto& s = ctx->cfg;
    return restinio::incoming_http_msg_limits_t{}
      .max_url_size(s.max_url_size)
      .max_field_name_size(s.max_header_size)
      .max_field_value_size(s.max_header_size)
      .max_field_count(s.max_header_count)
      .max_body_size(s.max_body_size);
  }

  template <class Traits>
  restinio::running_server_handle_t<Traits> launch() {
    const auto& s = ctx->cfg;
    auto handler_ctx = ctx;
    auto bound = bound_port;
    auto settings
      = restinio::server_settings_t<Traits>{}
          .address(s.address)
          .port(s.port)
          .protocol(s.address.find(':') != std::string::npos
                      ? restinio::asio_ns::ip::tcp::v6()
                      : restinio::asio_ns::ip::tcp::v4())
          .request_handler([handler_ctx](restinio::request_handle_t req) {
            return route(handler_ctx, std::move(req));
          })
          .handle_request_timeout(
            std::chrono::duration_cast<std::chrono::milliseconds>(
              s.request_timeout)
            + std::chrono::seconds(2))
          .read_next_http_message_timelimit(std::chrono::seconds(60))
          .write_http_response_timelimit(std::chrono::seconds(10))
          .incoming_http_msg_limits(msg_limits())
          .max_parallel_connections(s.max_connections)
          .acceptor_post_bind_hook(
            [bound, handler_ctx](restinio::asio_ns::ip::tcp::acceptor& a) {
              // Runs before the first connection is accepted.
              auto port = a.local_endpoint().port();
              bound->store(port);
              const auto& cfg = handler_ctx->cfg;
              handler_ctx->fallback_href_base
                = "http://" + bracketed(cfg.address) + ":"
                  + std::to_string(port) + cfg.base_path + "/customer/";
            });
    return restinio::run_async<Traits>(restinio::external_io_context(io),
                                       std::move(settings), s.io_threads);
  }
};

server::server(caf::actor_system& sys, router_actor router,
               notifier_actor notifier, server_settings cfg)
  : impl_(std::make_unique<impl>()) {
  auto& st = *impl_;
  st.ctx = std::make_shared<context>(sys, std::move(router),
                                     std::move(notifier), std::move(cfg));
  st.ctx->io = &st.io;
  st.bound_port = std::make_shared<std::atomic<uint16_t>>(0);
  const auto& s = st.ctx->cfg;
  auto limits = std::make_shared<socket_limits>();
  limits->max_body_size = s.max_body_size;
  limits->max_url_size = s.max_url_size;
  limits->max_header_size = s.max_header_size;
  limits->max_header_count = s.max_header_count;
  limits->max_buffered_bytes = s.max_buffered_bytes;
  guarded_socket::install(std::move(limits));
  if (!s.public_url.empty())
    st.ctx->fixed_href_base = s.public_url + s.base_path + "/customer/";
  if (s.metrics) {
    st.ctx->metrics = std::make_shared<http_metrics>(s.metrics->registry());
    std::weak_ptr<context> weak = st.ctx;
    s.metrics->on_collect([weak] {
      if (auto c = weak.lock())
        c->metrics->set_in_flight(c->in_flight.load());
    });
  }
  if (s.tls) // opens before the I/O threads start
    st.tls = std::make_unique<tls_listener>(
      st.ctx, st.io,
      tls_settings{s.address, s.tls_port, s.tls_cert_file, s.tls_key_file,
                   s.tls13_only});
  try {
    if (s.io_threads == 1)
      st.single = st.launch<single_traits>();
    else
      st.multi = st.launch<multi_traits>();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + bracketed(s.address) + ":"
                             + std::to_string(s.port) + ": " + e.what());
  }
}

server::~server() {
  if (!impl_->stopped)
    stop(std::chrono::seconds(0));
}

uint16_t server::port() const noexcept {
  return impl_->bound_port->load();
}

std::string server::url() const {
  const auto& s = impl_->ctx->cfg;
  return "http://" + bracketed(s.address) + ":" + std::to_string(port())
         + s.base_path;
}

std::string server::tls_url() const {
  const auto& s = impl_->ctx->cfg;
  if (!impl_->tls)
    return {};
  return "https://" + bracketed(s.address) + ":"
         + std::to_string(impl_->tls->port()) + s.base_path;
}

bool server::reload_tls(std::string& error) {
  if (!impl_->tls) {
    error = "TLS is off";
    return false;
  }
  return impl_->tls->reload(error);
}

std::string server::href_base() const {
  const auto& c = *impl_->ctx;
  return c.fixed_href_base.empty() ? c.fallback_href_base
                                   : c.fixed_href_base;
}

void server::mark_unready() {
  impl_->ctx->unready = true;
}

void server::stop(std::chrono::nanoseconds drain) {
  auto& st = *impl_;
  if (st.stopped)
    return;
  st.stopped = true;
  st.ctx->unready = true;
  st.ctx->stopping = true;
  auto deadline = clock::now() + drain;
  while (st.ctx->in_flight.load() > 0 && clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (auto left = st.ctx->in_flight.load(); left > 0)
    log::warning("http: " + std::to_string(left)
                 + " request(s) still in flight at shutdown");
  // Whatever is still waiting for the actors is answered 503 now.
  st.ctx->gw.stop();
  st.ctx->probe_gw.stop();
  if (st.tls)
    st.tls->stop();
  if (st.single) {
    st.single->stop();
    st.single->wait();
  } else if (st.multi) {
    st.multi->stop();
    st.multi->wait();
  }
}

} // namespace tmf::http
