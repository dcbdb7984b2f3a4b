#pragma once

// The notifier: keeps the hub subscriptions and delivers the events of the
// outbox to them, never on the request path.
//
// Guarantees. Events are stored in the outbox in the transaction of their
// write (actors/store_writer.cpp), so none is sent before its commit and
// none committed is forgotten. A subscription receives every event
// committed after it was stored and none from before; it is matched against
// its query when the event is delivered. Per subscription, the events of
// one customer are delivered in commit order; events of other customers do
// not wait for them, and a slow or dead subscriber delays nobody else.
// Delivery is at least once: a subscription's position (every event up to
// it handled) is stored shortly after it moves, so a restart resends what
// came after it, with the same eventId. Failed attempts (no answer, 5xx,
// 429, 408) are retried with exponential backoff and jitter, honouring
// Retry-After; other answers, and the end of the retry budget, park the
// event, to be listed and replayed (`GET/POST /hub/{id}/parked`).
// An outbox event is removed once every subscription has handled it.

#include <chrono>
#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/metrics.hpp"
#include "actors/protocol.hpp"
#include "domain/hub.hpp"
#include "domain/query_string.hpp"

namespace tmf::persistence {
class environment;
}

namespace tmf {

struct notifier_config {
  store_writer_actor writer;
  std::shared_ptr<persistence::environment> env; ///< outbox and hub reads
  domain::list_limits limits; ///< caps of subscription queries
  domain::callback_policy policy;
  size_t max_callback_length = 2048;
  size_t max_subscriptions = 100;
  /// Events of one subscription held in memory at once (sending, waiting
  /// for an earlier event of their customer, or backing off).
  size_t window = 64;
  uint64_t window_bytes = 4 << 20;
  caf::timespan first_retry = std::chrono::seconds(1);
  caf::timespan max_retry = std::chrono::minutes(5);
  caf::timespan retry_budget = std::chrono::hours(24);
  caf::timespan flush_interval = std::chrono::milliseconds(100);
  caf::timespan stats_interval = std::chrono::seconds(60);
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds delivery_timeout{10000};
  size_t max_connections = 64;
  /// Niceness of the delivery thread, so deliveries yield the CPU to
  /// requests (10 under cpu-scheduling=batch).
  int delivery_nice = 0;
  /// Backlog, subscriptions, deliveries, retries and parked events.
  actor_metrics metrics;
};

/// Spawns the notifier; it loads the stored subscriptions at once and
/// delivers once it gets `start_atom`.
notifier_actor spawn_notifier(caf::actor_system& sys, notifier_config cfg);

} // namespace tmf
