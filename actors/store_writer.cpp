#include "actors/store.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/log.hpp"
#include "domain/cluster_map.hpp"
#include "domain/customer_id.hpp"
#include "domain/customer_index.hpp"
#include "domain/hub.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;

struct store_writer_state {
  static constexpr const char* name = "store_writer";
  std::shared_ptr<db::environment> env;
  size_t max_batch = 1024;
  bool flush_queued = false;
  std::vector<db::write_op> ops;
  /// One per write: its promise and the position of its customer op.
  std::vector<std::pair<caf::typed_response_promise<uint64_t>, size_t>>
    promises;
  /// One per batch of notifier writes.
  std::vector<caf::typed_response_promise<bool>> notifier_promises;
  std::vector<db::write_result> results;
  uint64_t batches = 0;
  uint64_t writes = 0;
  /// Stored subscriptions: while there is none, events are not stored
  /// (no subscription could ever receive them).
  size_t subscriptions = 0;
  uint64_t last_seq = 0;       ///< the last outbox position handed out
  bool batch_has_events = false;
  notifier_actor notifier;     ///< told about committed events
  /// The data folder was found removed or replaced (logged once).
  bool gone_logged = false;
  actor_metrics metrics;
  /// The service's indexes: the entries of rows a shard move brings or
  /// takes away (null: none).
  std::shared_ptr<const domain::index_layout> layout;
};

using writer_ptr = store_writer_actor::stateful_pointer<store_writer_state>;

/// Reads how many subscriptions are stored and the last outbox position
/// (the last event, or the furthest any subscription has handled).
void load_outbox_state(store_writer_state& st) {
  auto txn = st.env->read();
  auto hubs = txn.count(db::table::hubs);
  st.subscriptions = hubs.failed() ? 0 : hubs.entries;
  auto furthest = [&](db::table tbl, bool value) {
    auto res = txn.scan(tbl, {}, [&](const db::record_view& rec) {
      st.last_seq = std::max(st.last_seq,
                             db::key_seq(value ? rec.json : rec.key));
      return true;
    });
    return res.failed() ? res.error : std::string{};
  };
  for (auto error : {hubs.error, furthest(db::table::cursors, true),
                     furthest(db::table::outbox, false)})
    if (!error.empty())
      log::error("store writer: cannot read the outbox state: " + error
                 + "; events may be numbered again from "
                 + std::to_string(st.last_seq));
}

/// A counted index entry op, dependent on the customer op before it: the
/// count under the entry's term changes with it.
db::write_op index_op(db::write_op::kind_t kind, std::string key) {
  std::string term{domain::index_key_term(key)};
  return db::write_op{kind, db::table::customer_index, std::move(key),
                      std::move(term), 0, true};
}

/// Appends the customer op of `w`, then its index entries and events as
/// dependent ops (written only when the customer op succeeds).
void append_ops(store_writer_state& st, store_write&& w) {
  auto& ops = st.ops;
  db::write_op op;
  switch (w.kind) {
    case store_write::replace:
      op.kind = db::write_op::replace;
      break;
    case store_write::erase:
      op.kind = db::write_op::erase;
      break;
    default:
      op.kind = db::write_op::insert;
  }
  op.tbl = db::table::customers;
  op.key = w.id;
  op.value = std::move(w.json);
  op.expected_version = w.expected_version;
  ops.emplace_back(std::move(op));
  for (auto& key : w.index_remove)
    ops.push_back(index_op(db::write_op::index_discard, std::move(key)));
  for (auto& key : w.index_add)
    ops.push_back(index_op(db::write_op::index_put, std::move(key)));
  if (st.subscriptions == 0)
    return;
  for (auto& event : w.events) {
    ops.push_back(db::write_op{db::write_op::put, db::table::outbox,
                               db::seq_key(++st.last_seq),
                               domain::outbox_value(w.id, event), 0, true});
    st.batch_has_events = true;
  }
}

