#pragma once

// Captures what this process writes to standard error (the service's log,
// actors/log.hpp) while a test runs, so that tests can count log lines.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <unistd.h>

namespace tmf::test {

/// Redirects standard error to a temporary file while it lives.
class stderr_capture {
public:
  stderr_capture() {
    char tmpl[] = "/tmp/tmf-stderr-XXXXXX";
    fd_ = ::mkstemp(tmpl);
    if (fd_ < 0)
      return;
    path_ = tmpl;
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(fd_, STDERR_FILENO);
  }

  ~stderr_capture() {
    restore();
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(path_.c_str());
    }
  }

  stderr_capture(const stderr_capture&) = delete;
  stderr_capture& operator=(const stderr_capture&) = delete;

  /// What was captured so far (capturing goes on).
  std::string text() const {
    std::fflush(stderr);
    std::ifstream in{path_};
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

private:
  void restore() {
    if (saved_ < 0)
      return;
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    saved_ = -1;
  }

  int fd_ = -1;
  int saved_ = -1;
  std::string path_;
};

/// How often `part` occurs in `text`.
inline size_t count_of(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (auto pos = text.find(part); pos != std::string::npos;
       pos = text.find(part, pos + 1))
    ++n;
  return n;
}

} // namespace tmf::test
