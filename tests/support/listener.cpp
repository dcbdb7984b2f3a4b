#include "support/listener.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace tmf::test {

namespace {

int listen_on(uint16_t port, uint16_t& bound) {
  auto fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    throw std::runtime_error("socket failed");
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0
      || listen(fd, 64) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot listen on 127.0.0.1");
  }
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  bound = ntohs(addr.sin_port);
  return fd;
}

/// Reads one request from `fd` into `out`; false on EOF or error.
bool read_request(int fd, std::string& buffer, test_listener::request& out) {
  char chunk[16384];
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0)
      return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  std::istringstream in{buffer.substr(0, header_end)};
  std::string line;
  std::getline(in, line);
  std::istringstream first{line};
  first >> out.method >> out.target;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    auto name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    auto value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    out.headers[name] = value;
  }
  auto length = std::strtoull(out.headers["content-length"].c_str(), nullptr,
                              10);
  auto need = header_end + 4 + length;
  while (buffer.size() < need) {
    auto n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0)
      return false;
    buffer.append(chunk, static_cast<size_t>(n));
  }
  out.body = buffer.substr(header_end + 4, length);
  buffer.erase(0, need);
  return true;
}

} // namespace

test_listener::test_listener() {
  start();
}

test_listener::~test_listener() {
  stop();
}

std::string test_listener::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void test_listener::script(std::vector<answer> next) {
  std::lock_guard<std::mutex> guard{mtx_};
  script_ = std::move(next);
}

void test_listener::set_fallback(answer a) {
  std::lock_guard<std::mutex> guard{mtx_};
  fallback_ = a;
}

size_t test_listener::connections() {
  std::lock_guard<std::mutex> guard{mtx_};
  return accepted_;
}

std::vector<test_listener::request> test_listener::received() {
  std::lock_guard<std::mutex> guard{mtx_};
  return received_;
}

bool test_listener::wait_for(size_t n, std::chrono::milliseconds limit) {
  std::unique_lock<std::mutex> guard{mtx_};
  return cv_.wait_for(guard, limit, [&] { return received_.size() >= n; });
}

test_listener::answer test_listener::next_answer() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (script_.empty())
    return fallback_;
  auto a = script_.front();
  script_.erase(script_.begin());
  return a;
}

void test_listener::start() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (running_)
    return;
  listen_fd_ = listen_on(port_, port_);
  running_ = true;
  acceptor_ = std::thread{[this, fd = listen_fd_] { accept_loop(fd); }};
}

void test_listener::stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!running_)
      return;
    running_ = false;
    ::shutdown(listen_fd_, SHUT_RDWR);
    for (auto fd : connections_)
      ::shutdown(fd, SHUT_RDWR);
    threads.swap(threads_);
  }
  acceptor_.join();
  for (auto& t : threads)
    t.join();
  std::lock_guard<std::mutex> guard{mtx_};
  ::close(listen_fd_);
  for (auto fd : connections_)
    ::close(fd);
  connections_.clear();
}

void test_listener::accept_loop(int listen_fd) {
  for (;;) {
    auto fd = ::accept(listen_fd, nullptr, nullptr);
    std::lock_guard<std::mutex> guard{mtx_};
    if (fd < 0 || !running_) {
      if (fd >= 0)
        ::close(fd);
      return;
    }
    connections_.push_back(fd);
    ++accepted_;
    threads_.emplace_back([this, fd] { serve(fd); });
  }
}

void test_listener::serve(int fd) {
  std::string buffer;
  for (;;) {
    request req;
    if (!read_request(fd, buffer, req))
      return;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      received_.push_back(req);
    }
    cv_.notify_all();
    auto a = next_answer();
    if (a.delay.count() > 0) {
      // Wait, but give up as soon as the listener stops.
      pollfd p{fd, POLLRDHUP, 0};
      poll(&p, 1, static_cast<int>(a.delay.count()));
    }
    std::string resp = "HTTP/1.1 " + std::to_string(a.status) + " Status\r\n"
                       "Content-Length: 0\r\n";
    if (!a.retry_after.empty())
      resp += "Retry-After: " + a.retry_after + "\r\n";
    resp += "\r\n";
    if (::send(fd, resp.data(), resp.size(), MSG_NOSIGNAL) < 0)
      return;
  }
}

} // namespace tmf::test
