#include "actors/deliverer.hpp"

#include <atomic>
#include <cctype>
#include <ctime>
#include <cstring>
#include <deque>
#include <list>
#include <mutex>
#include <thread>
#include <vector>

#include <curl/curl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>
#include <sys/socket.h>

namespace tmf {

namespace {

using clock = std::chrono::steady_clock;

/// Parses a Retry-After value: delay-seconds or an HTTP date.
int64_t parse_retry_after(std::string value) {
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n'
                            || value.back() == ' '))
    value.pop_back();
  while (!value.empty() && value.front() == ' ')
    value.erase(0, 1);
  if (value.empty())
    return -1;
  if (value.find_first_not_of("0123456789") == std::string::npos)
    return value.size() > 9 ? -1 : std::stoll(value) * 1000;
  auto when = curl_getdate(value.c_str(), nullptr);
  if (when < 0)
    return -1;
  auto now = static_cast<int64_t>(std::time(nullptr));
  return when > now ? (static_cast<int64_t>(when) - now) * 1000 : 0;
}

} // namespace

/// One delivery in flight: its easy handle and what it needs to live.
struct transfer {
  delivery job;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  clock::time_point started;
  int64_t retry_after_ms = -1;
  bool refused_address = false;
  const domain::callback_policy* policy = nullptr;

  ~transfer() {
    if (headers != nullptr)
      curl_slist_free_all(headers);
    if (easy != nullptr)
      curl_easy_cleanup(easy);
  }
};

namespace {

size_t discard_body(char*, size_t size, size_t n, void*) {
  return size * n;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto len = size * n;
  auto* t = static_cast<transfer*>(user);
  constexpr std::string_view name = "retry-after:";
  if (len > name.size()) {
    std::string line{data, len};
    std::string head = line.substr(0, name.size());
    for (auto& c : head)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == name)
      t->retry_after_ms = parse_retry_after(line.substr(name.size()));
  }
  return len;
}

/// Refuses to connect to an address the callback policy denies.
curl_socket_t open_socket(void* user, curlsocktype, curl_sockaddr* addr) {
  auto* t = static_cast<transfer*>(user);
  const unsigned char* bytes = nullptr;
  size_t size = 0;
  if (addr->family == AF_INET) {
    bytes = reinterpret_cast<const unsigned char*>(
      &reinterpret_cast<const sockaddr_in*>(&addr->addr)->sin_addr);
    size = 4;
  } else if (addr->family == AF_INET6) {
    bytes = reinterpret_cast<const unsigned char*>(
      &reinterpret_cast<const sockaddr_in6*>(&addr->addr)->sin6_addr);
    size = 16;
  }
  if (bytes == nullptr || !t->policy->allows_address(bytes, size)) {
    t->refused_address = true;
    return CURL_SOCKET_BAD;
  }
  return socket(addr->family, addr->socktype, addr->protocol);
}

} // namespace

struct deliverer::impl {
  options opts;
  std::function<void(delivery_result)> on_done;
  CURLM* multi = nullptr;
  std::mutex mtx;
  std::deque<delivery> queue; ///< guarded by mtx
  std::atomic<bool> stopping{false};
  std::list<transfer> running; ///< the thread's only
  std::deque<delivery> backlog; ///< the thread's only: over max_connections
  std::thread thread;

  void start(delivery job) {
    auto& t = running.emplace_back();
    t.job = std::move(job);
    t.started = clock::now();
    t.policy = &opts.policy;
    t.easy = curl_easy_init();
    if (t.easy == nullptr) {
      finish(t, 0, "cannot create a transfer");
      running.pop_back();
      return;
    }
    t.headers = curl_slist_append(t.headers,
                                  "Content-Type: application/json");
    t.headers = curl_slist_append(t.headers,
                                  ("X-Event-ID: " + t.job.event_id).c_str());
    t.headers = curl_slist_append(t.headers, "Expect:");
    auto* e = t.easy;
    curl_easy_setopt(e, CURLOPT_URL, t.job.url.c_str());
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.job.body.data());
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(t.job.body.size()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(opts.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                     static_cast<long>(opts.total_timeout.count()));
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, &t);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "tmf629d-notifier");
    curl_multi_add_handle(multi, e);
  }

  void finish(transfer& t, int status, std::string error) {
    delivery_result r;
    r.tag = t.job.tag;
    r.status = status;
    r.error = std::move(error);
    r.retry_after_ms = t.retry_after_ms;
    r.latency_us = std::chrono::duration_cast<std::chrono::microseconds>(
                     clock::now() - t.started)
                     .count();
    on_done(std::move(r));
  }

  void collect() {
    int left = 0;
    while (auto* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg != CURLMSG_DONE)
        continue;
      transfer* t = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
      long status = 0;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
      std::string error;
      if (msg->data.result != CURLE_OK) {
        status = 0;
        error = t->refused_address
                  ? "the callback resolved to an address that is not "
                    "allowed"
                  : curl_easy_strerror(msg->data.result);
      }
      curl_multi_remove_handle(multi, msg->easy_handle);
      finish(*t, static_cast<int>(status), std::move(error));
      running.remove_if([t](const transfer& x) { return &x == t; });
    }
  }

  void loop() {
    if (opts.nice > 0) // Linux: a thread id names the thread alone
      setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), opts.nice);
    while (!stopping.load()) {
      {
        std::lock_guard<std::mutex> guard{mtx};
        std::move(queue.begin(), queue.end(), std::back_inserter(backlog));
        queue.clear();
      }
      while (!backlog.empty() && running.size() < opts.max_connections) {
        start(std::move(backlog.front()));
        backlog.pop_front();
      }
      int active = 0;
      curl_multi_perform(multi, &active);
      collect();
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    for (auto& t : running) {
      curl_multi_remove_handle(multi, t.easy);
      finish(t, 0, "the service is stopping");
    }
    running.clear();
    std::lock_guard<std::mutex> guard{mtx};
    std::move(queue.begin(), queue.end(), std::back_inserter(backlog));
    queue.clear();
    for (auto& job : backlog) {
      transfer t;
      t.job = std::move(job);
      t.started = clock::now();
      finish(t, 0, "the service is stopping");
    }
    backlog.clear();
  }
};

deliverer::deliverer(options opts,
                     std::function<void(delivery_result)> on_done)
  : impl_(std::make_unique<impl>()) {
  static const auto global_init = curl_global_init(CURL_GLOBAL_DEFAULT);
  static_cast<void>(global_init);
  impl_->opts = std::move(opts);
  impl_->on_done = std::move(on_done);
  impl_->multi = curl_multi_init();
  curl_multi_setopt(impl_->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                    static_cast<long>(impl_->opts.max_connections));
  impl_->thread = std::thread{[this] { impl_->loop(); }};
}

deliverer::~deliverer() {
  impl_->stopping = true;
  curl_multi_wakeup(impl_->multi);
  impl_->thread.join();
  curl_multi_cleanup(impl_->multi);
}

void deliverer::submit(delivery d) {
  {
    std::lock_guard<std::mutex> guard{impl_->mtx};
    impl_->queue.push_back(std::move(d));
  }
  curl_multi_wakeup(impl_->multi);
}

} // namespace tmf
