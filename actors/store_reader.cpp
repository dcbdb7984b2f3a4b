#include "actors/store.hpp"

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/list_run.hpp"
#include "actors/log.hpp"
#include "domain/customer_id.hpp"
#include "domain/customer_query.hpp"
#include "domain/hub.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;

struct store_reader_state {
  static constexpr const char* name = "store_reader";
  reader_config cfg;
  size_t next_overflow = 0;
  bool niced = false; ///< the thread's priority was lowered
};

/// The threads of background readers, and whether they must stay normal.
struct background_threads {
  std::mutex mtx;
  std::vector<pid_t> tids;
  bool ended = false;
};

background_threads& background() {
  static background_threads instance;
  return instance;
}

/// Puts the calling thread (its own: the reader is detached) under
/// SCHED_IDLE once, when configured to run in the background: it then runs
/// only when no other thread wants the CPU, and any other thread that wakes
/// up preempts it at once.
void lower_priority(store_reader_state& st) {
  if (!st.cfg.background || st.niced)
    return;
  st.niced = true;
#ifdef __linux__
  auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
  auto& bg = background();
  std::lock_guard<std::mutex> guard{bg.mtx};
  if (bg.ended)
    return;
  sched_param param{};
  param.sched_priority = 0;
  if (::sched_setscheduler(tid, SCHED_IDLE, &param) != 0) {
    log::warning("store reader: cannot run under SCHED_IDLE; scans compete "
                 "with cheap queries for the CPU");
    return;
  }
  bg.tids.push_back(tid);
#endif
}

using reader_ptr = store_reader_actor::stateful_pointer<store_reader_state>;

/// True once nobody waits for the answer to `q` any more.
bool expired(const list_query& q) {
  if (q.deadline_ns == 0)
    return false;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  return now > q.deadline_ns;
}

/// A failed read as the error of a load: errc::store_failed with a
/// message naming what was read and the LMDB call that failed.
caf::error read_failed(const std::string& what, const std::string& detail) {
  return caf::make_error(errc::store_failed,
                         "storage failure while " + what + ": " + detail);
}

/// Loads the customer `id`: not_found only when LMDB says so.
caf::result<customer_doc> load(db::environment& env, const std::string& id) {
  auto txn = env.read();
  if (!txn.valid())
    return read_failed("loading customer " + id, txn.error());
  auto res = txn.get(db::table::customers, id);
  switch (res.st) {
    case db::status::ok:
      return customer_doc{id, res.rec.version, std::move(res.rec.json)};
    case db::status::not_found:
      return caf::make_error(errc::not_found, "no customer with id " + id);
    default:
      return read_failed("loading customer " + id, res.error);
  }
}

caf::result<list_page> list(reader_ptr self, list_query& q) {
  auto& st = self->state;
  lower_priority(st);
  if (expired(q))
    return caf::make_error(caf::sec::request_timeout); // queued too long
  // Regular expressions compile here, never on an HTTP thread.
  domain::compiled_filters filters{q.filters};
  if (!filters.ok())
    return caf::make_error(errc::invalid, filters.error());
  auto fast = !st.cfg.overflow.empty();
  list_outcome out;
  {
    auto txn = st.cfg.env->read();
    out = run_list(txn, q, filters, st.cfg, fast);
  }
  if (out.page)
    return std::move(*out.page);
  if (!out.hand_over)
    return std::move(out.error);
  // Too much for the fast lane: one of the readers that may be busy long.
  auto& lanes = st.cfg.overflow;
  return self->delegate(lanes[st.next_overflow++ % lanes.size()],
                        list_atom_v, std::move(q));
}

/// A chunk carries about this many bytes of rows at most (at least one row).
constexpr size_t chunk_bytes = 1 << 20;

/// The next chunk of `shard`'s rows from key `from` (empty: the first); the
/// last chunk also carries the shard's pending outbox events.
caf::result<shard_chunk> export_chunk(db::environment& env, uint16_t shard,
                                      const std::string& from) {
  if (shard >= domain::shard_count)
    return caf::make_error(errc::invalid, "no shard " + std::to_string(shard));
  auto prefix = domain::shard_prefix(shard);
  if (!from.empty() && from.compare(0, prefix.size(), prefix) != 0)
    return caf::make_error(errc::invalid, "key " + from + " is not in shard "
                                            + std::to_string(shard));
  shard_chunk chunk;
  chunk.shard = shard;
  size_t bytes = 0;
  auto txn = env.read();
  auto res = txn.scan(db::table::customers, from.empty() ? prefix : from,
                      [&](const db::record_view& rec) {
    if (rec.key.compare(0, prefix.size(), prefix) != 0)
      return false;
    if (bytes >= chunk_bytes) {
      chunk.next = std::string{rec.key};
      return false;
    }
    bytes += rec.key.size() + rec.json.size();
    chunk.rows.push_back(
      customer_doc{std::string{rec.key}, rec.version, std::string{rec.json}});
    return true;
  });
  if (res.failed())
    return read_failed("reading shard " + std::to_string(shard), res.error);
  if (!chunk.next.empty())
    return chunk;
  // Events every subscription has handled (as far as stored) stay behind.
  bool any_cursor = false;
  uint64_t lowest = UINT64_MAX;
  res = txn.scan(db::table::cursors, {}, [&](const db::record_view& rec) {
    any_cursor = true;
    lowest = std::min(lowest, db::key_seq(rec.json));
    return true;
  });
  if (res.failed())
    return read_failed("reading the delivery positions", res.error);
  if (!any_cursor)
    return chunk;
  res = txn.scan(db::table::outbox, db::seq_key(lowest + 1),
                 [&](const db::record_view& rec) {
    std::string_view customer, text;
    if (domain::split_outbox_value(rec.json, customer, text)
        && customer.compare(0, prefix.size(), prefix) == 0)
      chunk.events.emplace_back(rec.json);
    return true;
  });
  if (res.failed())
    return read_failed("reading the outbox of shard " + std::to_string(shard),
                       res.error);
  return chunk;
}

store_reader_actor::behavior_type store_reader_impl(reader_ptr self,
                                                    reader_config cfg) {
  self->state.cfg = std::move(cfg);
  return {
    [=](load_atom, const std::string& id) -> caf::result<customer_doc> {
      return load(*self->state.cfg.env, id);
    },
    [=](list_atom, list_query& q) -> caf::result<list_page> {
      return list(self, q);
    },
    [=](export_atom, uint16_t shard, const std::string& from) {
      return export_chunk(*self->state.cfg.env, shard, from);
    },
  };
}

} // namespace

void end_background_readers() {
#ifdef __linux__
  auto& bg = background();
  std::lock_guard<std::mutex> guard{bg.mtx};
  bg.ended = true;
  // The policy the process runs under (SCHED_BATCH or SCHED_OTHER).
  auto policy = ::sched_getscheduler(0);
  sched_param param{};
  param.sched_priority = 0;
  for (auto tid : bg.tids)
    ::sched_setscheduler(tid, policy < 0 ? SCHED_OTHER : policy, &param);
  bg.tids.clear();
#endif
}

store_reader_actor spawn_store_reader(caf::actor_system& sys,
                                      reader_config cfg) {
  return sys.spawn<caf::detached>(store_reader_impl, std::move(cfg));
}

} // namespace tmf
