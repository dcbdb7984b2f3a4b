#include "actors/notifier.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/deliverer.hpp"
#include "actors/log.hpp"
#include "domain/customer_id.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;
using time_point = caf::actor_clock::time_point;

/// One event in a subscription's window.
struct pending_event {
  enum class phase : uint8_t { waiting, sending, backoff, done };
  uint64_t seq = 0;
  std::string customer;
  std::string event_id;
  std::string body; ///< as delivered; empty: the subscription skips it
  std::string stored; ///< the outbox text (for parking)
  phase st = phase::waiting;
  uint32_t attempts = 0;
  time_point first_try;
  uint64_t tag = 0; ///< of the attempt in flight or scheduled
};

struct subscription {
  hub_record rec;
  std::unique_ptr<domain::event_matcher> matcher;
  uint64_t cursor = 0;        ///< every event up to here handled
  uint64_t stored_cursor = 0; ///< the position last stored
  uint64_t scanned = 0;       ///< events up to here are in the window
  std::deque<pending_event> window; ///< in outbox order
  std::deque<pending_event> replays; ///< parked events sent again
  uint64_t window_bytes = 0;
};

/// Counters for the periodic log line.
struct delivery_stats {
  uint64_t delivered = 0;
  uint64_t failed_attempts = 0;
  uint64_t parked = 0;
  std::vector<int64_t> latencies_us; ///< of successful deliveries

  bool empty() const {
    return delivered == 0 && failed_attempts == 0 && parked == 0;
  }
};

struct notifier_state {
  static constexpr const char* name = "notifier";
  notifier_config cfg;
  std::map<std::string, subscription> subs;
  uint64_t tail = 0; ///< the last committed outbox position known
  bool started = false;
  std::string href_base;
  std::unique_ptr<deliverer> http;
  std::unordered_map<uint64_t, std::string> tags; ///< tag -> subscription
  uint64_t next_tag = 1;
  bool flush_armed = false;
  std::minstd_rand rng{std::random_device{}()};
  delivery_stats stats;
  // Cluster: every node holds every subscription.
  std::vector<link_actor> peers; ///< told of every change made here
  std::map<std::string, int64_t> tombstones; ///< deleted id -> when (ms)
  std::set<std::string> storing; ///< ids being stored (from a peer)
};

using notifier_ptr = notifier_actor::stateful_pointer<notifier_state>;

// -- loading ------------------------------------------------------------------

/// Logs a failed read of the notifier's tables.
void log_read_failure(const db::read_outcome& res, const char* what) {
  if (res.failed())
    log::error(std::string{"notifier: cannot read "} + what + ": "
               + res.error);
}

/// Reads the stored subscriptions, their positions and the outbox's end.
void load(notifier_state& st) {
  auto txn = st.cfg.env->read();
  std::map<std::string, uint64_t> cursors;
  auto res = txn.scan(db::table::cursors, {}, [&](const db::record_view& rec) {
    cursors[std::string{rec.key}] = db::key_seq(rec.json);
    return true;
  });
  log_read_failure(res, "the delivery positions");
  res = txn.scan(db::table::hubs, {}, [&](const db::record_view& rec) {
    subscription sub;
    std::string query;
    if (!domain::parse_subscription_text(rec.json, sub.rec.id,
                                         sub.rec.callback, sub.rec.query)) {
      log::error("notifier: subscription " + std::string{rec.key}
                 + " cannot be read; skipped");
      return true;
    }
    domain::event_query q;
    std::string error;
    if (!domain::parse_event_query(sub.rec.query, st.cfg.limits, q, error)) {
      log::error("notifier: subscription " + sub.rec.id + ": " + error);
      return true;
    }
    sub.matcher = std::make_unique<domain::event_matcher>(std::move(q));
    sub.cursor = sub.stored_cursor = sub.scanned = cursors[sub.rec.id];
    st.tail = std::max(st.tail, sub.cursor);
    st.subs.emplace(sub.rec.id, std::move(sub));
    return true;
  });
  log_read_failure(res, "the subscriptions");
  res = txn.scan(db::table::outbox, {}, [&](const db::record_view& rec) {
    st.tail = std::max(st.tail, db::key_seq(rec.key));
    return true;
  });
  log_read_failure(res, "the outbox");
  res = txn.scan(db::table::hub_deleted, {}, [&](const db::record_view& rec) {
    int64_t when = 0;
    try {
      when = std::stoll(std::string{rec.json});
    } catch (const std::exception&) {
    }
    st.tombstones.emplace(std::string{rec.key}, when);
    return true;
  });
  log_read_failure(res, "the deleted subscriptions");
}

