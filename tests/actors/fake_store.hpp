#pragma once

// Test support for the actor tests: an in-memory fake of the store writer and
// reader (typed actors implementing tmf::store_writer_actor and
// tmf::store_reader_actor over one shared map, with knobs to fail, hold or
// delay writes and counters), an actor system fixture, and a blocking
// request helper with a bounded timeout.

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/actor_registry.hpp>
#include <caf/after.hpp>
#include <caf/system_messages.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scheduler/test_coordinator.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include "actors/protocol.hpp"
#include "actors/store.hpp"

namespace tmf::test {

using namespace std::chrono_literals;

/// Every request of the tests uses this timeout (bounded, generous).
constexpr auto request_timeout = std::chrono::seconds(4);

/// A store reader's configuration over `env`, without indexes.
inline reader_config
reader_over(std::shared_ptr<persistence::environment> env) {
  reader_config cfg;
  cfg.env = std::move(env);
  return cfg;
}

/// An unconditional merge patch of `body`.
inline patch_request merge(std::string body) {
  patch_request req;
  req.body = std::move(body);
  return req;
}

/// The shared state of one fake store: the rows plus knobs and counters. The
/// fake actors run on scheduler threads, the test on its own: every field is
/// atomic or guarded by `mtx`.
struct fake_db {
  struct row {
    uint64_t version = 0;
    std::string json;
  };

  std::mutex mtx;
  std::map<std::string, row> rows;               ///< guarded by mtx
  std::optional<errc> fail_next;                 ///< guarded by mtx
  std::vector<caf::strong_actor_ptr> writers;    ///< senders of writes (mtx)
  std::vector<caf::strong_actor_ptr> loaders;    ///< senders of loads (mtx)
  std::vector<store_write> write_log;            ///< every write (mtx)
  list_page canned_page;                         ///< list answer (mtx)
  std::vector<list_query> list_log;              ///< list queries (mtx)

  /// Writes are held in the writer; `flush_atom` answers them, in order.
  std::atomic<bool> hold_writes{false};
  /// When > 0, held writes are answered after this delay (delayed flush).
  std::atomic<int64_t> write_delay_ms{0};

  std::atomic<int> writes{0};   ///< write requests received
  std::atomic<int> answered{0}; ///< write requests answered (before deliver)
  std::atomic<int> loads{0};    ///< load requests received
  std::atomic<int> lists{0};    ///< list requests received

  void put(const std::string& id, uint64_t version, std::string json) {
    std::lock_guard<std::mutex> guard{mtx};
    rows[id] = row{version, std::move(json)};
  }

  std::optional<row> get(const std::string& id) {
    std::lock_guard<std::mutex> guard{mtx};
    auto i = rows.find(id);
    if (i == rows.end())
      return std::nullopt;
    return i->second;
  }

  size_t size() {
    std::lock_guard<std::mutex> guard{mtx};
    return rows.size();
  }

  void fail_next_write(errc code) {
    std::lock_guard<std::mutex> guard{mtx};
    fail_next = code;
  }

  void set_canned_page(list_page page) {
    std::lock_guard<std::mutex> guard{mtx};
    canned_page = std::move(page);
  }

  std::vector<caf::strong_actor_ptr> write_senders() {
    std::lock_guard<std::mutex> guard{mtx};
    return writers;
  }

  std::vector<caf::strong_actor_ptr> load_senders() {
    std::lock_guard<std::mutex> guard{mtx};
    return loaders;
  }

  std::vector<store_write> writes_seen() {
    std::lock_guard<std::mutex> guard{mtx};
    return write_log;
  }