/// The ops of the notifier's writes.
void append_notifier_ops(store_writer_state& st,
                         std::vector<notifier_write>&& writes) {
  auto put = [&](db::table tbl, std::string key, std::string value) {
    st.ops.push_back(db::write_op{db::write_op::put, tbl, std::move(key),
                                  std::move(value), 0});
  };
  auto drop = [&](db::write_op::kind_t kind, db::table tbl, std::string key) {
    st.ops.push_back(db::write_op{kind, tbl, std::move(key), {}, 0});
  };
  for (auto& w : writes) {
    auto parked_key = w.sub + '\0' + db::seq_key(w.seq);
    switch (w.kind) {
      case notifier_write::advance:
        put(db::table::cursors, w.sub, db::seq_key(w.seq));
        break;
      case notifier_write::park:
        put(db::table::parked, parked_key, std::move(w.text));
        break;
      case notifier_write::unpark:
        drop(db::write_op::discard, db::table::parked, parked_key);
        break;
      case notifier_write::trim:
        drop(db::write_op::erase_below, db::table::outbox,
             db::seq_key(w.seq + 1));
        break;
      case notifier_write::forget:
        drop(db::write_op::discard, db::table::hub_deleted, w.sub);
        break;
      case notifier_write::unsubscribe:
        put(db::table::hub_deleted, w.sub, std::move(w.text));
        drop(db::write_op::discard, db::table::hubs, w.sub);
        drop(db::write_op::discard, db::table::cursors, w.sub);
        drop(db::write_op::erase_prefix, db::table::parked, w.sub + '\0');
        if (st.subscriptions > 0)
          --st.subscriptions;
        break;
      default:
        break;
    }
  }
}

/// Queues a flush behind every message already in the mailbox (group
/// commit), or commits now when the batch is full.
void schedule_commit(writer_ptr self);

/// The error of a write that ended with `st`; `detail` names what failed.
caf::error to_error(db::status st, const std::string& detail) {
  switch (st) {
    case db::status::not_found:
      return caf::make_error(errc::not_found, std::string{"no such customer"});
    case db::status::exists:
    case db::status::conflict:
      return caf::make_error(errc::conflict,
                             std::string{"the customer changed concurrently"});
    case db::status::full:
      return caf::make_error(errc::storage_full,
                             "storage is full (" + detail
                               + "); nothing was written");
    case db::status::gone:
      return caf::make_error(errc::unavailable,
                             std::string{"the data folder was removed or "
                                         "replaced under the running "
                                         "service; nothing was written; "
                                         "restart the service"});
    default:
      return caf::make_error(errc::store_failed,
                             "storage failure: " + detail);
  }
}

/// Logs a failed batch; a removed or replaced data folder only once, since
/// every later batch fails the same way until a restart.
void log_failure(store_writer_state& st, db::status txn_status,
                 const std::string& detail) {
  if (txn_status == db::status::gone) {
    if (st.gone_logged)
      return;
    st.gone_logged = true;
    log::error("store writer: the data folder was removed or replaced; "
               "refusing writes until it is back or the service restarts: "
               + detail);
    return;
  }
  log::error("store writer: batch of " + std::to_string(st.ops.size())
             + " write(s) failed: " + db::to_string(txn_status) + " "
             + detail);
}

/// Commits every pending write in one transaction and answers each writer.
void commit(writer_ptr self) {
  auto& st = self->state;
  if (st.ops.empty())
    return;
  std::string detail;
  auto started = std::chrono::steady_clock::now();
  auto txn_status = st.env->apply(st.ops, st.results, detail);
  observe(st.metrics.commit_seconds,
          std::chrono::duration<double>(std::chrono::steady_clock::now()
                                        - started)
            .count());
  observe(st.metrics.commit_batch_size,
          static_cast<double>(st.promises.size()
                              + st.notifier_promises.size()));
  if (txn_status != db::status::ok) {
    count(st.metrics.commit_failures);
    log_failure(st, txn_status, detail);
  }
  else
    st.gone_logged = false; // a restored folder: log the next loss again
  for (auto& [rp, pos] : st.promises) {
    if (txn_status != db::status::ok) {
      rp.deliver(to_error(txn_status, detail));
      continue;
    }
    const auto& res = st.results[pos];
    if (res.st == db::status::ok)
      rp.deliver(res.version);
    else
      rp.deliver(to_error(res.st, db::to_string(res.st)));
  }
  for (auto& rp : st.notifier_promises) {
    if (txn_status == db::status::ok)
      rp.deliver(true);
    else
      rp.deliver(to_error(txn_status, detail));
  }
  if (txn_status == db::status::ok && st.batch_has_events && st.notifier)
    self->send(st.notifier, outbox_atom_v, st.last_seq);
  ++st.batches;
  st.writes += st.promises.size();
  st.ops.clear();
  st.promises.clear();
  st.notifier_promises.clear();
  st.results.clear();
  st.batch_has_events = false;
}

