#pragma once

// Test support for black-box tests of the real tmf629d binary: the service
// as a child process (127.0.0.1, free port, stopped by its own PID). The
// folder, client and samples it is used with come along.

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

#include "support/http_client.hpp"
#include "support/samples.hpp"
#include "support/temp_dir.hpp"

namespace tmf::test {

/// A resource limit for the service process: `setrlimit(resource, value)`
/// before exec (soft and hard).
struct child_limit {
  int resource;
  uint64_t value;
};

/// The tmf629d binary running as a child process with config/test.ini.
class service {
public:
  /// Starts tmf629d with `--tmf.data-dir=<data_dir>` and `args` (and
  /// `limits` set in the child), waits (at most 20 s) for its `listening
  /// on` line. Throws std::runtime_error with its log when it does not come
  /// up.
  service(const std::string& data_dir, std::vector<std::string> args = {},
          std::vector<child_limit> limits = {});

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
/// code and fills `output` with stdout and stderr together.
int run_tmf629d(const std::vector<std::string>& args, std::string& output);

} // namespace tmf::test