  /// Applies one write like the LMDB store does: returns the new version
  /// (0 after an erase) or an error.
  caf::expected<uint64_t> apply(const store_write& w) {
    std::lock_guard<std::mutex> guard{mtx};
    if (fail_next) {
      auto code = *fail_next;
      fail_next.reset();
      return caf::make_error(code, std::string{"injected failure"});
    }
    auto i = rows.find(w.id);
    switch (w.kind) {
      case store_write::insert:
        if (i != rows.end())
          return caf::make_error(errc::conflict, std::string{"exists"});
        rows.emplace(w.id, row{1, w.json});
        return uint64_t{1};
      case store_write::replace:
        if (i == rows.end())
          return caf::make_error(errc::not_found, std::string{"no such id"});
        if (w.expected_version != 0
            && w.expected_version != i->second.version)
          return caf::make_error(errc::conflict, std::string{"version"});
        i->second.version += 1;
        i->second.json = w.json;
        return i->second.version;
      default:
        if (i == rows.end())
          return caf::make_error(errc::not_found, std::string{"no such id"});
        if (w.expected_version != 0
            && w.expected_version != i->second.version)
          return caf::make_error(errc::conflict, std::string{"version"});
        rows.erase(i);
        return uint64_t{0};
    }
  }
};

using fake_db_ptr = std::shared_ptr<fake_db>;

struct fake_writer_state {
  static constexpr const char* name = "fake_store_writer";
  fake_db_ptr db;
  std::vector<std::pair<store_write, caf::typed_response_promise<uint64_t>>>
    held;
};

inline void fake_answer(caf::typed_response_promise<uint64_t>& rp,
                        fake_db& db, const store_write& w) {
  auto res = db.apply(w);
  ++db.answered; // counted before the requester can see the answer
  if (res)
    rp.deliver(*res);
  else
    rp.deliver(std::move(res.error()));
}

inline store_writer_actor::behavior_type fake_writer_impl(
  store_writer_actor::stateful_pointer<fake_writer_state> self,
  fake_db_ptr db) {
  self->state.db = std::move(db);
  return {
    [=](write_atom, store_write& w) -> caf::result<uint64_t> {
      auto& db = *self->state.db;
      {
        std::lock_guard<std::mutex> guard{db.mtx};
        db.writers.emplace_back(self->current_sender());
        db.write_log.emplace_back(w);
      }
      ++db.writes;
      auto rp = self->make_response_promise<uint64_t>();
      if (db.hold_writes || db.write_delay_ms > 0) {
        self->state.held.emplace_back(std::move(w), rp);
        if (db.write_delay_ms > 0)
          self->delayed_send(self, std::chrono::milliseconds(db.write_delay_ms),
                             flush_atom_v);
        return rp;
      }
      fake_answer(rp, db, w);
      return rp;
    },
    [=](subscribe_atom, const std::string&, const std::string&)
      -> uint64_t { return 0; },
    [=](write_atom, const std::vector<notifier_write>&) { return true; },
    [=](index_atom, const std::vector<index_write>& writes) {
      return std::vector<uint64_t>(writes.size(), 0);
    },
    [=](start_atom, const notifier_actor&) {
      // nop
    },
    [=](flush_atom) {
      auto held = std::move(self->state.held);
      self->state.held.clear();
      for (auto& [w, rp] : held)
        fake_answer(rp, *self->state.db, w);
    },
    // Shard moves (cluster) are not faked: these tests run one node.
    [=](import_atom, const shard_chunk&) -> caf::result<uint64_t> {
      return caf::make_error(errc::store_failed, "not faked");
    },
    [=](held_atom, uint16_t, const std::vector<std::string>&)
      -> caf::result<bool> {
      return caf::make_error(errc::store_failed, "not faked");
    },
    [=](release_atom, uint16_t) -> caf::result<uint64_t> {
      return caf::make_error(errc::store_failed, "not faked");
    },
    [=](held_atom, const std::vector<uint16_t>&) -> caf::result<bool> {
      return caf::make_error(errc::store_failed, "not faked");
    },
    [=](probe_atom) { return std::string{}; },
  };
}

struct fake_reader_state {
  static constexpr const char* name = "fake_store_reader";
  fake_db_ptr db;
};

inline store_reader_actor::behavior_type fake_reader_impl(
  store_reader_actor::stateful_pointer<fake_reader_state> self,
  fake_db_ptr db) {
  self->state.db = std::move(db);
  return {
    [=](load_atom, const std::string& id) -> caf::result<customer_doc> {
      auto& db = *self->state.db;
      {
        std::lock_guard<std::mutex> guard{db.mtx};
        db.loaders.emplace_back(self->current_sender());
      }
      ++db.loads;
      if (auto r = db.get(id))
        return customer_doc{id, r->version, r->json};
      return caf::make_error(errc::not_found, "no customer with id " + id);
    },
    [=](list_atom, const list_query& q) -> caf::result<list_page> {
      auto& db = *self->state.db;
      ++db.lists;
      std::lock_guard<std::mutex> guard{db.mtx};
      db.list_log.emplace_back(q);
      return db.canned_page;
    },
    [=](export_atom, uint16_t, const std::string&)
      -> caf::result<shard_chunk> {
      return caf::make_error(errc::store_failed, "not faked");
    },
  };
}

/// The outcome of one request: a value or an error.
template <class T>
struct reply {
  std::optional<T> value;
  caf::error err;