// -- delivering ---------------------------------------------------------------

bool retryable(int status) {
  return status == 0 || status == 408 || status == 429 || status >= 500;
}

std::string outcome(const delivery_result& r) {
  return r.status == 0 ? r.error : "HTTP " + std::to_string(r.status);
}

void send_attempt(notifier_ptr self, subscription& sub, pending_event& ev) {
  auto& st = self->state;
  ev.st = pending_event::phase::sending;
  if (ev.attempts++ == 0)
    ev.first_try = self->clock().now();
  ev.tag = st.next_tag++;
  st.tags.emplace(ev.tag, sub.rec.id);
  st.http->submit(delivery{ev.tag, sub.rec.callback, ev.event_id, ev.body});
}

/// Reads outbox events after `sub.scanned` into the window while it has
/// room.
void fill(notifier_ptr self, subscription& sub) {
  auto& st = self->state;
  if (sub.scanned >= st.tail || sub.window.size() >= st.cfg.window
      || sub.window_bytes >= st.cfg.window_bytes)
    return;
  auto txn = st.cfg.env->read();
  bool reached_end = true;
  auto res = txn.scan(db::table::outbox, db::seq_key(sub.scanned + 1),
           [&](const db::record_view& rec) {
             if (sub.window.size() >= st.cfg.window
                 || sub.window_bytes >= st.cfg.window_bytes) {
               reached_end = false;
               return false;
             }
             auto seq = db::key_seq(rec.key);
             std::string_view customer;
             std::string_view text;
             pending_event ev;
             ev.seq = seq;
             if (domain::split_outbox_value(rec.json, customer, text)
                 && sub.matcher->render(text, st.href_base, ev.body)) {
               ev.customer = std::string{customer};
               ev.stored = std::string{text};
               auto id_pos = text.find("\"eventId\":\"");
               if (id_pos != std::string_view::npos) {
                 auto start = id_pos + 11;
                 ev.event_id = std::string{
                   text.substr(start, text.find('"', start) - start)};
               }
               sub.window_bytes += ev.body.size() + ev.stored.size();
             } else {
               ev.st = pending_event::phase::done;
             }
             sub.window.push_back(std::move(ev));
             sub.scanned = seq;
             return true;
           });
  if (res.failed()) {
    // Try again in a second; what was read so far stays in the window.
    log_read_failure(res, "the outbox");
    self->delayed_send(self, std::chrono::seconds(1), outbox_atom_v,
                       uint64_t{0});
    return;
  }
  if (reached_end)
    sub.scanned = std::max(sub.scanned, st.tail);
}

/// Sends every waiting event whose customer has no earlier event pending.
void dispatch(notifier_ptr self, subscription& sub) {
  std::vector<std::string_view> busy;
  auto is_busy = [&](std::string_view c) {
    return std::find(busy.begin(), busy.end(), c) != busy.end();
  };
  for (auto& ev : sub.window) {
    if (ev.st == pending_event::phase::done)
      continue;
    if (ev.st == pending_event::phase::waiting && !is_busy(ev.customer))
      send_attempt(self, sub, ev);
    busy.push_back(ev.customer);
  }
}

void arm_flush(notifier_ptr self) {
  auto& st = self->state;
  if (st.flush_armed)
    return;
  st.flush_armed = true;
  self->delayed_send(self, st.cfg.flush_interval, flush_atom_v);
}

