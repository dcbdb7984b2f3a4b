// openloop: a small open-loop (constant-rate) HTTP/1.1 GET load generator
// for bench/. Unlike wrk (closed loop), requests are due at fixed intended
// times t0 + i/rate whatever the server does; a request that finds no free
// connection waits in a backlog, and its latency is measured from its
// INTENDED send time, so server stalls show up in the percentiles instead of
// silently lowering the offered load (no coordinated omission).
//
// Usage: openloop --host 127.0.0.1 --port P --base /tmf-api/customerManagement/v4
//                 --ids FILE --connections N --rate R --seconds S [--suffix ?fields=a,b]
// Requests: GET {base}/customer/{random id from FILE}{suffix}.
// Prints one JSON line: offered and achieved rates, completed, non2xx,
// socket errors, latency percentiles from intended time and from actual send.

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <random>
#include <string>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;

double now_s() {
  return std::chrono::duration<double>(clock_type::now().time_since_epoch())
    .count();
}

struct conn {
  int fd = -1;
  bool busy = false;
  bool connected = false;
  std::string out;
  size_t out_off = 0;
  std::string in;
  double intended = 0;
  double sent = 0;
};

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string base = "/tmf-api/customerManagement/v4";
  std::string ids_file;
  std::string suffix;
  int connections = 16;
  double rate = 1000;
  double seconds = 3;
};

int open_conn(const options& o) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(o.port));
  inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0
      && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

// Returns the length of one complete response at the start of `in` (0 when
// incomplete) and its status; -1 on a malformed response.
long complete_response(const std::string& in, int& status) {
  auto end = in.find("\r\n\r\n");
  if (end == std::string::npos)
    return 0;
  if (in.compare(0, 5, "HTTP/") != 0)
    return -1;
  auto sp = in.find(' ');
  status = std::atoi(in.c_str() + sp + 1);
  long length = 0;
  // case-insensitive search for content-length
  size_t pos = 0;
  while (pos < end) {
    auto eol = in.find("\r\n", pos);
    if (eol == std::string::npos || eol > end)
      break;
    if (eol - pos > 15 && strncasecmp(in.c_str() + pos, "content-length:", 15) == 0)
      length = std::atol(in.c_str() + pos + 15);
    pos = eol + 2;
  }
  long total = static_cast<long>(end + 4) + length;
  return static_cast<long>(in.size()) >= total ? total : 0;
}

