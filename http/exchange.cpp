#include "http/exchange.hpp"

#include <algorithm>
#include <cctype>
#include <random>

#include <restinio/all.hpp>

#include "actors/log.hpp"
#include "http/metrics.hpp"

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

/// True for an X-Request-ID worth echoing: 1..128 visible ASCII
/// characters (no spaces, quotes or backslashes).
bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128)
    return false;
  for (auto c : id)
    if (c <= ' ' || c >= 0x7f || c == '"' || c == '\\')
      return false;
  return true;
}

/// 16 hex digits from a per-thread generator.
std::string make_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  auto x = rng();
  std::string id(16, '0');
  for (auto& c : id) {
    c = hex[x & 0xf];
    x >>= 4;
  }
  return id;
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

const std::string& exchange::request_id() {
  if (request_id_.empty()) {
    auto given = req_->header().get_field_or("X-Request-ID", "");
    request_id_ = valid_request_id(given) ? std::string{given}
                                          : make_request_id();
  }
  return request_id_;
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
  // Counted before the response leaves: a client that has its answer and
  // then scrapes /metrics finds the request counted (done() below may hand
  // the response to the I/O thread, which can write it before this thread
  // goes on). `in_flight` drops only after done(): the shutdown drain waits
  // for it, and the response must be handed over by then.
  if (ctx_->metrics)
    ctx_->metrics->record(
      route_, req_->header().method(), code(st),
      std::chrono::duration<double>(clock::now() - start_).count());
  try {
    auto resp = req_->create_response(restinio::http_status_line_t{
      restinio::http_status_code_t{code(st)}, reason_phrase(st)});
    bool typed = false;
    for (const auto& kvp : extra)
      typed = typed
              || restinio::impl::is_equal_caseless(kvp.first, "Content-Type");
    if (!body.empty() && !typed)
      resp.append_header(restinio::http_field::content_type,
                         "application/json;charset=utf-8");
    for (const auto& [name, value] : extra)
      resp.append_header(name, value);
    resp.append_header("X-Request-ID", request_id());
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

void exchange::log_line(status st) {
  auto lvl = static_cast<log::level>(ctx_->cfg.request_log_level);
  if (!log::enabled(lvl))
    return;
  auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                  clock::now() - start_)
                  .count();
  const auto& header = req_->header();
  auto client = req_->remote_endpoint().address().to_string();
  if (log::json()) {
    std::string fields;
    fields += R"("method":)";
    log::append_json_string(fields, header.method().c_str());
    fields += R"(,"target":)";
    log::append_json_string(fields, header.request_target());
    fields += R"(,"status":)";
    fields += std::to_string(code(st));
    fields += R"(,"durationUs":)";
    fields += std::to_string(micros);
    fields += R"(,"requestId":)";
    log::append_json_string(fields, request_id());
    fields += R"(,"client":)";
    log::append_json_string(fields, client);
    log::write_event(lvl, "request", fields, {});
    return;
  }
  std::string line;
  line += header.method().c_str();
  line += ' ';
  line += header.request_target();
  line += ' ';
  line += std::to_string(code(st));
  line += ' ';
  line += std::to_string(micros);
  line += "us rid=";
  line += request_id();
  line += " client=";
  line += client;
  log::write(lvl, line);
}

handler_scope::handler_scope() noexcept {
  in_handler = true;
}

handler_scope::~handler_scope() {
  in_handler = false;
}

} // namespace tmf::http