/// Drops handled events from the window's front and moves the cursor.
void advance(notifier_ptr self, subscription& sub) {
  while (!sub.window.empty()
         && sub.window.front().st == pending_event::phase::done) {
    auto& ev = sub.window.front();
    sub.window_bytes -= ev.body.size() + ev.stored.size();
    sub.cursor = ev.seq;
    sub.window.pop_front();
  }
  if (sub.window.empty())
    sub.cursor = std::max(sub.cursor, sub.scanned);
  if (sub.cursor != sub.stored_cursor)
    arm_flush(self);
}

void pump(notifier_ptr self, subscription& sub) {
  if (!self->state.started)
    return;
  for (;;) {
    fill(self, sub);
    dispatch(self, sub);
    auto before = sub.cursor;
    advance(self, sub);
    // Events the subscription skips free room at once: read on.
    if (sub.cursor == before || sub.scanned >= self->state.tail)
      return;
  }
}

/// Events the furthest-behind subscription has yet to handle.
uint64_t backlog(const notifier_state& st) {
  uint64_t result = 0;
  for (auto& kvp : st.subs)
    result = std::max(result, st.tail - kvp.second.cursor);
  return result;
}

/// Sets the backlog and subscription gauges.
void update_gauges(const notifier_state& st) {
  set_gauge(st.cfg.metrics.outbox_backlog, static_cast<double>(backlog(st)));
  set_gauge(st.cfg.metrics.subscriptions, static_cast<double>(st.subs.size()));
}

void pump_all(notifier_ptr self) {
  for (auto& kvp : self->state.subs)
    pump(self, kvp.second);
  update_gauges(self->state);
}

void park(notifier_ptr self, subscription& sub, pending_event& ev,
          const std::string& reason) {
  auto& st = self->state;
  ++st.stats.parked;
  count(st.cfg.metrics.parked_events);
  log::warning("notifier: subscription " + sub.rec.id + " parks event "
               + ev.event_id + " after " + std::to_string(ev.attempts)
               + " attempt(s): " + reason);
  auto text = domain::parked_text(ev.event_id, reason, ev.attempts, ev.stored);
  self->request(st.cfg.writer, caf::infinite, write_atom_v,
                std::vector<notifier_write>{
                  {notifier_write::park, sub.rec.id, ev.seq, std::move(text)}})
    .then([](bool) {},
          [id = sub.rec.id](const caf::error& err) {
            log::error("notifier: cannot park an event of subscription " + id
                       + ": " + caf::to_string(err));
          });
  ev.st = pending_event::phase::done;
}

caf::timespan backoff(notifier_state& st, uint32_t attempts,
                      int64_t retry_after_ms) {
  auto delay = st.cfg.first_retry;
  for (uint32_t i = 1; i < attempts && delay < st.cfg.max_retry; ++i)
    delay *= 2;
  delay = std::min(delay, st.cfg.max_retry);
  // +-20 % jitter so that retries of many events spread out.
  std::uniform_int_distribution<int> jitter{-20, 20};
  delay += delay * jitter(st.rng) / 100;
  if (retry_after_ms >= 0)
    delay = std::max<caf::timespan>(delay,
                                    std::chrono::milliseconds(retry_after_ms));
  return delay;
}

/// The pending event of `sub` waiting for the result of `tag`.
pending_event* find_tag(subscription& sub, uint64_t tag) {
  for (auto* events : {&sub.window, &sub.replays})
    for (auto& ev : *events)
      if (ev.tag == tag)
        return &ev;
  return nullptr;
}