double pct(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  auto idx = static_cast<size_t>(p * (v.size() - 1));
  std::nth_element(v.begin(), v.begin() + idx, v.end());
  return v[idx];
}

} // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--host") o.host = v;
    else if (k == "--port") o.port = std::atoi(v.c_str());
    else if (k == "--base") o.base = v;
    else if (k == "--ids") o.ids_file = v;
    else if (k == "--suffix") o.suffix = v;
    else if (k == "--connections") o.connections = std::atoi(v.c_str());
    else if (k == "--rate") o.rate = std::atof(v.c_str());
    else if (k == "--seconds") o.seconds = std::atof(v.c_str());
    else {
      std::fprintf(stderr, "openloop: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  std::vector<std::string> requests;
  {
    std::ifstream in(o.ids_file);
    std::string id;
    std::vector<std::string> ids;
    while (std::getline(in, id))
      if (!id.empty())
        ids.push_back(id);
    if (ids.empty() || o.port == 0 || o.rate <= 0 || o.connections < 1) {
      std::fprintf(stderr, "openloop: need --port, --ids FILE (non-empty), "
                           "--rate > 0, --connections >= 1\n");
      return 2;
    }
    std::mt19937_64 rng(42);
    for (size_t i = 0; i < std::min<size_t>(ids.size() * 2, 50000); ++i)
      requests.push_back("GET " + o.base + "/customer/"
                         + ids[rng() % ids.size()] + o.suffix
                         + " HTTP/1.1\r\nHost: " + o.host + "\r\n\r\n");
  }
  int ep = epoll_create1(0);
  std::vector<conn> conns(o.connections);
  uint64_t socket_errors = 0;
  auto arm = [&](size_t i, bool want_write) {
    epoll_event ev{};
    ev.events = EPOLLIN | (want_write ? static_cast<uint32_t>(EPOLLOUT) : 0u);
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
  };
  auto reopen = [&](size_t i) {
    if (conns[i].fd >= 0) {
      epoll_ctl(ep, EPOLL_CTL_DEL, conns[i].fd, nullptr);
      close(conns[i].fd);
    }
    conns[i] = conn{};
    conns[i].fd = open_conn(o);
    if (conns[i].fd < 0) {
      ++socket_errors;
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT;
    ev.data.u64 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
  };
  for (size_t i = 0; i < conns.size(); ++i)
    reopen(i);

  std::deque<double> backlog; // intended send times of due requests
  std::vector<double> lat_intended, lat_sent;
  lat_intended.reserve(static_cast<size_t>(o.rate * o.seconds) + 16);
  lat_sent.reserve(lat_intended.capacity());
  uint64_t scheduled = 0, completed = 0, non2xx = 0;
  size_t max_backlog = 0;
  size_t next_req = 0;
  const double interval = 1.0 / o.rate;
  // give the connections a moment to be established
  const double t0 = now_s() + 0.05;
  const double t_end = t0 + o.seconds;
  const double hard_end = t_end + 5.0; // drain in-flight requests, bounded
  std::vector<size_t> idle;

  auto try_send = [&](size_t i) {
    auto& c = conns[i];
    if (c.busy || !c.connected || backlog.empty())
      return;
    c.busy = true;
    c.intended = backlog.front();
    backlog.pop_front();
    c.out = requests[next_req++ % requests.size()];
    c.out_off = 0;
    c.sent = now_s();
    ssize_t n = send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n > 0)
      c.out_off = static_cast<size_t>(n);
    if (c.out_off < c.out.size())
      arm(i, true);
  };

  epoll_event events[256];
  for (;;) {
    double t = now_s();
    // enqueue every request that is due by now
    while (t < t_end) {
      double due = t0 + scheduled * interval;
      if (due > t)
        break;
      backlog.push_back(due);
      ++scheduled;
    }
    max_backlog = std::max(max_backlog, backlog.size());
    for (size_t i = 0; i < conns.size() && !backlog.empty(); ++i)
      try_send(i);
    bool in_flight = std::any_of(conns.begin(), conns.end(),
                                 [](const conn& c) { return c.busy; });
    if (t >= t_end && backlog.empty() && !in_flight)
      break;
    if (t >= hard_end)
      break;
    double next_due = t < t_end ? t0 + scheduled * interval : t + 0.01;
    int timeout_ms = static_cast<int>(std::max(0.0, (next_due - t) * 1000));
    int n = epoll_wait(ep, events, 256, std::min(timeout_ms, 10));
    for (int k = 0; k < n; ++k) {
      size_t i = events[k].data.u64;
      auto& c = conns[i];
      if (events[k].events & (EPOLLERR | EPOLLHUP)) {
        ++socket_errors;
        bool was_busy = c.busy;
        double intended = c.intended;
        reopen(i);
        if (was_busy)
          backlog.push_front(intended); // retry it, still timed from intent
        continue;
      }
      if (events[k].events & EPOLLOUT) {
        if (!c.connected) {
          c.connected = true;
          arm(i, false);
        }
        if (c.busy && c.out_off < c.out.size()) {
          ssize_t w = send(c.fd, c.out.data() + c.out_off,
                           c.out.size() - c.out_off, MSG_NOSIGNAL);
          if (w > 0)
            c.out_off += static_cast<size_t>(w);
          if (c.out_off >= c.out.size())
            arm(i, false);
        }
      }
      if (events[k].events & EPOLLIN) {
        char buf[65536];
        for (;;) {
          ssize_t r = recv(c.fd, buf, sizeof buf, 0);
          if (r > 0) {
            c.in.append(buf, static_cast<size_t>(r));
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
            ++socket_errors;
            bool was_busy = c.busy;
            double intended = c.intended;
            reopen(i);
            if (was_busy)
              backlog.push_front(intended);
          }
          break;
        }
        if (conns[i].fd < 0 || !conns[i].busy)
          continue;
        int status = 0;
        long len = complete_response(c.in, status);
        if (len < 0) {
          ++socket_errors;
          reopen(i);
          continue;
        }
        if (len > 0) {
          double done = now_s();
          c.in.erase(0, static_cast<size_t>(len));
          c.busy = false;
          ++completed;
          if (status < 200 || status > 299)
            ++non2xx;
          lat_intended.push_back((done - c.intended) * 1e6);
          lat_sent.push_back((done - c.sent) * 1e6);
          try_send(i);
        }
      }
    }
  }
  double elapsed = now_s() - t0;
  uint64_t unfinished = backlog.size();
  for (auto& c : conns) {
    if (c.busy)
      ++unfinished;
    if (c.fd >= 0)
      close(c.fd);
  }
  std::printf(
    "{\"offered_rps\":%.1f,\"achieved_rps\":%.1f,\"scheduled\":%llu,"
    "\"completed\":%llu,\"unfinished\":%llu,\"non2xx\":%llu,"
    "\"socket_errors\":%llu,\"max_backlog\":%zu,\"connections\":%d,"
    "\"seconds\":%.3f,"
    "\"latency_from_intended_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
    "\"p999\":%.1f,\"max\":%.1f},"
    "\"latency_from_send_us\":{\"p50\":%.1f,\"p90\":%.1f,\"p99\":%.1f,"
    "\"p999\":%.1f,\"max\":%.1f}}\n",
    o.rate, completed / std::max(elapsed, 1e-9),
    static_cast<unsigned long long>(scheduled),
    static_cast<unsigned long long>(completed),
    static_cast<unsigned long long>(unfinished),
    static_cast<unsigned long long>(non2xx),
    static_cast<unsigned long long>(socket_errors), max_backlog, o.connections,
    elapsed, pct(lat_intended, 0.5), pct(lat_intended, 0.9),
    pct(lat_intended, 0.99), pct(lat_intended, 0.999),
    pct(lat_intended, 1.0), pct(lat_sent, 0.5), pct(lat_sent, 0.9),
    pct(lat_sent, 0.99), pct(lat_sent, 0.999), pct(lat_sent, 1.0));
  return 0;
}
