#pragma once

// The RESTinio settings both listeners share (plain in server.cpp, HTTPS in
// tls.cpp): address family, the route table as request handler, timeouts,
// the request limits of the configuration and the connection cap. Each
// listener adds its own acceptor hook (and the TLS context).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <restinio/all.hpp>

#include "http/context.hpp"
#include "http/routes.hpp"

namespace tmf::http {

template <class Traits>
restinio::server_settings_t<Traits>
listener_settings(const std::shared_ptr<context>& ctx,
                  const std::string& address, uint16_t port) {
  const auto& s = ctx->cfg;
  auto handler_ctx = ctx;
  restinio::server_settings_t<Traits> settings;
  settings.address(address)
    .port(port)
    .protocol(address.find(':') != std::string::npos
                ? restinio::asio_ns::ip::tcp::v6()
                : restinio::asio_ns::ip::tcp::v4())
    .request_handler([handler_ctx](restinio::request_handle_t req) {
      return route(handler_ctx, std::move(req));
    })
    // The gateway answers 504 at request_timeout; RESTinio's own limit is
    // a backstop behind it.
    .handle_request_timeout(
      std::chrono::duration_cast<std::chrono::milliseconds>(s.request_timeout)
      + std::chrono::seconds(2))
    .read_next_http_message_timelimit(std::chrono::seconds(60))
    .write_http_response_timelimit(std::chrono::seconds(10))
    .incoming_http_msg_limits(restinio::incoming_http_msg_limits_t{}
                                .max_url_size(s.max_url_size)
                                .max_field_name_size(s.max_header_size)
                                .max_field_value_size(s.max_header_size)
                                .max_field_count(s.max_header_count)
                                .max_body_size(s.max_body_size))
    .max_parallel_connections(s.max_connections);
  return settings;
}

} // namespace tmf::http