void on_result(notifier_ptr self, const delivery_result& r) {
  auto& st = self->state;
  auto t = st.tags.find(r.tag);
  if (t == st.tags.end())
    return;
  auto sub_id = std::move(t->second);
  st.tags.erase(t);
  auto s = st.subs.find(sub_id);
  if (s == st.subs.end())
    return; // unsubscribed meanwhile
  auto& sub = s->second;
  auto* ev = find_tag(sub, r.tag);
  if (ev == nullptr)
    return;
  if (r.status >= 200 && r.status < 300) {
    ++st.stats.delivered;
    count(st.cfg.metrics.deliveries);
    if (st.stats.latencies_us.size() < 10000)
      st.stats.latencies_us.push_back(r.latency_us);
    ev->st = pending_event::phase::done;
  } else if (!retryable(r.status)) {
    park(self, sub, *ev, outcome(r));
  } else {
    ++st.stats.failed_attempts;
    count(st.cfg.metrics.delivery_retries);
    if (self->clock().now() - ev->first_try >= st.cfg.retry_budget) {
      park(self, sub, *ev, outcome(r) + "; the retry budget is spent");
    } else {
      auto delay = backoff(st, ev->attempts, r.retry_after_ms);
      log::info("notifier: subscription " + sub.rec.id + ", event "
                + ev->event_id + ": attempt " + std::to_string(ev->attempts)
                + " failed (" + outcome(r) + "); retrying in "
                + std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(delay)
                    .count())
                + " ms");
      ev->st = pending_event::phase::backoff;
      st.tags.emplace(r.tag, sub_id);
      self->delayed_send(self, delay, retry_atom_v, r.tag);
    }
  }
  sub.replays.erase(std::remove_if(sub.replays.begin(), sub.replays.end(),
                                   [](const pending_event& x) {
                                     return x.st == pending_event::phase::done;
                                   }),
                    sub.replays.end());
  pump(self, sub);
  update_gauges(st);
}

void on_retry(notifier_ptr self, uint64_t tag) {
  auto& st = self->state;
  auto t = st.tags.find(tag);
  if (t == st.tags.end())
    return;
  auto sub_id = std::move(t->second);
  st.tags.erase(t);
  auto s = st.subs.find(sub_id);
  if (s == st.subs.end())
    return;
  if (auto* ev = find_tag(s->second, tag))
    send_attempt(self, s->second, *ev);
}

// -- storing positions --------------------------------------------------------

/// Stores the positions that moved and drops the outbox events every
/// subscription has handled.
void flush(notifier_ptr self) {
  auto& st = self->state;
  st.flush_armed = false;
  std::vector<notifier_write> writes;
  uint64_t lowest = st.tail;
  for (auto& [id, sub] : st.subs) {
    lowest = std::min(lowest, sub.cursor);
    if (sub.cursor != sub.stored_cursor) {
      writes.push_back({notifier_write::advance, id, sub.cursor, {}});
      sub.stored_cursor = sub.cursor;
    }
  }
  if (writes.empty())
    return;
  writes.push_back({notifier_write::trim, {}, lowest, {}});
  self->request(st.cfg.writer, caf::infinite, write_atom_v, std::move(writes))
    .then([](bool) {},
          [](const caf::error& err) {
            log::error("notifier: cannot store delivery positions: "
                       + caf::to_string(err));
          });
}

void log_stats(notifier_ptr self) {
  auto& st = self->state;
  if (!st.stats.empty()) {
    auto& lat = st.stats.latencies_us;
    std::sort(lat.begin(), lat.end());
    auto pct = [&](double p) -> int64_t {
      return lat.empty() ? 0 : lat[static_cast<size_t>(p * (lat.size() - 1))];
    };
    log::info("notifier: " + std::to_string(st.subs.size())
              + " subscription(s), backlog " + std::to_string(backlog(st))
              + " event(s); delivered " + std::to_string(st.stats.delivered)
              + ", failed attempts " + std::to_string(st.stats.failed_attempts)
              + ", parked " + std::to_string(st.stats.parked)
              + "; delivery latency p50 " + std::to_string(pct(0.5))
              + " us, p99 " + std::to_string(pct(0.99)) + " us");
    st.stats = delivery_stats{};
  }
  self->delayed_send(self, st.cfg.stats_interval, sweep_atom_v);
}

// -- the hub API --------------------------------------------------------------

caf::error no_subscription(const std::string& id) {
  return caf::make_error(errc::not_found, "no subscription with id " + id);
}

