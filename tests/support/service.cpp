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

// -- temp_dir ----------------------------------------------------------------

temp_dir::temp_dir() {
  char tmpl[] = "/tmp/tmf629-test.XXXXXX";
  if (!mkdtemp(tmpl))
    throw std::runtime_error("mkdtemp failed");
  path_ = tmpl;
}

temp_dir::~temp_dir() {
  std::string cmd = "rm -rf '" + path_ + "'";
  if (std::system(cmd.c_str()) != 0)
    std::fprintf(stderr, "cannot remove %s\n", path_.c_str());
}

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

std::string sample_customer(const std::string& name) {
  return R"({"name":")" + name + R"(","status":"initialized",)"
         R"("@type":"Customer","@baseType":"PartyRole",)"
         R"("engagedParty":{"id":"party-)" + name
         + R"(","name":")" + name + R"(","@referredType":"Organization"},)"
           R"("contactMedium":[{"mediumType":"email","preferred":true,)"
           R"("characteristic":{"emailAddress":"info@example.com"}}],)"
           R"("characteristic":[{"name":"segment","value":"gold"}],)"
           R"("validFor":{"startDateTime":"2024-01-01T00:00:00Z"}})";
}

} // namespace tmf::test
