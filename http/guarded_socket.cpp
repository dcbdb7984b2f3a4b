#include "http/guarded_socket.hpp"

#include <array>
#include <climits>

#include <sys/socket.h>
#include <unistd.h>

#include "http/error_mapping.hpp"

namespace tmf::http {

namespace asio = restinio::asio_ns;

namespace {

std::shared_ptr<socket_limits>& installed() {
  static std::shared_ptr<socket_limits> instance
    = std::make_shared<socket_limits>();
  return instance;
}

/// Connections closed gently at once, at most; beyond, they are closed
/// at once (the client may then miss the refusal).
constexpr size_t max_lingering = 64;

/// How long a refused connection keeps reading (and dropping) what the
/// client still sends, so that closing does not reset the connection
/// before the client has read the refusal.
constexpr auto linger_time = std::chrono::seconds(2);

/// Drains a refused connection's input until EOF or `linger_time`, then
/// closes it. Owns a duplicate of the connection's descriptor.
class lingerer : public std::enable_shared_from_this<lingerer> {
public:
  lingerer(asio::io_context& io, asio::ip::tcp protocol, int fd,
           std::shared_ptr<socket_limits> limits)
    : socket_(io), timer_(io), limits_(std::move(limits)) {
    asio::error_code ec;
    socket_.assign(protocol, fd, ec);
    if (ec)
      ::close(fd);
  }

  ~lingerer() {
    limits_->lingering.fetch_sub(1, std::memory_order_relaxed);
  }

  void start() {
    if (!socket_.is_open())
      return;
    auto self = shared_from_this();
    timer_.expires_after(linger_time);
    timer_.async_wait([self](const asio::error_code&) {
      asio::error_code ignored;
      self->socket_.close(ignored);
    });
    read();
  }

private:
  void read() {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(buffer_),
                            [self](const asio::error_code& ec, size_t) {
                              if (ec) {
                                self->timer_.cancel();
                                asio::error_code ignored;
                                self->socket_.close(ignored);
                                return;
                              }
                              self->read();
                            });
  }

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<socket_limits> limits_;
  std::array<char, 4096> buffer_;
};

/// The response RESTinio does not send: status line, headers, TMF Error.
std::string refusal_response(int st, const std::string& message) {
  auto named = static_cast<status>(st);
  auto body = error_body(named, message);
  std::string out = "HTTP/1.1 " + std::to_string(st) + " "
                    + reason_phrase(named) + "\r\n";
  out += "Content-Type: application/json;charset=utf-8\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if (named == status::service_unavailable)
    out += "Retry-After: 1\r\n";
  out += "Connection: close\r\n\r\n";
  out += body;
  return out;
}

} // namespace

/// The watching parser's callbacks (static, as http_parser wants them).
struct guarded_socket_parser {
  static guarded_socket& self(http_parser* p) {
    return *static_cast<guarded_socket*>(p->data);
  }

  static int on_message_begin(http_parser* p) {
    auto& s = self(p);
    s.url_size_ = 0;
    s.field_size_ = 0;
    s.field_count_ = 0;
    s.in_value_ = false;
    s.body_reserved_ = false;
    s.body_size_ = 0;
    return 0;
  }

  static int on_url(http_parser* p, const char*, size_t n) {
    auto& s = self(p);
    s.url_size_ += n;
    if (s.url_size_ > s.limits_->max_url_size) {
      s.refuse(414, "the request target is longer than "
                      + std::to_string(s.limits_->max_url_size)
                      + " bytes (max-url-size)");
      return -1;
    }
    return s.charge(n) ? 0 : -1;
  }

  static int on_header_field(http_parser* p, const char*, size_t n) {
    auto& s = self(p);
    if (s.in_value_ || s.field_count_ == 0) {
      s.in_value_ = false;
      s.field_size_ = 0;
      if (++s.field_count_ > s.limits_->max_header_count) {
        s.refuse(431, "more than "
                        + std::to_string(s.limits_->max_header_count)
                        + " header fields (max-header-count)");
        return -1;
      }
    }
    return field_bytes(s, n);
  }

  static int on_header_value(http_parser* p, const char*, size_t n) {
    auto& s = self(p);
    if (!s.in_value_) {
      s.in_value_ = true;
      s.field_size_ = 0;
    }
    return field_bytes(s, n);
  }

  static int field_bytes(guarded_socket& s, size_t n) {
    s.field_size_ += n;
    if (s.field_size_ > s.limits_->max_header_size) {
      s.refuse(431, "a header field name or value is longer than "
                      + std::to_string(s.limits_->max_header_size)
                      + " bytes (max-header-size)");
      return -1;
    }
    return s.charge(n) ? 0 : -1;
  }

  static int on_headers_complete(http_parser* p) {
    auto& s = self(p);
    if (p->content_length == ULLONG_MAX || p->content_length == 0)
      return 0;
    if (p->content_length > s.limits_->max_body_size) {
      s.refuse(413, "the body has " + std::to_string(p->content_length)
                      + " bytes; the limit is "
                      + std::to_string(s.limits_->max_body_size));
      return -1;
    }
    // RESTinio reserves the whole body now: charge it now.
    s.body_reserved_ = true;
    return s.charge(p->content_length) ? 0 : -1;
  }

