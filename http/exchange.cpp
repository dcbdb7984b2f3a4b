#include "http/exchange.hpp"

#include <algorithm>
#include <cctype>

#include <restinio/all.hpp>

#include "actors/log.hpp"

namespace tmf::http {

namespace {

/// True on an I/O thread while it runs a handler: answers are deferred.
thread_local bool in_handler = false;

bool valid_host(std::string_view host) {
  if (host.empty() || host.size() > 255)
    return false;
  for (auto c : host)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-'
          || c == ':' || c == '[' || c == ']' || c == '_'))
      return false;
  return true;
}

} // namespace

exchange::exchange(std::shared_ptr<context> ctx,
                   restinio::request_handle_t req)
  : ctx_(std::move(ctx)), req_(std::move(req)), start_(clock::now()) {
  ctx_->in_flight.fetch_add(1, std::memory_order_relaxed);
}

exchange::~exchange() {
  if (!answered_.load(std::memory_order_relaxed)) {
    // Every path answers; this only catches a handler that forgot to.
    send_now(status::internal_server_error,
             error_body(status::internal_server_error,
                        "internal error: the request was not answered"),
             {});
  }
}

std::string exchange::href_base() const {
  if (!ctx_->fixed_href_base.empty())
    return ctx_->fixed_href_base;
  auto host = req_->header().get_field_or(restinio::http_field::host, "");
  if (!valid_host(host))
    return ctx_->fallback_href_base;
  return "http://" + host + ctx_->cfg.base_path + "/customer/";
}

std::string exchange::hub_base() const {
  auto customers = href_base();
  constexpr std::string_view tail = "customer/";
  return customers.substr(0, customers.size() - tail.size()) + "hub/";
}

void exchange::reply(status st, std::string body, const headers& extra) {
  if (answered_.exchange(true))
    return;
  if (in_handler) {
    restinio::asio_ns::post(
      *ctx_->io, [self = shared_from_this(), st, body = std::move(body),
                  extra]() mutable { self->send_now(st, std::move(body),
                                                    extra); });
    return;
  }
  send_now(st, std::move(body), extra);
}

void exchange::fail(status st, const std::string& message,
                    const headers& extra) {
  if (st == status::service_unavailable
      && std::none_of(extra.begin(), extra.end(), [](const auto& h) {
           return h.first == "Retry-After";
         })) {
    // Every 503 passes: a node restarting, a shutdown, a full budget.
    auto with_retry = extra;
    with_retry.emplace_back("Retry-After", "1");
    reply(st, error_body(st, message), with_retry);
    return;
  }
  reply(st, error_body(st, message), extra);
}

void exchange::fail(const http_error& err, const headers& extra) {
  fail(err.st, err.message, extra);
}

void exchange::send_now(status st, std::string body, const headers& extra) {
  answered_.store(true, std::memory_order_relaxed);
  try {
    auto resp = req_->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{code(st)}, reason_phrase(st)});
    if (!body.empty())
      resp.append_header(restinio::http_field::content_type,
                         "application/json;charset=utf-8");
    for (const auto& [name, value] : extra)
      resp.append_header(name, value);
    if (ctx_->stopping.load(std::memory_order_relaxed))
      resp.connection_close();
    resp.set_body(std::move(body));
    resp.done();
  } catch (const std::exception& e) {
    log::warning(std::string{"http: cannot send response: "} + e.what());
  }
  log_line(st);
  ctx_->in_flight.fetch_sub(1, std::memory_order_relaxed);
}

void exchange::log_line(status st) const {
  auto lvl = static_cast<log::level>(ctx_->cfg.request_log_level);
  if (!log::enabled(lvl))
    return;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                  clock::now() - start_)
                  .count();
  std::string line;
  line += req_->header().method().c_str();
  line += ' ';
  line += req_->header().request_target();
  line += ' ';
  line += std::to_string(code(st));
  line += ' ';
  line += std::to_string(micros);
  line += "us";
  log::write(lvl, line);
}

handler_scope::handler_scope() noexcept {
  in_handler = true;
}

handler_scope::~handler_scope() {
  in_handler = false;
}

} // namespace tmf::http
