#pragma once

// Test support for black-box tests of the real tmf629d binary: the service
// as a child process (127.0.0.1, free port, stopped by its own PID). The
// folder, client and samples it is used with come along.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

#include "support/http_client.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

namespace tmf::test {

/// How the child process of a `service` is started besides its arguments.
struct service_options {
  /// The soft RLIMIT_FSIZE of the child in bytes (set after fork, before
  /// exec; it also bounds its log file); 0 keeps the inherited limit.
  uint64_t file_size_limit = 0;
  /// RLIMIT_NOFILE of the child (soft and hard); 0 keeps the inherited one.
  uint64_t max_descriptors = 0;
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
  /// The HTTPS port when it listens for HTTPS too (tls=on), else 0.
  uint16_t tls_port() const {
    return tls_port_;
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
  uint16_t tls_port_ = 0;
  std::string url_;
  std::string log_path_;
};

/// Runs tmf629d with `args` to completion (bounded to 20 s); returns the exit
/// code (-1 when it did not exit by itself, e.g. killed by a signal) and
/// fills `output` with stdout and stderr together.
int run_tmf629d(const std::vector<std::string>& args, std::string& output,
                service_options opts = {});

} // namespace tmf::test
