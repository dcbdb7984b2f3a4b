#pragma once

// The service's Prometheus metrics (prometheus-cpp's core library: the
// registry, counters, gauges, histograms and the text format; served by
// http/ through the RESTinio listener). One registry per process, made by
// main.cpp when `metrics` is on. Actors get plain pointers to the
// instruments they record into (`actor_metrics`): prometheus-cpp's
// instruments are thread-safe, so recording is a few atomic operations on
// the actor's own thread and never a message. A null pointer records
// nothing (metrics off, or a test without metrics).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
} // namespace prometheus

namespace tmf::persistence {
class environment;
}

namespace tmf {

/// The instruments actors record into; every pointer may be null.
struct actor_metrics {
  // router
  prometheus::Gauge* resident_customers = nullptr;
  prometheus::Counter* passivations = nullptr;
  // store writer
  prometheus::Histogram* commit_batch_size = nullptr;
  prometheus::Histogram* commit_seconds = nullptr;
  prometheus::Counter* commit_failures = nullptr;
  // store readers: list queries by how the candidates were found
  prometheus::Counter* list_plain = nullptr; ///< no filter: B-tree order
  prometheus::Counter* list_id = nullptr;    ///< id= lookups by key
  prometheus::Counter* list_index = nullptr; ///< a secondary index
  prometheus::Counter* list_scan = nullptr;  ///< a full table scan
  prometheus::Counter* rows_plain = nullptr;
  prometheus::Counter* rows_id = nullptr;
  prometheus::Counter* rows_index = nullptr;
  prometheus::Counter* rows_scan = nullptr;
  // notifier
  prometheus::Gauge* outbox_backlog = nullptr;
  prometheus::Gauge* subscriptions = nullptr;
  prometheus::Counter* deliveries = nullptr;
  prometheus::Counter* delivery_retries = nullptr;
  prometheus::Counter* parked_events = nullptr;
};

/// Adds `n` to `c` (nothing when null).
void count(prometheus::Counter* c, double n = 1) noexcept;

/// Sets `g` to `value` (nothing when null).
void set_gauge(prometheus::Gauge* g, double value) noexcept;

/// Adds `delta` to `g` (nothing when null).
void add_gauge(prometheus::Gauge* g, double delta) noexcept;

/// Records `value` in `h` (nothing when null).
void observe(prometheus::Histogram* h, double value) noexcept;

/// The registry and the actors' instruments.
class metrics_registry {
public:
  metrics_registry();
  ~metrics_registry();

  metrics_registry(const metrics_registry&) = delete;
  metrics_registry& operator=(const metrics_registry&) = delete;

  /// Where other layers (http/) register their own families.
  prometheus::Registry& registry() noexcept;

  /// The instruments of the actors; valid as long as this registry.
  const actor_metrics& actors() const noexcept;

  /// Adds `f` to the functions run before every rendering: they set the
  /// gauges that are read at scrape time (LMDB usage, in-flight requests).
  void on_collect(std::function<void()> f);

  /// Exports the LMDB map usage of `env` at every scrape: bytes used, map
  /// size, page size and pages on the free list (nothing once it closed).
  void watch_store(std::weak_ptr<persistence::environment> env);

  /// Runs the collect functions and renders every metric in Prometheus'
  /// text exposition format (version 0.0.4).
  std::string render();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

} // namespace tmf
