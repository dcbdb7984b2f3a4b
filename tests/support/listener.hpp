#pragma once

// A hub subscriber for tests: an HTTP/1.1 server on 127.0.0.1 in the test
// process that records every request and answers as the test scripts it
// (a status, a delay long enough to time a client out, Retry-After). It
// can stop listening and start again on the same port.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tmf::test {

class test_listener {
public:
  struct request {
    std::string method;
    std::string target;
    std::map<std::string, std::string> headers; ///< lower-case names
    std::string body;
  };

  struct answer {
    int status = 201;
    std::chrono::milliseconds delay{0}; ///< wait this long before answering
    std::string retry_after;            ///< Retry-After header, if not empty
  };

  test_listener();
  ~test_listener();
  test_listener(const test_listener&) = delete;
  test_listener& operator=(const test_listener&) = delete;

  uint16_t port() const {
    return port_;
  }

  /// `http://127.0.0.1:<port><path>`.
  std::string url(const std::string& path) const;

  /// Answers for the next requests, in order; then `fallback`.
  void script(std::vector<answer> next);
  void set_fallback(answer a);

  /// Connections accepted so far.
  size_t connections();

  /// Every request received (answered or not) so far.
  std::vector<request> received();

  /// Waits until at least `n` requests have been received.
  bool wait_for(size_t n, std::chrono::milliseconds limit
                          = std::chrono::milliseconds(10000));

  /// Stops listening and drops every connection (connects are refused).
  void stop();

  /// Listens again, on the same port.
  void start();

private:
  void accept_loop(int listen_fd);
  void serve(int fd);
  answer next_answer();

  uint16_t port_ = 0;
  int listen_fd_ = -1;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<request> received_;
  std::vector<answer> script_;
  answer fallback_;
  std::vector<int> connections_;
  size_t accepted_ = 0;
  std::vector<std::thread> threads_;
  std::thread acceptor_;
  bool running_ = false;
};

} // namespace tmf::test