void schedule_commit(writer_ptr self) {
  auto& st = self->state;
  if (st.promises.size() + st.notifier_promises.size() >= st.max_batch) {
    commit(self);
  } else if (!st.flush_queued) {
    // The flush lands behind every write already queued, so all writes
    // that arrived while the last commit ran share the next transaction.
    st.flush_queued = true;
    self->send(self, flush_atom_v);
  }
}

/// The ops of the index builder's writes; `first` gets the position of
/// the op whose result answers each write.
std::vector<db::write_op> index_ops(std::vector<index_write>& writes,
                                    std::vector<size_t>& first) {
  std::vector<db::write_op> ops;
  auto meta = db::table::meta;
  for (auto& w : writes) {
    first.push_back(ops.size());
    switch (w.kind) {
      case index_write::row:
        ops.push_back(db::write_op{db::write_op::check, db::table::customers,
                                   w.key, {}, w.version});
        for (auto& key : w.keys)
          ops.push_back(index_op(db::write_op::index_put, std::move(key)));
        break;
      case index_write::erase_range:
        for (auto tbl : {db::table::customer_index, db::table::index_counts}) {
          db::write_op op{db::write_op::erase_range, tbl, w.key, w.value, 0};
          op.limit = w.version;
          ops.push_back(std::move(op));
        }
        break;
      case index_write::set_meta:
        ops.push_back(db::write_op{db::write_op::put, meta, w.key, w.value,
                                   0});
        break;
      default:
        ops.push_back(db::write_op{db::write_op::discard, meta, w.key, {}, 0});
    }
  }
  return ops;
}

/// What the index builder learns of each write.
uint64_t index_result(const index_write& w,
                      const std::vector<db::write_result>& results,
                      size_t pos) {
  switch (w.kind) {
    case index_write::row:
      return results[pos].st == db::status::ok ? 1 : 0;
    case index_write::erase_range:
      // The entries; their counts are never more, so they are gone by the
      // time the entries are.
      return results[pos].version;
    default:
      return 0;
  }
}

/// Commits the index builder's writes in a transaction of their own, after
/// the pending batch.
caf::result<std::vector<uint64_t>>
write_index(writer_ptr self, std::vector<index_write>& writes) {
  commit(self);
  std::vector<size_t> first;
  auto ops = index_ops(writes, first);
  std::vector<db::write_result> results;
  std::string detail;
  auto status = self->state.env->apply(ops, results, detail);
  if (status != db::status::ok)
    return to_error(status, detail);
  std::vector<uint64_t> out;
  for (size_t i = 0; i < writes.size(); ++i)
    out.push_back(index_result(writes[i], results, first[i]));
  return out;
}

/// Stores a new subscription in a transaction of its own, after the
/// writes before it: it starts after the last event committed so far.
caf::result<uint64_t> subscribe(writer_ptr self, const std::string& id,
                                const std::string& record) {
  commit(self);
  auto& st = self->state;
  std::vector<db::write_op> ops{
    {db::write_op::put, db::table::hubs, id, record, 0},
    {db::write_op::put, db::table::cursors, id, db::seq_key(st.last_seq), 0}};
  std::vector<db::write_result> results;
  std::string detail;
  auto status = st.env->apply(ops, results, detail);
  if (status != db::status::ok)
    return to_error(status, detail);
  ++st.subscriptions;
  return st.last_seq;
}

// -- shards moving between nodes -------------------------------------------
//
// Each of these runs in transactions of its own, after the pending batch.

/// Applies `ops` alone; the error when the transaction failed.
std::optional<caf::error> apply_alone(writer_ptr self,
                                      std::vector<db::write_op>& ops) {
  commit(self);
  auto& st = self->state;
  std::vector<db::write_result> results;
  std::string detail;
  auto status = st.env->apply(ops, results, detail);
  if (status != db::status::ok) {
    log_failure(st, status, detail);
    return to_error(status, detail);
  }
  for (const auto& res : results)
    if (res.st != db::status::ok)
      return to_error(res.st, "a row of a moving shard: "
                                + std::string{db::to_string(res.st)});
  return std::nullopt;
}

/// The index keys of customer `id` stored as `text`, in the service's
/// indexes: those a customer actor writes for it.
std::vector<std::string> index_keys_of(const store_writer_state& st,
                                       std::string_view text,
                                       std::string_view id) {
  if (!st.layout)
    return {};
  return domain::index_keys(st.layout->terms_of_text(text), id);
}

