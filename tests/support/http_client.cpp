#include "support/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tmf::test {

// -- http_client -------------------------------------------------------------

std::string response::header(const std::string& lower_name) const {
  auto i = headers.find(lower_name);
  return i == headers.end() ? std::string{} : i->second;
}

http_client::http_client(uint16_t port) : port_(port) {
  // nop
}

http_client::~http_client() {
  close_();
}

bool http_client::connect_() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0)
    return false;
  timeval tv{10, 0};
  setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close_();
    return false;
  }
  return true;
}

void http_client::close_() {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = -1;
}

namespace {

bool send_all(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    auto n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EINTR)
        continue;
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  return true;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return s;
}

} // namespace

response http_client::request(const std::string& method,
                              const std::string& target,
                              const std::string& body,
                              const std::map<std::string, std::string>& hdrs) {
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  auto custom_host = std::any_of(hdrs.begin(), hdrs.end(), [](const auto& h) {
    return lower(h.first) == "host";
  });
  if (!custom_host)
    req += "Host: 127.0.0.1:" + std::to_string(port_) + "\r\n";
  for (const auto& [name, value] : hdrs)
    req += name + ": " + value + "\r\n";
  if (!body.empty() || method == "POST" || method == "PATCH")
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  req += "\r\n";
  req += body;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (fd_ < 0 && !connect_())
      return {};
    if (!send_all(fd_, req)) {
      close_();
      continue;
    }
    std::string buf;
    char chunk[65536];
    size_t header_end = std::string::npos;
    response resp;
    size_t content_length = 0;
    bool failed = false;
    while (true) {
      if (header_end == std::string::npos) {
        header_end = buf.find("\r\n\r\n");
        if (header_end != std::string::npos) {
          std::istringstream in{buf.substr(0, header_end)};
          std::string line;
          std::getline(in, line);
          if (line.size() < 12) {
            failed = true;
            break;
          }
          resp.status = std::atoi(line.c_str() + 9);
          while (std::getline(in, line)) {
            if (!line.empty() && line.back() == '\r')
              line.pop_back();
            auto colon = line.find(':');
            if (colon == std::string::npos)
              continue;
            auto value = line.substr(colon + 1);
            value.erase(0, value.find_first_not_of(' '));
            resp.headers[lower(line.substr(0, colon))] = value;
          }
          content_length = std::strtoull(
            resp.header("content-length").c_str(), nullptr, 10);
        }
      }
      if (header_end != std::string::npos
          && buf.size() >= header_end + 4 + content_length)
        break;
      auto n = ::recv(fd_, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        failed = true;
        break;
      }
      buf.append(chunk, static_cast<size_t>(n));
    }
    if (failed) {
      close_();
      if (buf.empty() && attempt == 0)
        continue; // the server closed an idle keep-alive connection
      return {};
    }
    resp.body = buf.substr(header_end + 4, content_length);
    if (lower(resp.header("connection")) == "close")
      close_();
    return resp;
  }
  return {};
}

// -- raw connections ---------------------------------------------------------

std::string raw_exchange(uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds idle) {
  auto fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return {};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0
      && send_all(fd, bytes)) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    char chunk[65536];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (poll(&p, 1, static_cast<int>(idle.count())) <= 0)
        break;
      auto n = ::recv(fd, chunk, sizeof(chunk), 0);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      got.append(chunk, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  return got;
}

std::vector<response> parse_responses(const std::string& bytes) {
  std::vector<response> out;
  size_t pos = 0;
  while (pos < bytes.size()) {
    auto header_end = bytes.find("\r\n\r\n", pos);
    if (header_end == std::string::npos)
      break;
    std::istringstream in{bytes.substr(pos, header_end - pos)};
    std::string line;
    std::getline(in, line);
    if (line.size() < 12)
      break;
    response resp;
    resp.status = std::atoi(line.c_str() + 9);
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      auto colon = line.find(':');
      if (colon == std::string::npos)
        continue;
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      resp.headers[lower(line.substr(0, colon))] = value;
    }
    auto length = std::strtoull(resp.header("content-length").c_str(),
                                nullptr, 10);
    if (header_end + 4 + length > bytes.size())
      break;
    resp.body = bytes.substr(header_end + 4, length);
    out.push_back(std::move(resp));
    pos = header_end + 4 + length;
  }
  return out;
}

} // namespace tmf::test