  static int on_body(http_parser* p, const char*, size_t n) {
    auto& s = self(p);
    if (s.body_reserved_)
      return 0;
    if (!s.charge(n))
      return -1;
    // A chunked body: its size shows only as it arrives.
    s.body_size_ += n;
    if (s.body_size_ > s.limits_->max_body_size) {
      s.refuse(413, "the body is larger than "
                      + std::to_string(s.limits_->max_body_size)
                      + " bytes");
      return -1;
    }
    return 0;
  }

  static int on_message_complete(http_parser* p) {
    self(p).release();
    return 0;
  }

  static const http_parser_settings& settings() {
    static const http_parser_settings instance = [] {
      http_parser_settings x;
      http_parser_settings_init(&x);
      x.on_message_begin = on_message_begin;
      x.on_url = on_url;
      x.on_header_field = on_header_field;
      x.on_header_value = on_header_value;
      x.on_headers_complete = on_headers_complete;
      x.on_body = on_body;
      x.on_message_complete = on_message_complete;
      return x;
    }();
    return instance;
  }
};

void guarded_socket::install(std::shared_ptr<socket_limits> limits) {
  installed() = std::move(limits);
}

const socket_limits& guarded_socket::limits() {
  return *installed();
}

guarded_socket::guarded_socket(asio::io_context& io)
  : base(io), limits_(installed()) {
  http_parser_init(&parser_, HTTP_REQUEST);
}

guarded_socket::guarded_socket(guarded_socket&& other) noexcept
  : base(std::move(other)),
    limits_(other.limits_),
    parser_(other.parser_),
    parser_done_(other.parser_done_),
    charged_(std::exchange(other.charged_, 0)),
    url_size_(other.url_size_),
    body_size_(other.body_size_),
    field_size_(other.field_size_),
    field_count_(other.field_count_),
    in_value_(other.in_value_),
    body_reserved_(other.body_reserved_),
    refusal_(std::exchange(other.refusal_, 0)),
    refusal_message_(std::move(other.refusal_message_)) {
  http_parser_init(&other.parser_, HTTP_REQUEST);
  other.parser_done_ = false;
}

guarded_socket::~guarded_socket() {
  release();
}

bool guarded_socket::inspect(const char* data, size_t n) {
  if (parser_done_)
    return true;
  parser_.data = this;
  over_budget_ = false;
  http_parser_execute(&parser_, &guarded_socket_parser::settings(), data, n);
  if (over_budget_)
    return false;
  auto err = HTTP_PARSER_ERRNO(&parser_);
  if (err == HPE_OK && !parser_.upgrade)
    return true;
  parser_done_ = true; // RESTinio meets the same error in these bytes
  if (refusal_ != 0 || err == HPE_OK)
    return true;
  switch (err) {
    case HPE_INVALID_METHOD:
      refuse(501, "the request method is not one this service knows; it "
                  "implements GET, POST, PATCH and DELETE");
      break;
    case HPE_INVALID_VERSION:
      refuse(505, "the service speaks HTTP/1.0 and HTTP/1.1");
      break;
    case HPE_HEADER_OVERFLOW:
      refuse(431, "the header section is larger than "
                    + std::to_string(HTTP_MAX_HEADER_SIZE) + " bytes");
      break;
    default:
      refuse(400, std::string{"the request is not valid HTTP/1.1: "}
                    + http_errno_description(err));
  }
  return true;
}

bool guarded_socket::charge(uint64_t bytes) {
  charged_ += bytes;
  auto total = limits_->buffered.fetch_add(bytes, std::memory_order_relaxed)
               + bytes;
  if (total <= limits_->max_buffered_bytes)
    return true;
  over_budget_ = true;
  refuse(503, "the service holds too many partly received requests ("
                "max-buffered-bytes); retry");
  return false;
}

void guarded_socket::release() noexcept {
  if (charged_ == 0)
    return;
  limits_->buffered.fetch_sub(charged_, std::memory_order_relaxed);
  charged_ = 0;
}

void guarded_socket::refuse(int st, std::string message) {
  refusal_ = st;
  refusal_message_ = std::move(message);
}

void guarded_socket::shutdown(shutdown_type what, asio::error_code& ec) {
  if (refusal_ == 0 || !is_open()) {
    base::shutdown(what, ec);
    return;
  }
  auto response = refusal_response(refusal_, refusal_message_);
  refusal_ = 0;
  auto fd = native_handle();
  // Best effort: the response is small and the send buffer empty.
  [[maybe_unused]] auto sent = ::send(fd, response.data(), response.size(),
                                      MSG_DONTWAIT | MSG_NOSIGNAL);
  base::shutdown(shutdown_send, ec);
  // Closing with unread input resets the connection, and a reset can make
  // the client drop the response unread: keep reading for a while.
  if (limits_->lingering.fetch_add(1, std::memory_order_relaxed)
      >= max_lingering) {
    limits_->lingering.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  asio::error_code ignored;
  auto protocol = local_endpoint(ignored).protocol();
  auto copy = ::dup(fd);
  if (copy < 0) {
    limits_->lingering.fetch_sub(1, std::memory_order_relaxed);
    return;
  }
  auto& io = static_cast<asio::io_context&>(get_executor().context());
  std::make_shared<lingerer>(io, protocol, copy, limits_)->start();
}

void guarded_socket::close() {
  release();
  base::close();
}

} // namespace tmf::http
