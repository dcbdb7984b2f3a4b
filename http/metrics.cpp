#include "http/metrics.hpp"

#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "actors/metrics.hpp"

namespace tmf::http {

namespace {

/// The methods with a label of their own; the last index is "other".
constexpr std::array<std::string_view, http_metrics::method_count - 1>
  method_names{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};

/// The statuses with a label of their own; the last index is "other".
constexpr std::array<uint16_t, http_metrics::status_count - 1> status_codes{
  200, 201, 204, 206, 301, 304, 400, 401, 403, 404, 405,
  406, 408, 409, 412, 413, 414, 415, 422, 429, 431, 500,
  501, 502, 503, 504, 505, 507, 0,   0,   0};

size_t method_index(restinio::http_method_id_t method) {
  std::string_view name{method.c_str()};
  for (size_t i = 0; i < method_names.size(); ++i)
    if (method_names[i] == name)
      return i;
  return method_names.size();
}

size_t status_index(uint16_t code) {
  for (size_t i = 0; i < status_codes.size(); ++i)
    if (status_codes[i] == code)
      return i;
  return status_codes.size();
}

std::string method_label(size_t index) {
  return index < method_names.size() ? std::string{method_names[index]}
                                     : std::string{"other"};
}

std::string status_label(size_t index) {
  return index < status_codes.size() && status_codes[index] != 0
           ? std::to_string(status_codes[index])
           : std::string{"other"};
}

/// Latency buckets from 50 us to 5 s.
const prometheus::Histogram::BucketBoundaries& latency_buckets() {
  static const prometheus::Histogram::BucketBoundaries buckets{
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025,   0.05,   0.1,     0.25,   0.5,   1,      2.5,   5};
  return buckets;
}

} // namespace

http_metrics::http_metrics(prometheus::Registry& reg)
  : requests_(prometheus::BuildCounter()
                .Name("tmf_http_requests_total")
                .Help("HTTP requests answered, by route template, method "
                      "and status")
                .Register(reg)),
    latency_(prometheus::BuildHistogram()
               .Name("tmf_http_request_duration_seconds")
               .Help("Time from reading a request to sending its answer, "
                     "by route template and method")
               .Register(reg)),
    in_flight_(prometheus::BuildGauge()
                 .Name("tmf_http_requests_in_flight")
                 .Help("HTTP requests read and not yet answered")
                 .Register(reg)
                 .Add({})) {
  // nop
}

void http_metrics::set_in_flight(int64_t n) {
  in_flight_.Set(static_cast<double>(n));
}

http_metrics::route_slot& http_metrics::slot_of(std::string_view route) {
  auto used = used_.load(std::memory_order_acquire);
  for (size_t i = 0; i < used; ++i) {
    auto& slot = routes_[i];
    if (slot.name.load(std::memory_order_relaxed) == route.data()
        && slot.size == route.size())
      return slot;
  }
  std::lock_guard<std::mutex> guard{mtx_};
  used = used_.load(std::memory_order_relaxed);
  for (size_t i = 0; i < used; ++i) {
    auto& slot = routes_[i];
    if (std::string_view{slot.name.load(), slot.size} == route)
      return slot;
  }
  if (used == max_routes)
    return routes_[max_routes - 1]; // more routes than ever expected
  auto& slot = routes_[used];
  slot.size = route.size();
  slot.name.store(route.data(), std::memory_order_relaxed);
  used_.store(used + 1, std::memory_order_release);
  return slot;
}

prometheus::Counter* http_metrics::counter(route_slot& slot, size_t method,
                                           size_t status) {
  auto& cell = slot.requests[method][status];
  if (auto* c = cell.load(std::memory_order_acquire))
    return c;
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto* c = cell.load(std::memory_order_relaxed))
    return c;
  auto* c = &requests_.Add({{"route", std::string{slot.name.load(), slot.size}},
                            {"method", method_label(method)},
                            {"status", status_label(status)}});
  cell.store(c, std::memory_order_release);
  return c;
}

prometheus::Histogram* http_metrics::histogram(route_slot& slot,
                                               size_t method) {
  auto& cell = slot.latency[method];
  if (auto* h = cell.load(std::memory_order_acquire))
    return h;
  std::lock_guard<std::mutex> guard{mtx_};
  if (auto* h = cell.load(std::memory_order_relaxed))
    return h;
  auto* h = &latency_.Add(
    {{"route", std::string{slot.name.load(), slot.size}},
     {"method", method_label(method)}},
    latency_buckets());
  cell.store(h, std::memory_order_release);
  return h;
}

void http_metrics::record(std::string_view route,
                          restinio::http_method_id_t method, uint16_t status,
                          double seconds) {
  auto& slot = slot_of(route);
  auto m = method_index(method);
  counter(slot, m, status_index(status))->Increment();
  histogram(slot, m)->Observe(seconds);
}

void answer_metrics(const exchange_ptr& ex) {
  auto& ctx = ex->ctx();
  if (!ctx.cfg.metrics)
    return ex->fail(status::not_found,
                    "metrics are off (tmf.metrics=false)");
  ex->reply(status::ok, ctx.cfg.metrics->render(),
            {{"Content-Type", "text/plain; version=0.0.4; charset=utf-8"}});
}

} // namespace tmf::http