/// Tells every peer about a change made on this node (a peer that misses
/// it gets the whole hub when its link comes up again).
void tell_peers(notifier_ptr self, hub_sync change) {
  for (auto& peer : self->state.peers)
    if (peer)
      self->send(peer, sync_atom_v, change);
}

/// Checks a subscription's query; the matcher, or the problem.
caf::expected<std::unique_ptr<domain::event_matcher>>
compile_query(notifier_state& st, const std::string& query) {
  domain::event_query q;
  std::string error;
  if (!domain::parse_event_query(query, st.cfg.limits, q, error))
    return caf::make_error(errc::invalid, std::move(error));
  auto matcher = std::make_unique<domain::event_matcher>(std::move(q));
  if (!matcher->ok())
    return caf::make_error(errc::invalid, "query: " + matcher->error());
  return matcher;
}

/// Stores `rec` (it starts after the last event committed so far) and
/// starts delivering to it; `done` gets the outcome.
void store_subscription(
  notifier_ptr self, hub_record rec,
  std::unique_ptr<domain::event_matcher> matcher,
  std::function<void(caf::expected<hub_record>)> done) {
  auto& st = self->state;
  auto shared = std::make_shared<std::unique_ptr<domain::event_matcher>>(
    std::move(matcher));
  st.storing.insert(rec.id);
  self
    ->request(st.cfg.writer, caf::infinite, subscribe_atom_v, rec.id,
              domain::subscription_text(rec.id, rec.callback, rec.query))
    .then(
      [=](uint64_t position) mutable {
        auto& st = self->state;
        st.storing.erase(rec.id);
        subscription sub;
        sub.rec = rec;
        sub.matcher = std::move(*shared);
        sub.cursor = sub.stored_cursor = sub.scanned = position;
        st.tail = std::max(st.tail, position);
        auto& stored = st.subs.emplace(rec.id, std::move(sub)).first->second;
        log::info("notifier: subscription " + rec.id + " to " + rec.callback
                  + " stored");
        pump(self, stored);
        update_gauges(st);
        done(rec);
      },
      [=](caf::error& err) mutable {
        self->state.storing.erase(rec.id);
        done(std::move(err));
      });
}

caf::result<hub_record> subscribe(notifier_ptr self,
                                  const std::string& callback,
                                  const std::string& query) {
  auto& st = self->state;
  if (st.subs.size() >= st.cfg.max_subscriptions)
    return caf::make_error(errc::invalid,
                           "the hub holds " + std::to_string(st.subs.size())
                             + " subscriptions, its limit "
                             "(hub-max-subscriptions)");
  if (auto msg = domain::check_callback(callback, st.cfg.policy,
                                        st.cfg.max_callback_length))
    return caf::make_error(errc::invalid, std::move(*msg));
  auto matcher = compile_query(st, query);
  if (!matcher)
    return std::move(matcher.error());
  auto rec = hub_record{domain::make_random_id(), callback, query};
  auto rp = self->make_response_promise<hub_record>();
  store_subscription(self, rec, std::move(*matcher),
                     [=](caf::expected<hub_record> res) mutable {
                       if (!res) {
                         rp.deliver(std::move(res.error()));
                         return;
                       }
                       tell_peers(self, hub_sync{{*res}, {}});
                       rp.deliver(std::move(*res));
                     });
  return rp;
}

