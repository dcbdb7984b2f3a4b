#pragma once

// The notifier's HTTP client: POSTs events to hub callbacks with libcurl's
// multi interface on a thread of its own, many at once, reusing
// connections, each bounded by a connect and a total timeout. It never
// blocks its caller; each delivery ends exactly once, in `on_done`, called
// on its thread. Addresses a callback resolves to are checked against the
// callback policy before connecting (a name cannot be made to point at a
// denied address after registration).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actors/protocol.hpp"
#include "domain/hub.hpp"

namespace tmf {

/// One POST to make.
struct delivery {
  uint64_t tag = 0;     ///< the caller's reference, returned in the result
  std::string url;      ///< the callback, as registered
  std::string event_id; ///< sent in the X-Event-ID header
  std::string body;     ///< the event (JSON)
};


class deliverer {
public:
  struct options {
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds total_timeout{10000};
    size_t max_connections = 64; ///< transfers (and connections) at most
    domain::callback_policy policy;
    /// Niceness added to the delivery thread: with 10, deliveries get
    /// about a tenth of a core the API wants, and never starve (the events
    /// wait in the outbox meanwhile). 0 leaves the thread as it is.
    int nice = 0;
  };

  /// Starts the thread.
  deliverer(options opts, std::function<void(delivery_result)> on_done);

  /// Stops the thread; deliveries still running end with an error result.
  ~deliverer();

  deliverer(const deliverer&) = delete;
  deliverer& operator=(const deliverer&) = delete;

  /// Queues `d` (thread-safe, never blocks).
  void submit(delivery d);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace tmf
