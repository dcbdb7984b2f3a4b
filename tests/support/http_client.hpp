#pragma once

// A minimal blocking HTTP/1.1 client for tests against 127.0.0.1, and raw
// connections for protocol-level tests. Every call is bounded in time.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tmf::test {

/// One HTTP response.
struct response {
  int status = 0;
  std::map<std::string, std::string> headers; ///< lower-case names
  std::string body;
  std::string header(const std::string& lower_name) const;
};

/// A keep-alive HTTP/1.1 connection to 127.0.0.1:port (reconnects when the
/// server closed it). Every call is bounded by a 10 s socket timeout.
class http_client {
public:
  explicit http_client(uint16_t port);
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// Sends one request; returns status 0 when the connection failed.
  response request(const std::string& method, const std::string& target,
                   const std::string& body = {},
                   const std::map<std::string, std::string>& headers = {});

  response get(const std::string& target) {
    return request("GET", target);
  }
  response post_json(const std::string& target, const std::string& body) {
    return request("POST", target, body,
                   {{"Content-Type", "application/json"}});
  }
  response merge_patch(const std::string& target, const std::string& body) {
    return request("PATCH", target, body,
                   {{"Content-Type", "application/merge-patch+json"}});
  }

private:
  bool connect_();
  void close_();
  uint16_t port_;
  int fd_ = -1;
};

/// Sends `bytes` on a fresh connection to 127.0.0.1:port and returns every
/// byte the server sent until it closed the connection, `idle` passed
/// without a byte, or 10 s passed.
std::string raw_exchange(uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds idle
                         = std::chrono::milliseconds(2000));

/// The HTTP/1.1 responses in `bytes` (Content-Length framed), in order;
/// an incomplete one at the end is left out.
std::vector<response> parse_responses(const std::string& bytes);

} // namespace tmf::test
