#include "actors/metrics.hpp"

#include <mutex>
#include <vector>

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "persistence/lmdb_store.hpp"

namespace tmf {

void count(prometheus::Counter* c, double n) noexcept {
  if (c != nullptr)
    c->Increment(n);
}

void set_gauge(prometheus::Gauge* g, double value) noexcept {
  if (g != nullptr)
    g->Set(value);
}

void add_gauge(prometheus::Gauge* g, double delta) noexcept {
  if (g != nullptr)
    g->Increment(delta);
}

void observe(prometheus::Histogram* h, double value) noexcept {
  if (h != nullptr)
    h->Observe(value);
}

struct metrics_registry::impl {
  prometheus::Registry registry;
  actor_metrics actors;
  std::mutex mtx; ///< guards `collectors` and serialises renderings
  std::vector<std::function<void()>> collectors;
};

namespace {

prometheus::Gauge& gauge(prometheus::Registry& reg, const std::string& name,
                         const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(reg).Add({});
}

prometheus::Counter& counter(prometheus::Registry& reg,
                             const std::string& name,
                             const std::string& help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(reg).Add(
    {});
}

} // namespace

metrics_registry::metrics_registry() : impl_(std::make_unique<impl>()) {
  auto& reg = impl_->registry;
  auto& m = impl_->actors;
  m.resident_customers = &gauge(reg, "tmf_customers_resident",
                                "Customer actors in memory");
  m.passivations = &counter(reg, "tmf_customer_passivations_total",
                            "Customer actors passivated (idle or over "
                            "max-resident)");
  m.commit_batch_size
    = &prometheus::BuildHistogram()
         .Name("tmf_store_commit_batch_size")
         .Help("Writes per durable LMDB commit (group commit)")
         .Register(reg)
         .Add({}, prometheus::Histogram::BucketBoundaries{
                    1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096});
  m.commit_seconds
    = &prometheus::BuildHistogram()
         .Name("tmf_store_commit_duration_seconds")
         .Help("Duration of one durable LMDB commit (fsync included)")
         .Register(reg)
         .Add({}, prometheus::Histogram::BucketBoundaries{
                    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                    0.025, 0.05, 0.1, 0.25, 0.5, 1});
  m.commit_failures = &counter(reg, "tmf_store_commit_failures_total",
                               "LMDB write transactions that failed as a "
                               "whole (full, gone, I/O)");
  auto& lists = prometheus::BuildCounter()
                  .Name("tmf_list_queries_total")
                  .Help("List queries by how candidates were found: plain "
                        "(no filter), id (key lookups), index (secondary "
                        "index) or scan (every row)")
                  .Register(reg);
  m.list_plain = &lists.Add({{"path", "plain"}});
  m.list_id = &lists.Add({{"path", "id"}});
  m.list_index = &lists.Add({{"path", "index"}});
  m.list_scan = &lists.Add({{"path", "scan"}});
  auto& rows = prometheus::BuildCounter()
                 .Name("tmf_list_rows_read_total")
                 .Help("Stored rows read by list queries, by path")
                 .Register(reg);
  m.rows_plain = &rows.Add({{"path", "plain"}});
  m.rows_id = &rows.Add({{"path", "id"}});
  m.rows_index = &rows.Add({{"path", "index"}});
  m.rows_scan = &rows.Add({{"path", "scan"}});
  m.outbox_backlog = &gauge(reg, "tmf_outbox_backlog_events",
                            "Events the furthest-behind subscription has "
                            "yet to handle");
  m.subscriptions = &gauge(reg, "tmf_hub_subscriptions",
                           "Hub subscriptions");
  m.deliveries = &counter(reg, "tmf_event_deliveries_total",
                          "Events delivered (2xx from the callback)");
  m.delivery_retries = &counter(reg, "tmf_event_delivery_retries_total",
                                "Failed delivery attempts to be retried");
  m.parked_events = &counter(reg, "tmf_events_parked_total",
                             "Events parked (refused or out of retries)");
}

metrics_registry::~metrics_registry() {
  // nop
}

prometheus::Registry& metrics_registry::registry() noexcept {
  return impl_->registry;
}

const actor_metrics& metrics_registry::actors() const noexcept {
  return impl_->actors;
}

void metrics_registry::watch_store(
  std::weak_ptr<persistence::environment> env) {
  auto& reg = impl_->registry;
  auto* used = &gauge(reg, "tmf_lmdb_used_bytes",
                      "Bytes of the LMDB map in use (up to the last page "
                      "written)");
  auto* map = &gauge(reg, "tmf_lmdb_map_size_bytes",
                     "Size of the LMDB map: the largest the data file may "
                     "grow (map-size)");
  auto* page = &gauge(reg, "tmf_lmdb_page_size_bytes", "LMDB page size");
  auto* free_pages = &gauge(reg, "tmf_lmdb_free_pages",
                            "Pages on LMDB's free list, reused before the "
                            "file grows");
  on_collect([env, used, map, page, free_pages] {
    auto ptr = env.lock();
    if (!ptr)
      return;
    auto usage = ptr->usage(true);
    used->Set(static_cast<double>(usage.used_bytes));
    map->Set(static_cast<double>(usage.map_size));
    page->Set(static_cast<double>(usage.page_size));
    free_pages->Set(static_cast<double>(usage.free_pages));
  });
}

void metrics_registry::on_collect(std::function<void()> f) {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  impl_->collectors.push_back(std::move(f));
}

std::string metrics_registry::render() {
  std::lock_guard<std::mutex> guard{impl_->mtx};
  for (auto& f : impl_->collectors)
    f();
  return prometheus::TextSerializer{}.Serialize(impl_->registry.Collect());
}

} // namespace tmf
