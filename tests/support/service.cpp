#include "support/service.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef TMF629D_PATH
#  error "TMF629D_PATH must name the tmf629d binary"
#endif

namespace tmf::test {

// -- service -----------------------------------------------------------------

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<char*> make_argv(std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  return argv;
}

int wait_bounded(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    int status = 0;
    auto r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      return status;
    if (r < 0)
      return -1;
    if (std::chrono::steady_clock::now() >= deadline)
      return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

/// Lowers the soft RLIMIT_FSIZE of this (child) process to `bytes`.
void limit_file_size(uint64_t bytes) {
  rlimit lim;
  if (getrlimit(RLIMIT_FSIZE, &lim) != 0)
    _exit(126);
  lim.rlim_cur = static_cast<rlim_t>(bytes);
  if (lim.rlim_max != RLIM_INFINITY && lim.rlim_cur > lim.rlim_max)
    lim.rlim_cur = lim.rlim_max;
  if (setrlimit(RLIMIT_FSIZE, &lim) != 0)
    _exit(126);
}

} // namespace

std::string service::base_path() {
  return "/tmf-api/customerManagement/v4";
}

service::service(const std::string& data_dir, std::vector<std::string> args,
                 service_options opts) {
  log_path_ = data_dir + ".log";
  std::vector<std::string> all{TMF629D_PATH,
                               "--config-file=" TMF_SOURCE_DIR
                               "/config/test.ini",
                               "--tmf.data-dir=" + data_dir};
  all.insert(all.end(), args.begin(), args.end());
  int out[2];
  if (pipe(out) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    if (opts.max_descriptors > 0) {
      rlimit rl{static_cast<rlim_t>(opts.max_descriptors),
                static_cast<rlim_t>(opts.max_descriptors)};
      setrlimit(RLIMIT_NOFILE, &rl);
    }
    dup2(out[1], STDOUT_FILENO);
    auto log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                       0644);
    if (log_fd >= 0)
      dup2(log_fd, STDERR_FILENO);
    ::close(out[0]);
    if (opts.file_size_limit > 0)
      limit_file_size(opts.file_size_limit);
    auto argv = make_argv(all);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(out[1]);
  std::string seen;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const std::string marker = "listening on ";
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[512];
      auto n = ::read(out[0], buf, sizeof(buf));
      if (n <= 0)
        break;
      seen.append(buf, static_cast<size_t>(n));
      auto pos = seen.find(marker);
      auto eol = pos == std::string::npos ? pos : seen.find('\n', pos);
      if (eol != std::string::npos) {
        url_ = seen.substr(pos + marker.size(), eol - pos - marker.size());
        // `listening on http://... and https://...` with tls=on.
        const std::string tls_marker = " and https://";
        if (auto t = url_.find(tls_marker); t != std::string::npos) {
          auto tls_url = url_.substr(t + tls_marker.size());
          auto tls_colon = tls_url.rfind(':');
          tls_port_ = static_cast<uint16_t>(
            std::atoi(tls_url.c_str() + tls_colon + 1));
          url_.resize(t);
        }
        auto colon = url_.rfind(':');
        port_ = static_cast<uint16_t>(std::atoi(url_.c_str() + colon + 1));
        break;
      }
    }
  }
  ::close(out[0]); // later stdout writes go nowhere, which is fine
  if (port_ == 0) {
    stop(SIGKILL);
    throw std::runtime_error("tmf629d did not start; stdout: " + seen
                             + " log: " + log());
  }
}

service::~service() {
  if (pid_ > 0)
    stop(SIGKILL);
}

int service::stop(int sig, std::chrono::milliseconds limit) {
  if (pid_ <= 0)
    return -1;
  kill(pid_, sig);
  auto status = wait_bounded(pid_, limit);
  if (status == -1) {
    kill(pid_, SIGKILL);
    wait_bounded(pid_, std::chrono::milliseconds(5000));
  }
  pid_ = -1;
  return status;
}

std::string service::log() const {
  return read_file(log_path_);
}

int run_tmf629d(const std::vector<std::string>& args, std::string& output,
                service_options opts) {
  char tmpl[] = "/tmp/tmf629-run.XXXXXX";
  auto fd = mkstemp(tmpl);
  if (fd < 0)
    return -1;
  std::vector<std::string> all{TMF629D_PATH};
  all.insert(all.end(), args.begin(), args.end());
  auto pid = fork();
  if (pid == 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (opts.file_size_limit > 0)
      limit_file_size(opts.file_size_limit);
    auto argv = make_argv(all);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ::close(fd);
  auto status = wait_bounded(pid, std::chrono::milliseconds(20000));
  if (status == -1) {
    kill(pid, SIGKILL);
    wait_bounded(pid, std::chrono::milliseconds(5000));
  }
  output = read_file(tmpl);
  unlink(tmpl);
  if (status == -1 || !WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

} // namespace tmf::test
