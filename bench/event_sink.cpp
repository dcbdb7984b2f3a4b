// event_sink: the hub listener of bench/. A minimal RESTinio 0.6.16 receiver
// (one I/O thread, single-thread traits, like ceiling_http no project
// library) that the harness subscribes to tmf629d's event hub.
//
//   POST <any path>  an event: answered 201 with an empty body; counted (per
//                    path, so each subscription can use its own path), and
//                    the delay from its `eventTime` to now is recorded
//   GET  /stats      {"count", "bad_time", "paths": {...}, "delay_ms":
//                    {"min","p50","p90","p99","max"}, "first_unix_s",
//                    "last_unix_s", "bytes"} since start or the last reset
//   POST /reset      forgets everything (204)
//
// `eventTime` is found in the body as text (`"eventTime":"...`, blanks
// around the colon allowed), no JSON library: RFC 3339 with any number of
// fraction digits and `Z` or a +-hh:mm offset. The service writes milliseconds, truncated, so every
// delay is overstated by 0-1 ms. Receive time and eventTime are both the
// machine's wall clock (CLOCK_REALTIME).
//
// Usage: event_sink [--address A] [--port P]   (port 0 = a free port)
// Prints "listening on http://A:P/" once accepting; stops on SIGTERM/SIGINT.

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <restinio/all.hpp>

namespace {

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size())
    return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

/// Microseconds since the epoch of an RFC 3339 date-time at the start of
/// `s` (`2026-12-01T15:28:55.123Z`, `...+01:00`); false when it is not one.
bool parse_rfc3339_us(std::string_view s, int64_t& out) {
  int y, mo, d, h, mi, sec;
  if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-'
      || !digits(s, 5, 2, mo) || s[7] != '-' || !digits(s, 8, 2, d)
      || (s[10] != 'T' && s[10] != 't' && s[10] != ' ')
      || !digits(s, 11, 2, h) || s[13] != ':' || !digits(s, 14, 2, mi)
      || s[16] != ':' || !digits(s, 17, 2, sec))
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
    return false;
  size_t pos = 19;
  int64_t frac_us = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_us += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start)
      return false;
  }
  int64_t offset_s = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':'
        || !digits(s, pos + 4, 2, om))
      return false;
    offset_s = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return false;
  }
  if (pos >= s.size() || s[pos] != '"')
    return false;
  int64_t secs = days_from_civil(y, static_cast<unsigned>(mo),
                                 static_cast<unsigned>(d))
                   * 86400
                 + h * 3600 + mi * 60 + sec - offset_s;
  out = secs * 1000000 + frac_us;
  return true;
}

/// The `eventTime` of an event body: the first `"eventTime"` key (the
/// bench's customers have no attribute of that name), then optional
/// whitespace, `:`, optional whitespace and the quoted date-time.
bool event_time_us(std::string_view body, int64_t& out) {
  constexpr std::string_view key = "\"eventTime\"";
  auto at = body.find(key);
  if (at == std::string_view::npos)
    return false;
  size_t pos = at + key.size();
  auto skip_ws = [&] {
    while (pos < body.size()
           && (body[pos] == ' ' || body[pos] == '\t' || body[pos] == '\n'
               || body[pos] == '\r'))
      ++pos;
  };
  skip_ws();
  if (pos >= body.size() || body[pos] != ':')
    return false;
  ++pos;
  skip_ws();
  if (pos >= body.size() || body[pos] != '"')
    return false;
  return parse_rfc3339_us(body.substr(pos + 1), out);
}

int64_t now_us() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

/// Everything since start or the last reset; touched by the one I/O
/// thread only.
struct sink_stats {
  static constexpr size_t max_samples = 20000000; // 160 MB at most
  uint64_t count = 0;
  uint64_t bad_time = 0; // events without a readable eventTime
  uint64_t bytes = 0;
  int64_t first_us = 0;
  int64_t last_us = 0;
  std::vector<int64_t> delays_us;
  std::map<std::string, uint64_t, std::less<>> paths;

