#pragma once

// The socket of every HTTP connection. RESTinio 0.6 answers nothing to a
// request it cannot parse (it closes the connection), reserves a body's
// Content-Length up front, and buffers bodies without a global bound. This
// socket watches the bytes RESTinio reads with a second HTTP parser (the
// same http_parser library and limits) and:
// - charges every partly received request to one budget shared by all
//   connections (`max-buffered-bytes`); past it the connection is answered
//   503 and closed instead of buffering more;
// - when RESTinio closes a connection because the request was malformed or
//   over a limit, first writes the status RESTinio would not send (400,
//   413, 414, 431, 501, 505) with a TMF Error body, then closes gently so
//   the client can read it.
// One HTTP server per process uses it (`install` sets the limits).

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include <http_parser.h>
#include <restinio/asio_include.hpp>

namespace tmf::http {

/// The limits every guarded socket enforces, and the shared budget.
struct socket_limits {
  uint64_t max_body_size = 1 << 20;
  size_t max_url_size = 8192;
  size_t max_header_size = 8192;
  size_t max_header_count = 100;
  uint64_t max_buffered_bytes = 64ull << 20;
  /// Bytes of partly received requests held now, over all connections.
  std::atomic<uint64_t> buffered{0};
  /// Connections being closed gently after a refusal.
  std::atomic<size_t> lingering{0};
};

class guarded_socket : public restinio::asio_ns::ip::tcp::socket {
public:
  using base = restinio::asio_ns::ip::tcp::socket;

  /// Makes `limits` the limits of every guarded socket of this process.
  static void install(std::shared_ptr<socket_limits> limits);

  /// The installed limits (for tests and logs).
  static const socket_limits& limits();

  explicit guarded_socket(restinio::asio_ns::io_context& io);
  guarded_socket(guarded_socket&& other) noexcept;
  guarded_socket& operator=(guarded_socket&& other) = delete;
  guarded_socket(const guarded_socket&) = delete;
  guarded_socket& operator=(const guarded_socket&) = delete;
  ~guarded_socket();

  /// Reads like the base socket, but inspects what was read first. A read
  /// that would take the buffered requests over budget fails with
  /// `no_buffer_space` (RESTinio then closes the connection).
  template <class MutableBuffer, class Handler>
  void async_read_some(const MutableBuffer& buffer, Handler&& handler) {
    namespace asio = restinio::asio_ns;
    auto ex = asio::get_associated_executor(handler, get_executor());
    auto data = static_cast<const char*>(buffer.data());
    base::async_read_some(
      buffer, asio::bind_executor(
                ex, [this, data, h = std::forward<Handler>(handler)](
                      const asio::error_code& ec, size_t n) mutable {
                  if (!ec && n > 0 && !inspect(data, n)) {
                    h(asio::error::no_buffer_space, size_t{0});
                    return;
                  }
                  h(ec, n);
                }));
  }

  /// Writes the refusal status, if any, then shuts down (gently when a
  /// refusal was written).
  void shutdown(shutdown_type what, restinio::asio_ns::error_code& ec);

  /// Closes; gives back what this connection had charged to the budget.
  void close();

  /// The status this connection will be refused with, 0 if none (tests).
  int refusal() const noexcept {
    return refusal_;
  }

private:
  friend struct guarded_socket_parser;

  /// Feeds `n` read bytes to the watching parser; false when the
  /// connection must be refused for the budget.
  bool inspect(const char* data, size_t n);

  /// Adds `bytes` to the current request's charge; false over budget.
  bool charge(uint64_t bytes);

  /// Gives the current request's charge back.
  void release() noexcept;

  void refuse(int status, std::string message);

  std::shared_ptr<socket_limits> limits_;
  http_parser parser_;
  bool parser_done_ = false; ///< an error stopped the watching parser
  bool over_budget_ = false; ///< the last inspect went over the budget
  uint64_t charged_ = 0;     ///< bytes of the current request charged
  uint64_t url_size_ = 0;
  uint64_t body_size_ = 0;   ///< chunked body bytes so far
  uint64_t field_size_ = 0;
  size_t field_count_ = 0;
  bool in_value_ = false;
  bool body_reserved_ = false; ///< Content-Length charged up front
  int refusal_ = 0;
  std::string refusal_message_;
};

} // namespace tmf::http