/// Tombstones kept at most: the oldest are forgotten beyond this (a node
/// that was away while more subscriptions were deleted could bring one of
/// those back).
constexpr size_t max_tombstones = 10000;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Deletes subscription `id` (if stored here) and keeps its tombstone;
/// `done` gets true once stored.
void delete_subscription(notifier_ptr self, const std::string& id,
                         std::function<void(caf::expected<bool>)> done) {
  auto& st = self->state;
  st.subs.erase(id); // results of its deliveries in flight are ignored
  update_gauges(st);
  auto when = now_ms();
  st.tombstones[id] = when;
  std::vector<notifier_write> writes{
    {notifier_write::unsubscribe, id, 0, std::to_string(when)}};
  while (st.tombstones.size() > max_tombstones) {
    auto oldest = std::min_element(st.tombstones.begin(),
                                   st.tombstones.end(),
                                   [](const auto& x, const auto& y) {
                                     return x.second < y.second;
                                   });
    writes.push_back({notifier_write::forget, oldest->first, 0, {}});
    st.tombstones.erase(oldest);
  }
  self->request(st.cfg.writer, caf::infinite, write_atom_v, std::move(writes))
    .then([=](bool) { done(true); },
          [=](caf::error& err) { done(std::move(err)); });
}

caf::result<bool> unsubscribe(notifier_ptr self, const std::string& id) {
  auto& st = self->state;
  if (st.subs.count(id) == 0)
    return no_subscription(id);
  auto rp = self->make_response_promise<bool>();
  delete_subscription(self, id, [=](caf::expected<bool> res) mutable {
    if (!res) {
      rp.deliver(std::move(res.error()));
      return;
    }
    log::info("notifier: subscription " + id + " deleted");
    tell_peers(self, hub_sync{{}, {id}});
    rp.deliver(true);
  });
  return rp;
}

/// Merges a peer's subscriptions: deleted ones go (tombstones win), unknown
/// live ones are stored here (each node delivers its own events).
void merge(notifier_ptr self, const hub_sync& theirs) {
  auto& st = self->state;
  for (const auto& id : theirs.deleted) {
    if (st.tombstones.count(id) > 0)
      continue;
    bool live = st.subs.count(id) > 0;
    delete_subscription(self, id, [=](caf::expected<bool> res) {
      if (!res)
        log::error("notifier: cannot delete subscription " + id
                   + " deleted on a peer: " + caf::to_string(res.error()));
      else if (live)
        log::info("notifier: subscription " + id + " deleted on a peer");
    });
  }
  for (const auto& rec : theirs.live) {
    if (st.subs.count(rec.id) > 0 || st.tombstones.count(rec.id) > 0
        || st.storing.count(rec.id) > 0 || !domain::is_random_id(rec.id))
      continue;
    auto matcher = compile_query(st, rec.query);
    if (!matcher) {
      log::error("notifier: subscription " + rec.id + " from a peer: "
                 + caf::to_string(matcher.error()) + "; not stored");
      continue;
    }
    store_subscription(self, rec, std::move(*matcher),
                       [id = rec.id](caf::expected<hub_record> res) {
                         if (!res)
                           log::error("notifier: cannot store subscription "
                                      + id + " from a peer: "
                                      + caf::to_string(res.error()));
                       });
  }
}

/// The parked events of subscription `id`, read from the store.
caf::expected<std::vector<parked_event>>
read_parked(notifier_state& st, const std::string& id) {
  std::vector<parked_event> out;
  auto prefix = id + '\0';
  auto txn = st.cfg.env->read();
  auto res = txn.scan(db::table::parked, prefix,
                      [&](const db::record_view& rec) {
    if (rec.key.substr(0, prefix.size()) != prefix)
      return false;
    parked_event p;
    p.seq = db::key_seq(rec.key.substr(prefix.size()));
    if (domain::parse_parked_text(rec.json, p.event_id, p.reason,
                                  p.attempts, p.event))
      out.push_back(std::move(p));
    return true;
  });
  if (res.failed())
    return caf::make_error(errc::store_failed,
                           "storage failure while reading parked events: "
                             + res.error);
  return out;
}