  void record(std::string_view path, std::string_view body) {
    const int64_t now = now_us();
    if (count == 0)
      first_us = now;
    last_us = now;
    ++count;
    bytes += body.size();
    auto p = paths.find(path);
    if (p == paths.end())
      paths.emplace(std::string{path}, 1);
    else
      ++p->second;
    int64_t event_us = 0;
    if (!event_time_us(body, event_us)) {
      ++bad_time;
      return;
    }
    if (delays_us.size() < max_samples)
      delays_us.push_back(now - event_us);
  }

  std::string json() {
    auto pct = [this](double q) -> double {
      if (delays_us.empty())
        return 0;
      auto k = static_cast<size_t>(q * static_cast<double>(delays_us.size() - 1) + 0.5);
      std::nth_element(delays_us.begin(), delays_us.begin() + k,
                       delays_us.end());
      return static_cast<double>(delays_us[k]) / 1000.0;
    };
    double mn = delays_us.empty()
                  ? 0
                  : *std::min_element(delays_us.begin(), delays_us.end()) / 1000.0;
    double mx = delays_us.empty()
                  ? 0
                  : *std::max_element(delays_us.begin(), delays_us.end()) / 1000.0;
    double p50 = pct(0.50), p90 = pct(0.90), p99 = pct(0.99);
    std::string out;
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "{\"count\":%llu,\"bad_time\":%llu,\"bytes\":%llu,"
                  "\"samples\":%zu,\"first_unix_s\":%.6f,\"last_unix_s\":%.6f,"
                  "\"delay_ms\":{\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,"
                  "\"p99\":%.3f,\"max\":%.3f},\"paths\":{",
                  static_cast<unsigned long long>(count),
                  static_cast<unsigned long long>(bad_time),
                  static_cast<unsigned long long>(bytes), delays_us.size(),
                  first_us / 1e6, last_us / 1e6, mn, p50, p90, p99, mx);
    out += buf;
    bool first = true;
    for (const auto& [path, n] : paths) {
      if (!first)
        out += ',';
      first = false;
      out += '"';
      for (char c : path) // paths come from the harness; keep JSON valid
        if (c != '"' && c != '\\' && static_cast<unsigned char>(c) >= 0x20)
          out += c;
      out += "\":";
      out += std::to_string(n);
    }
    out += "}}\n";
    return out;
  }
};

} // namespace

int main(int argc, char** argv) {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--address") == 0 && i + 1 < argc)
      address = argv[++i];
    else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc)
      port = static_cast<uint16_t>(std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: %s [--address A] [--port P]\n", argv[0]);
      return 2;
    }
  }
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  sink_stats stats;
  stats.delays_us.reserve(1 << 20);
  unsigned bound_port = 0;

  using traits = restinio::default_single_thread_traits_t;
  auto settings = restinio::server_settings_t<traits>{};
  settings.address(address)
    .port(port)
    .max_pipelined_requests(1)
    .acceptor_post_bind_hook(
      [&bound_port](restinio::asio_ns::ip::tcp::acceptor& a) {
        // runs after bind, before listen: the line is printed below, once
        // run_async has returned (the acceptor listens)
        bound_port = a.local_endpoint().port();
      })
    .request_handler([&stats](restinio::request_handle_t req) {
      const auto method = req->header().method();
      const auto raw_path = req->header().path();
      const std::string_view path{raw_path.data(), raw_path.size()};
      if (method == restinio::http_method_post()) {
        if (path == "/reset") {
          stats = sink_stats{};
          stats.delays_us.reserve(1 << 20);
          return req->create_response(restinio::status_no_content()).done();
        }
        stats.record(path, std::string_view{req->body()});
        return req->create_response(restinio::status_created()).done();
      }
      if (method == restinio::http_method_get() && path == "/stats")
        return req->create_response(restinio::status_ok())
          .append_header(restinio::http_field::content_type,
                         "application/json")
          .set_body(stats.json())
          .done();
      return req->create_response(restinio::status_not_found()).done();
    });
  try {
    auto server = restinio::run_async<traits>(restinio::own_io_context(),
                                              std::move(settings), 1u);
    std::printf("listening on http://%s:%u/\n", address.c_str(), bound_port);
    std::fflush(stdout);
    int sig = 0;
    sigwait(&stop_signals, &sig);
    server->stop();
    server->wait();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "event_sink: %s\n", e.what());
    return 1;
  }
  return 0;
}