/// Stores the rows of a chunk from the shard's previous holder, with their
/// versions, and the index entries and counts this node's indexes give
/// them (the entries a customer created here would have). A row stored
/// already (a resumed move) first loses the entries of its stored text, so
/// importing again never counts an entry twice.
caf::result<uint64_t> import_chunk(writer_ptr self, shard_chunk& chunk) {
  auto& st = self->state;
  auto prefix = domain::shard_prefix(chunk.shard);
  for (auto& row : chunk.rows)
    if (row.id.compare(0, prefix.size(), prefix) != 0 || row.version == 0)
      return caf::make_error(errc::invalid, "row " + row.id
                                              + " does not belong to shard "
                                              + std::to_string(chunk.shard));
  // The stored rows are read after the pending batch has committed.
  commit(self);
  std::vector<db::write_op> ops;
  {
    auto txn = st.env->read();
    for (auto& row : chunk.rows) {
      std::vector<std::string> old_keys;
      if (st.layout) {
        auto stored = txn.get(db::table::customers, row.id);
        if (stored.failed())
          return caf::make_error(errc::store_failed,
                                 "storage failure while importing shard "
                                   + std::to_string(chunk.shard) + ": "
                                   + stored.error);
        if (stored.st == db::status::ok)
          old_keys = index_keys_of(st, stored.rec.json, row.id);
      }
      auto keys = index_keys_of(st, row.json, row.id);
      ops.push_back(db::write_op{db::write_op::restore, db::table::customers,
                                 row.id, std::move(row.json), row.version});
      for (auto& key : old_keys)
        ops.push_back(index_op(db::write_op::index_discard, std::move(key)));
      for (auto& key : keys)
        ops.push_back(index_op(db::write_op::index_put, std::move(key)));
    }
  }
  if (auto err = apply_alone(self, ops))
    return std::move(*err);
  return static_cast<uint64_t>(chunk.rows.size());
}

/// Marks `shard` held and appends the pending events of its customers that
/// came with it to the outbox (they are delivered from here on).
caf::result<bool> mark_held(writer_ptr self, uint16_t shard,
                            std::vector<std::string>& events) {
  auto& st = self->state;
  std::vector<db::write_op> ops;
  auto seq = st.last_seq;
  if (st.subscriptions > 0)
    for (auto& event : events)
      ops.push_back(db::write_op{db::write_op::put, db::table::outbox,
                                 db::seq_key(++seq), std::move(event), 0});
  ops.push_back(db::write_op{db::write_op::put, db::table::meta,
                             domain::held_shard_key(shard), "1", 0});
  if (auto err = apply_alone(self, ops))
    return std::move(*err);
  if (seq != st.last_seq) {
    st.last_seq = seq;
    if (st.notifier)
      self->send(st.notifier, outbox_atom_v, st.last_seq);
  }
  return true;
}

/// Rows deleted per transaction while releasing a shard.
constexpr size_t release_rows_per_txn = 4096;

/// Drops this node's rows of `shard`, their index entries (with their
/// counts), the shard's pending events and its held mark: a peer holds the shard now. Large
/// shards go in several transactions; the mark goes with the last, so a
/// crash in between leaves the shard held here, and released again later.
caf::result<uint64_t> release_shard(writer_ptr self, uint16_t shard) {
  auto& st = self->state;
  auto prefix = domain::shard_prefix(shard);
  uint64_t dropped = 0;
  for (;;) {
    // The rows are read after the pending batch has committed.
    commit(self);
    std::vector<db::write_op> ops;
    size_t rows = 0;
    {
      auto txn = st.env->read();
      auto res = txn.scan(db::table::customers, prefix,
                          [&](const db::record_view& rec) {
        if (rec.key.compare(0, prefix.size(), prefix) != 0
            || rows == release_rows_per_txn)
          return false;
        ++rows;
        ops.push_back(db::write_op{db::write_op::discard,
                                   db::table::customers,
                                   std::string{rec.key}, {}, 0});
        for (auto& key : index_keys_of(st, rec.json, rec.key))
          ops.push_back(index_op(db::write_op::index_discard,
                                   std::move(key)));
        return true;
      });
      if (res.failed())
        return caf::make_error(errc::store_failed,
                               "storage failure while releasing shard "
                                 + std::to_string(shard) + ": " + res.error);
      if (rows < release_rows_per_txn) {
        res = txn.scan(db::table::outbox, {}, [&](const db::record_view& rec) {
          std::string_view customer, text;
          if (domain::split_outbox_value(rec.json, customer, text)
              && customer.compare(0, prefix.size(), prefix) == 0)
            ops.push_back(db::write_op{db::write_op::discard,
                                       db::table::outbox,
                                       std::string{rec.key}, {}, 0});
          return true;
        });
        if (res.failed())
          return caf::make_error(errc::store_failed,
                                 "storage failure while releasing shard "
                                   + std::to_string(shard) + ": "
                                   + res.error);
        ops.push_back(db::write_op{db::write_op::discard, db::table::meta,
                                   domain::held_shard_key(shard), {}, 0});
      }
    }
    if (auto err = apply_alone(self, ops))
      return std::move(*err);
    dropped += rows;
    if (rows < release_rows_per_txn)
      return dropped;
  }
}