caf::result<uint64_t> replay(notifier_ptr self, const std::string& id) {
  auto& st = self->state;
  auto i = st.subs.find(id);
  if (i == st.subs.end())
    return no_subscription(id);
  auto& sub = i->second;
  auto read = read_parked(st, id);
  if (!read)
    return std::move(read.error());
  auto& parked = *read;
  std::vector<notifier_write> unpark;
  for (auto& p : parked) {
    pending_event ev;
    ev.seq = p.seq;
    ev.event_id = p.event_id;
    ev.stored = p.event;
    if (!sub.matcher->render(p.event, st.href_base, ev.body))
      ev.body = p.event;
    sub.replays.push_back(std::move(ev));
    send_attempt(self, sub, sub.replays.back());
    unpark.push_back({notifier_write::unpark, id, p.seq, {}});
  }
  if (!unpark.empty())
    self->request(st.cfg.writer, caf::infinite, write_atom_v,
                  std::move(unpark))
      .then([](bool) {},
            [](const caf::error& err) {
              log::error("notifier: cannot unpark: " + caf::to_string(err));
            });
  return static_cast<uint64_t>(parked.size());
}

notifier_actor::behavior_type notifier_impl(notifier_ptr self,
                                            notifier_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  load(st);
  update_gauges(st);
  self->set_exit_handler([=](const caf::exit_msg& msg) {
    flush(self);
    self->state.http.reset(); // ends the deliveries still running
    self->quit(msg.reason);
  });
  return {
    [=](subscribe_atom, const std::string& callback,
        const std::string& query) { return subscribe(self, callback, query); },
    [=](hub_atom) {
      std::vector<hub_record> out;
      for (auto& kvp : self->state.subs)
        out.push_back(kvp.second.rec);
      return out;
    },
    [=](hub_atom, const std::string& id) -> caf::result<hub_record> {
      auto i = self->state.subs.find(id);
      if (i == self->state.subs.end())
        return no_subscription(id);
      return i->second.rec;
    },
    [=](unsubscribe_atom, const std::string& id) {
      return unsubscribe(self, id);
    },
    [=](parked_atom,
        const std::string& id) -> caf::result<std::vector<parked_event>> {
      if (self->state.subs.count(id) == 0)
        return no_subscription(id);
      auto parked = read_parked(self->state, id);
      if (!parked)
        return std::move(parked.error());
      return std::move(*parked);
    },
    [=](replay_atom, const std::string& id) { return replay(self, id); },
    [=](start_atom, const std::string& href_base) {
      auto& st = self->state;
      if (st.started)
        return;
      st.href_base = href_base;
      st.started = true;
      deliverer::options opts;
      opts.connect_timeout = st.cfg.connect_timeout;
      opts.total_timeout = st.cfg.delivery_timeout;
      opts.max_connections = st.cfg.max_connections;
      opts.policy = st.cfg.policy;
      opts.nice = st.cfg.delivery_nice;
      auto me = caf::actor_cast<notifier_actor>(self);
      st.http = std::make_unique<deliverer>(
        std::move(opts), [me](delivery_result r) {
          caf::anon_send(me, delivered_atom_v, std::move(r));
        });
      log_stats(self);
      pump_all(self);
    },
    [=](outbox_atom, uint64_t seq) {
      // From the writer after a commit, or from a retry after a failed
      // read (seq 0): read on.
      auto& st = self->state;
      st.tail = std::max(st.tail, seq);
      pump_all(self);
    },
    [=](delivered_atom, const delivery_result& r) { on_result(self, r); },
    [=](retry_atom, uint64_t tag) { on_retry(self, tag); },
    [=](flush_atom) { flush(self); },
    [=](sweep_atom) { log_stats(self); },
    [=](start_atom, std::vector<link_actor>& peers) {
      self->state.peers = std::move(peers);
    },
    [=](sync_atom) {
      auto& st = self->state;
      hub_sync out;
      for (auto& kvp : st.subs)
        out.live.push_back(kvp.second.rec);
      for (auto& kvp : st.tombstones)
        out.deleted.push_back(kvp.first);
      return out;
    },
    [=](sync_atom, const hub_sync& theirs) { merge(self, theirs); },
    [=](probe_atom) { return backlog(self->state); },
  };
}

} // namespace

notifier_actor spawn_notifier(caf::actor_system& sys, notifier_config cfg) {
  return sys.spawn(notifier_impl, std::move(cfg));
}

} // namespace tmf
