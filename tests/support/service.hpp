#pragma once

// Test support for black-box tests of the real tmf629d binary: a temporary
// folder, the service as a child process (127.0.0.1, free port, stopped by
// its own PID), and a minimal blocking HTTP/1.1 client.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace tmf::test {

/// A fresh folder under /tmp, removed with its content on destruction.
class temp_dir {
public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const {
    return path_;
  }

private:
  std::string path_;
};

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

/// How the child process of a `service` is started besides its arguments.
struct service_options {
  /// The soft RLIMIT_FSIZE of the child in bytes (set after fork, before
  /// exec; it also bounds its log file); 0 keeps the inherited limit.
  uint64_t file_size_limit = 0;
};

/// The tmf629d binary running as a child process with config/test.ini.
class service {
public:
  /// Starts tmf629d with `--tmf.data-dir=<data_dir>` and `args`, waits (at
  /// most 20 s) for its `listening on` line. Throws std::runtime_error with
  /// its log when it does not come up.
  service(const std::string& data_dir, std::vector<std::string> args = {},
          service_options opts = {});

  /// Stops it with SIGKILL if it is still running.
  ~service();

  uint16_t port() const {
    return port_;
  }
  /// `/tmf-api/customerManagement/v4`
  static std::string base_path();
  /// `http://127.0.0.1:<port>/tmf-api/customerManagement/v4`
  const std::string& url() const {
    return url_;
  }
  pid_t pid() const {
    return pid_;
  }

  /// Sends `sig` and waits (bounded) for the exit; returns the exit status
  /// as from waitpid (or -1 when it did not stop in `limit`).
  int stop(int sig, std::chrono::milliseconds limit
                    = std::chrono::milliseconds(10000));

  /// What the service wrote to standard error so far.
  std::string log() const;

private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string url_;
  std::string log_path_;
};

/// Runs tmf629d with `args` to completion (bounded to 20 s); returns the exit
/// code (-1 when it did not exit by itself, e.g. killed by a signal) and
/// fills `output` with stdout and stderr together.
int run_tmf629d(const std::vector<std::string>& args, std::string& output,
                service_options opts = {});

/// A valid customer body for POST with a unique name.
std::string sample_customer(const std::string& name);

} // namespace tmf::test