/// The first start of a node in a cluster: marks `shards` held.
caf::result<bool> mark_all_held(writer_ptr self,
                                const std::vector<uint16_t>& shards) {
  std::vector<db::write_op> ops;
  for (auto shard : shards)
    ops.push_back(db::write_op{db::write_op::put, db::table::meta,
                               domain::held_shard_key(shard), "1", 0});
  ops.push_back(db::write_op{db::write_op::put, db::table::meta,
                             std::string{domain::held_marks_key}, "1", 0});
  if (auto err = apply_alone(self, ops))
    return std::move(*err);
  return true;
}

store_writer_actor::behavior_type
store_writer_impl(writer_ptr self, std::shared_ptr<db::environment> env,
                  size_t max_batch, actor_metrics metrics,
                  std::shared_ptr<const domain::index_layout> layout) {
  self->state.env = std::move(env);
  self->state.layout = std::move(layout);
  self->state.metrics = metrics;
  self->state.max_batch = max_batch > 0 ? max_batch : 1;
  load_outbox_state(self->state);
  self->set_exit_handler([=](const caf::exit_msg& msg) {
    commit(self);
    log::info("store writer: stopped after " + std::to_string(
                self->state.writes) + " write(s) in "
              + std::to_string(self->state.batches) + " transaction(s)");
    self->state.env.reset();
    self->quit(msg.reason);
  });
  return {
    [=](write_atom, store_write& w) -> caf::result<uint64_t> {
      auto& st = self->state;
      auto rp = self->make_response_promise<uint64_t>();
      st.promises.emplace_back(rp, st.ops.size());
      append_ops(st, std::move(w));
      schedule_commit(self);
      return rp;
    },
    [=](write_atom, std::vector<notifier_write>& writes) -> caf::result<bool> {
      auto& st = self->state;
      auto rp = self->make_response_promise<bool>();
      st.notifier_promises.push_back(rp);
      append_notifier_ops(st, std::move(writes));
      schedule_commit(self);
      return rp;
    },
    [=](subscribe_atom, const std::string& id, const std::string& record) {
      return subscribe(self, id, record);
    },
    [=](index_atom, std::vector<index_write>& writes) {
      return write_index(self, writes);
    },
    [=](start_atom, notifier_actor& notifier) {
      self->state.notifier = std::move(notifier);
    },
    [=](flush_atom) {
      self->state.flush_queued = false;
      commit(self);
    },
    [=](import_atom, shard_chunk& chunk) {
      return import_chunk(self, chunk);
    },
    [=](held_atom, uint16_t shard, std::vector<std::string>& events) {
      return mark_held(self, shard, events);
    },
    [=](release_atom, uint16_t shard) { return release_shard(self, shard); },
    [=](held_atom, const std::vector<uint16_t>& shards) {
      return mark_all_held(self, shards);
    },
    [=](probe_atom) {
      // Behind the writes queued before it: commit them first, so the
      // probe sees the state they leave.
      commit(self);
      std::string error;
      if (self->state.env->probe_write(error) != db::status::ok)
        return error.empty() ? std::string{"the store cannot write"} : error;
      return std::string{};
    },
  };
}

} // namespace

store_writer_actor spawn_store_writer(caf::actor_system& sys,
                                      std::shared_ptr<db::environment> env,
                                      size_t max_batch,
                                      actor_metrics metrics,
                                      std::shared_ptr<const domain::index_layout>
                                        layout) {
  return sys.spawn<caf::detached>(store_writer_impl, std::move(env),
                                  max_batch, metrics, std::move(layout));
}

} // namespace tmf
