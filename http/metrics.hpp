#pragma once

// The HTTP part of the Prometheus metrics: requests by route, method and
// status, latency histograms by route and method, requests in flight, and
// the `GET /metrics` answer (the whole registry in the text format).
// Recording resolves its counter and histogram once per (route, method,
// status) and then costs a few atomic operations; no label map is
// searched per request.

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>

#include <restinio/http_headers.hpp>

#include "http/exchange.hpp"

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
class Registry;
template <class T>
class Family;
} // namespace prometheus

namespace tmf::http {

class http_metrics {
public:
  /// Registers the HTTP families in `reg`.
  explicit http_metrics(prometheus::Registry& reg);

  /// Records one answered request. `route` is the template of the matched
  /// route (static storage), e.g. `/customer/{id}`.
  void record(std::string_view route, restinio::http_method_id_t method,
              uint16_t status, double seconds);

  /// Sets the in-flight gauge (at scrape time).
  void set_in_flight(int64_t n);

  static constexpr size_t max_routes = 32;
  static constexpr size_t method_count = 8;  ///< 7 known and "other"
  static constexpr size_t status_count = 32; ///< 31 known and "other"

private:
  struct route_slot {
    std::atomic<const char*> name{nullptr}; ///< data of the route name
    size_t size = 0;
    std::array<std::atomic<prometheus::Histogram*>, method_count> latency{};
    std::array<std::array<std::atomic<prometheus::Counter*>, status_count>,
               method_count>
      requests{};
  };

  route_slot& slot_of(std::string_view route);
  prometheus::Counter* counter(route_slot& slot, size_t method,
                               size_t status);
  prometheus::Histogram* histogram(route_slot& slot, size_t method);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Gauge& in_flight_;
  std::mutex mtx_; ///< guards adding slots and instruments
  std::array<route_slot, max_routes> routes_;
  std::atomic<size_t> used_{0};
};

/// `GET /metrics`: every metric of the registry, text format 0.0.4; 404
/// when metrics are off.
void answer_metrics(const exchange_ptr& ex);

} // namespace tmf::http