  explicit operator bool() const {
    return value.has_value();
  }
};

/// Sends a request and blocks (at most `request_timeout`) for its answer.
template <class T, class Handle, class... Ts>
reply<T> ask(caf::scoped_actor& self, const Handle& dest, Ts&&... xs) {
  reply<T> out;
  self->request(dest, request_timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { out.value = std::move(x); },
             [&](caf::error& e) { out.err = std::move(e); });
  return out;
}

/// Polls `pred` every 10 ms until it holds or `limit` has passed.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds limit = 4000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return pred();
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// Waits (bounded) until no actor of `sys` runs any more but the test's own
/// scoped actor (not hidden, so the registry counts it). When some still
/// run after `limit`, reports it and lets the system shut down without
/// waiting for them, so that a broken shutdown fails the test instead of
/// hanging it.
inline void await_all_stopped(caf::actor_system& sys,
                              std::chrono::milliseconds limit = 5000ms) {
  if (!eventually([&] { return sys.registry().running() <= 1; }, limit)) {
    FAIL_CHECK(sys.registry().running() - 1
               << " actor(s) still running at the end of the test");
    sys.await_actors_before_shutdown(false);
  }
}

/// An actor system with the tmf messages, a scoped actor and a fake store.
/// Every actor registered with `own` is stopped in the destructor, so that
/// the system's shutdown (which waits for all actors) never hangs.
struct actor_fixture {
  static caf::actor_system_config& make_config(caf::actor_system_config& cfg) {
    tmf::add_message_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{make_config(cfg)};
  caf::scoped_actor self{sys};
  fake_db_ptr db = std::make_shared<fake_db>();
  store_writer_actor writer;
  store_reader_actor reader;
  std::vector<caf::actor> owned;

  actor_fixture() {
    writer = sys.spawn(fake_writer_impl, db);
    reader = sys.spawn(fake_reader_impl, db);
  }

  template <class Handle>
  Handle own(Handle h) {
    owned.emplace_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  /// Waits (bounded) for the `down_msg` of `h`, monitoring it first.
  template <class Handle>
  bool await_down(const Handle& h, std::chrono::milliseconds limit = 4000ms) {
    auto addr = caf::actor_cast<caf::actor_addr>(h);
    self->monitor(h);
    bool down = false;
    bool timed_out = false;
    while (!down && !timed_out) {
      self->receive(
        [&](caf::down_msg& dm) {
          if (dm.source == addr)
            down = true;
        },
        caf::after(limit) >> [&] { timed_out = true; });
    }
    return down;
  }

  ~actor_fixture() {
    // Answer any write still held so that no customer waits forever.
    db->hold_writes = false;
    db->write_delay_ms = 0;
    self->send(writer, flush_atom_v);
    for (auto& h : owned)
      self->send_exit(h, caf::exit_reason::user_shutdown);
    // Customers are not linked to anything here: stop every one the fake
    // store has seen (each one wrote or loaded at least once).
    auto customers = db->write_senders();
    for (auto& p : db->load_senders())
      customers.emplace_back(p);
    for (auto& p : customers)
      if (p)
        self->send_exit(caf::actor_cast<caf::actor>(p),
                        caf::exit_reason::user_shutdown);
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->send_exit(reader, caf::exit_reason::user_shutdown);
    await_all_stopped(sys);
  }
};

} // namespace tmf::test

namespace tmf::test {

/// An actor system on CAF's deterministic test coordinator with the fake
/// store: actors run only inside `run()`, and time passes only when a test
/// advances it, so actor state machines are tested without sleeps.
struct deterministic_fixture {
  static caf::actor_system_config& make_config(caf::actor_system_config& cfg) {
    tmf::add_message_types(cfg);
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys{make_config(cfg)};
  caf::scheduler::test_coordinator& sched
    = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys};
  fake_db_ptr db = std::make_shared<fake_db>();
  store_writer_actor writer = sys.spawn(fake_writer_impl, db);
  store_reader_actor reader = sys.spawn(fake_reader_impl, db);

  /// Runs every actor until none has anything left to do.
  void run() {
    sched.run();
  }

  /// Lets `span` of simulated time pass in steps of `step`, running the
  /// actors after each step (timers fire in order).
  void pass(caf::timespan span, caf::timespan step) {
    for (caf::timespan t{0}; t < span; t += step) {
      sched.advance_time(step);
      run();
    }
  }

  /// Sends a request and runs the actors; its answer, or a failed check
  /// when nothing answered (never blocks).
  template <class T, class Handle, class... Ts>
  reply<T> call(const Handle& dest, Ts&&... xs) {
    auto h = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    run();
    return answer_of<T>(h);
  }

  /// The answer to `h` if it is in the mailbox, else a failed check.
  template <class T, class Handle>
  reply<T> answer_of(Handle& h) {
    reply<T> out;
    if (self->mailbox().empty()) {
      FAIL_CHECK("the request has not been answered");
      return out;
    }
    h.receive([&](T& x) { out.value = std::move(x); },
              [&](caf::error& e) { out.err = std::move(e); });
    return out;
  }

  /// Stops `h` (and whatever it stops on exit) when the test ends.
  template <class Handle>
  Handle own(Handle h) {
    owned.emplace_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  ~deterministic_fixture() {
    for (auto& h : owned)
      self->send_exit(h, caf::exit_reason::user_shutdown);
    run();
    self->send_exit(writer, caf::exit_reason::user_shutdown);
    self->send_exit(reader, caf::exit_reason::user_shutdown);
    run();
  }

  std::vector<caf::actor> owned;
};

} // namespace tmf::test
