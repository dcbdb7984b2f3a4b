#include "http/server.hpp"

#include <atomic>
#include <stdexcept>
#include <thread>

#include <restinio/all.hpp>

#include "actors/log.hpp"
#include "http/context.hpp"
#include "http/error_mapping.hpp"

namespace tmf::http {

namespace {

/// One I/O thread: no strand. Responses completed from CAF threads are
/// posted to the io_context (RESTinio's `done()` dispatches to the
/// connection's executor), which only that one thread runs.
using single_traits = restinio::default_single_thread_traits_t;

/// Several I/O threads: an asio strand per connection.
using multi_traits = restinio::default_traits_t;

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255)
    return false;
  for (auto c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'
          || c == ':' || c == '[' || c == ']' || c == '_'))
      return false;
  return true;
}

std::string bracketed(const std::string& address) {
  return address.find(':') != std::string::npos ? "[" + address + "]"
                                                 : address;
}

} // namespace

// -- responses ---------------------------------------------------------------

void respond(context& ctx, const restinio::request_handle_t& req, int status,
             std::string body, const headers& extra, clock::time_point start) {
  try {
    auto resp = req->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{static_cast<uint16_t>(status)},
      reason_phrase(status)});
    if (!body.empty())
      resp.append_header(restinio::http_field::content_type,
                         "application/json;charset=utf-8");
    for (const auto& [name, value] : extra)
      resp.append_header(name, value);
    if (ctx.stopping.load(std::memory_order_relaxed))
      resp.connection_close();
    resp.set_body(std::move(body));
    resp.done();
  } catch (const std::exception& e) {
    log::warning(std::string{"http: cannot send response: "} + e.what());
  }
  auto lvl = static_cast<log::level>(ctx.cfg.request_log_level);
  if (log::enabled(lvl)) {
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                    clock::now() - start)
                    .count();
    std::string line;
    line += req->header().method().c_str();
    line += ' ';
    line += req->header().request_target();
    line += ' ';
    line += std::to_string(status);
    line += ' ';
    line += std::to_string(micros);
    line += "us";
    log::write(lvl, line);
  }
}

void respond_error(context& ctx, const restinio::request_handle_t& req,
                   int status, const std::string& message,
                   clock::time_point start, const headers& extra) {
  respond(ctx, req, status, error_body(status, message), extra, start);
}

std::string href_base(const context& ctx,
                      const restinio::request_handle_t& req) {
  if (!ctx.fixed_href_base.empty())
    return ctx.fixed_href_base;
  auto host = req->header().get_field_or(restinio::http_field::host, "");
  if (!valid_host(host))
    return ctx.fallback_href_base;
  return "http://" + host + ctx.cfg.base_path + "/customer/";
}

// -- server ------------------------------------------------------------------

struct server::impl {
  std::shared_ptr<context> ctx;
  std::shared_ptr<std::atomic<uint16_t>> bound_port;
  restinio::running_server_handle_t<single_traits> single;
  restinio::running_server_handle_t<multi_traits> multi;
  bool stopped = false;

  template <class Traits>
  restinio::running_server_handle_t<Traits> launch() {
    const auto& s = ctx->cfg;
    auto handler_ctx = ctx;
    auto bound = bound_port;
    // Bodies up to 4x the configured limit are read and answered 413 with
    // a TMF Error; beyond that RESTinio closes the connection.
    auto hard_limit = std::max<uint64_t>(s.max_body_size * 4, 4u << 20);
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
          .incoming_http_msg_limits(
            restinio::incoming_http_msg_limits_t{}.max_body_size(hard_limit))
          .acceptor_post_bind_hook(
            [bound](restinio::asio_ns::ip::tcp::acceptor& acceptor) {
              bound->store(acceptor.local_endpoint().port());
            });
    return restinio::run_async<Traits>(restinio::own_io_context(),
                                       std::move(settings), s.io_threads);
  }
};

server::server(caf::actor_system& sys, router_actor router,
               server_settings cfg)
  : impl_(std::make_unique<impl>()) {
  auto& st = *impl_;
  st.ctx = std::make_shared<context>(sys, std::move(router), std::move(cfg));
  st.bound_port = std::make_shared<std::atomic<uint16_t>>(0);
  const auto& s = st.ctx->cfg;
  if (!s.public_url.empty())
    st.ctx->fixed_href_base = s.public_url + s.base_path + "/customer/";
  try {
    if (s.io_threads == 1)
      st.single = st.launch<single_traits>();
    else
      st.multi = st.launch<multi_traits>();
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot listen on " + bracketed(s.address) + ":"
                             + std::to_string(s.port) + ": " + e.what());
  }
  st.ctx->fallback_href_base = "http://" + bracketed(s.address) + ":"
                               + std::to_string(port()) + s.base_path
                               + "/customer/";
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

void server::stop(std::chrono::nanoseconds drain) {
  auto& st = *impl_;
  if (st.stopped)
    return;
  st.stopped = true;
  st.ctx->stopping = true;
  auto deadline = clock::now() + drain;
  while (st.ctx->in_flight.load() > 0 && clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (auto left = st.ctx->in_flight.load(); left > 0)
    log::warning("http: " + std::to_string(left)
                 + " request(s) still in flight at shutdown");
  // Whatever is still waiting for the actors is answered 503 now.
  st.ctx->gw.stop();
  if (st.single) {
    st.single->stop();
    st.single->wait();
  } else if (st.multi) {
    st.multi->stop();
    st.multi->wait();
  }
}

} // namespace tmf::http
