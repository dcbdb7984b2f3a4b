#include "actors/shard_mover.hpp"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/log.hpp"
#include "domain/cluster_map.hpp"
#include "domain/customer_id.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;
using clock_type = std::chrono::steady_clock;

/// Shards taken over at once (each holds at most one chunk in memory).
constexpr size_t max_parallel = 8;

/// Shards that came with nothing are marked held together, this many at
/// most per transaction.
constexpr size_t max_empty_batch = 256;

/// One shard being taken over: asks every peer in turn for its rows.
struct take_over {
  size_t peer = 0;   ///< index into the links
  std::string from;  ///< key to continue from at that peer
  uint64_t rows = 0; ///< stored so far
  std::vector<std::string> events;
};

struct mover_state {
  static constexpr const char* name = "shard_mover";
  shard_mover_config cfg;
  std::vector<bool> owned;
  std::vector<bool> held;
  std::set<uint16_t> waiting; ///< owned, not held, not being taken over
  std::map<uint16_t, take_over> active;
  std::vector<uint16_t> empty; ///< taken over with nothing: to mark held
  bool marking = false;        ///< a batch of empty ones is being marked
  std::set<uint16_t> releasing;
  bool checking = false; ///< asking owners about our leftover shards
  bool timer_armed = false;
  std::set<std::string> logged; ///< problems logged once
  // For the log line at the end of a take-over.
  size_t to_take = 0;
  uint64_t rows_taken = 0;
  clock_type::time_point started;
};

using mover_ptr = shard_mover_actor::stateful_pointer<mover_state>;

size_t leaving_count(const mover_state& st) {
  size_t n = 0;
  for (uint16_t s = 0; s < domain::shard_count; ++s)
    if (st.held[s] && !st.owned[s])
      ++n;
  return n;
}

/// Owned shards not held yet (waiting or being taken over).
std::vector<uint16_t> not_held(const mover_state& st) {
  std::vector<uint16_t> out;
  for (uint16_t s = 0; s < domain::shard_count; ++s)
    if (st.owned[s] && !st.held[s])
      out.push_back(s);
  return out;
}

void tell_router(mover_ptr self) {
  auto& st = self->state;
  self->send(st.cfg.router, held_atom_v, not_held(st),
             static_cast<uint64_t>(leaving_count(st)));
}

void log_once(mover_state& st, const std::string& what) {
  if (st.logged.insert(what).second)
    log::warning("cluster: " + what + "; retrying");
}

void arm_timer(mover_ptr self) {
  auto& st = self->state;
  if (st.timer_armed)
    return;
  st.timer_armed = true;
  self->delayed_send(self, st.cfg.retry_period, retry_atom_v);
}

void work(mover_ptr self);

/// A take-over or release step failed: try again after the retry period.
void failed(mover_ptr self, const std::string& what) {
  log_once(self->state, what);
  arm_timer(self);
}

/// `shards` are held now; `rows` came with them. The peers that had rows
/// may drop their copy (they also ask us later, in case this is lost).
void shard_held(mover_ptr self, const std::vector<uint16_t>& shards,
                uint64_t rows) {
  auto& st = self->state;
  for (auto s : shards) {
    st.held[s] = true;
    if (rows == 0)
      continue;
    for (auto& link : st.cfg.routing->links)
      if (link)
        self->request(link, st.cfg.request_timeout, release_atom_v, s)
          .then([](uint64_t) {}, [](const caf::error&) {});
  }
  st.rows_taken += rows;
  tell_router(self);
  if (st.waiting.empty() && st.active.empty() && st.empty.empty()
      && st.to_take > 0) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                clock_type::now() - st.started)
                .count();
    log::info("cluster: took over " + std::to_string(st.to_take)
              + " shard(s) with " + std::to_string(st.rows_taken)
              + " customer(s) in " + std::to_string(ms) + " ms");
    st.to_take = 0;
    st.rows_taken = 0;
    st.logged.clear();
  }
}

void mark_empty(mover_ptr self) {
  auto& st = self->state;
  if (st.marking || st.empty.empty())
    return;
  st.marking = true;
  auto shards = std::move(st.empty);
  st.empty.clear();
  self->request(st.cfg.writer, caf::infinite, held_atom_v, shards)
    .then(
      [=](bool) {
        self->state.marking = false;
        shard_held(self, shards, 0);
        work(self);
      },
      [=](const caf::error& err) {
        auto& st = self->state;
        st.marking = false;
        st.empty.insert(st.empty.end(), shards.begin(), shards.end());
        failed(self, "cannot mark shards held: " + caf::to_string(err));
      });
}

void step(mover_ptr self, uint16_t shard);

/// Every peer answered for `shard`: store the mark (and its events).
void finish(mover_ptr self, uint16_t shard) {
  auto& st = self->state;
  auto& job = st.active[shard];
  if (job.rows == 0 && job.events.empty()) {
    st.active.erase(shard);
    st.empty.push_back(shard);
    if (st.empty.size() >= max_empty_batch || st.active.empty())
      mark_empty(self);
    work(self);
    return;
  }
  auto rows = job.rows;
  self->request(st.cfg.writer, caf::infinite, held_atom_v, shard, job.events)
    .then(
      [=](bool) {
        self->state.active.erase(shard);
        log::debug("cluster: took over shard " + std::to_string(shard)
                   + " with " + std::to_string(rows) + " customer(s)");
        shard_held(self, {shard}, rows);
        work(self);
      },
      [=](const caf::error& err) {
        failed(self, "cannot mark shard " + std::to_string(shard)
                       + " held: " + caf::to_string(err));
        self->state.active.erase(shard);
        self->state.waiting.insert(shard);
      });
}

/// Asks the current peer of `shard`'s take-over for its next chunk.
void step(mover_ptr self, uint16_t shard) {
  auto& st = self->state;
  auto& job = st.active[shard];
  const auto& links = st.cfg.routing->links;
  while (job.peer < links.size() && !links[job.peer])
    ++job.peer;
  if (job.peer == links.size()) {
    finish(self, shard);
    return;
  }
  auto abandon = [=](const std::string& why) {
    // Start the shard again later (storing rows is idempotent).
    self->state.active.erase(shard);
    self->state.waiting.insert(shard);
    failed(self, why);
  };
  const auto& peer = st.cfg.routing->table->names()[job.peer];
  self
    ->request(links[job.peer], st.cfg.request_timeout, export_atom_v, shard,
              job.from)
    .then(
      [=](shard_chunk& chunk) {
        auto& st = self->state;
        auto& job = st.active[shard];
        auto more = std::move(chunk.next);
        std::move(chunk.events.begin(), chunk.events.end(),
                  std::back_inserter(job.events));
        auto advance = [=](uint64_t stored) {
          auto& job = self->state.active[shard];
          job.rows += stored;
          if (more.empty()) {
            ++job.peer;
            job.from.clear();
          } else {
            job.from = more;
          }
          step(self, shard);
        };
        if (chunk.rows.empty()) {
          advance(0);
          return;
        }
        self->request(st.cfg.writer, caf::infinite, import_atom_v, chunk)
          .then(advance, [=](const caf::error& err) {
            abandon("cannot store rows of shard " + std::to_string(shard)
                    + ": " + caf::to_string(err));
          });
      },
      [=](const caf::error& err) {
        abandon("cannot take over shards from " + peer + " yet: "
                + caf::to_string(err));
      });
}

/// Asks the owners of the shards we hold but no longer own whether they
/// hold them; releases those they do.
void check_leftovers(mover_ptr self) {
  auto& st = self->state;
  if (st.checking)
    return;
  std::map<size_t, std::vector<uint16_t>> by_owner;
  for (uint16_t s = 0; s < domain::shard_count; ++s)
    if (st.held[s] && !st.owned[s] && st.releasing.count(s) == 0)
      by_owner[st.cfg.routing->table->owner(s)].push_back(s);
  if (by_owner.empty())
    return;
  st.checking = true;
  auto pending = std::make_shared<size_t>(by_owner.size());
  auto done = [=] {
    if (--*pending == 0) {
      self->state.checking = false;
      work(self);
    }
  };
  for (auto& [owner, shards] : by_owner) {
    const auto& link = st.cfg.routing->links[owner];
    self->request(link, st.cfg.request_timeout, held_atom_v, shards)
      .then(
        [=](const std::vector<uint16_t>& theirs) {
          auto& st = self->state;
          for (auto s : theirs) {
            if (st.owned[s] || !st.held[s] || !st.releasing.insert(s).second)
              continue;
            self->request(st.cfg.writer, caf::infinite, release_atom_v, s)
              .then(
                [=](uint64_t rows) {
                  auto& st = self->state;
                  st.releasing.erase(s);
                  st.held[s] = false;
                  log::debug("cluster: released shard " + std::to_string(s)
                             + " (" + std::to_string(rows)
                             + " customer(s))");
                  tell_router(self);
                },
                [=](const caf::error& err) {
                  self->state.releasing.erase(s);
                  failed(self, "cannot release shard " + std::to_string(s)
                                 + ": " + caf::to_string(err));
                });
          }
          done();
        },
        [=](const caf::error&) {
          // The owner is down or still taking over: ask again later.
          arm_timer(self);
          done();
        });
  }
}

/// Starts what can start: take-overs up to the parallel limit, and the
/// check of leftovers; keeps the timer running while anything is left.
void work(mover_ptr self) {
  auto& st = self->state;
  while (st.active.size() < max_parallel && !st.waiting.empty()) {
    auto shard = *st.waiting.begin();
    st.waiting.erase(st.waiting.begin());
    st.active.emplace(shard, take_over{});
    step(self, shard);
  }
  if (st.active.empty())
    mark_empty(self);
  check_leftovers(self);
  if (!st.waiting.empty() || leaving_count(st) > 0)
    arm_timer(self);
}

/// True when this node has rows of `shard` (or cannot tell).
bool has_rows(mover_state& st, uint16_t shard) {
  auto prefix = domain::shard_prefix(shard);
  bool any = false;
  auto txn = st.cfg.env->read();
  auto res = txn.scan(db::table::customers, prefix,
                      [&](const db::record_view& rec) {
    any = rec.key.compare(0, prefix.size(), prefix) == 0;
    return false;
  });
  return any || res.failed();
}

/// Reads the held marks; a node without any marks its leftovers (the
/// shards it has rows of but does not own) first.
void load(mover_ptr self) {
  auto& st = self->state;
  auto txn = st.cfg.env->read();
  auto marked = txn.get(db::table::meta, domain::held_marks_key);
  if (marked.failed())
    log::error("cluster: cannot read the held shards: " + marked.error);
  if (marked.st == db::status::ok) {
    auto res = txn.scan(db::table::meta, domain::held_shard_prefix,
                        [&](const db::record_view& rec) {
      if (rec.key.compare(0, domain::held_shard_prefix.size(),
                          domain::held_shard_prefix)
          != 0)
        return false;
      if (auto s = domain::held_shard_of(rec.key))
        st.held[*s] = true;
      return true;
    });
    if (res.failed())
      log::error("cluster: cannot read the held shards: " + res.error);
  } else {
    std::vector<uint16_t> leftovers;
    for (uint16_t s = 0; s < domain::shard_count; ++s)
      if (!st.owned[s] && has_rows(st, s)) // unsure counts as rows
        leftovers.push_back(s);
    for (auto s : leftovers)
      st.held[s] = true;
    self->request(st.cfg.writer, caf::infinite, held_atom_v, leftovers)
      .then([](bool) {},
            [](const caf::error& err) {
              log::error("cluster: cannot mark the held shards: "
                         + caf::to_string(err));
            });
  }
  for (uint16_t s = 0; s < domain::shard_count; ++s)
    if (st.owned[s] && !st.held[s])
      st.waiting.insert(s);
  st.to_take = st.waiting.size();
  st.started = clock_type::now();
  auto leaving = leaving_count(st);
  if (st.to_take > 0 || leaving > 0)
    log::info("cluster: " + std::to_string(st.to_take)
              + " shard(s) to take over from the peers, "
              + std::to_string(leaving) + " to hand over");
}

shard_mover_actor::behavior_type mover_impl(mover_ptr self,
                                            shard_mover_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.owned.assign(domain::shard_count, false);
  st.held.assign(domain::shard_count, false);
  for (auto s : st.cfg.routing->own_shards)
    st.owned[s] = true;
  load(self);
  tell_router(self);
  work(self);
  return {
    [=](held_atom, const std::vector<uint16_t>& shards) {
      auto& st = self->state;
      std::vector<uint16_t> out;
      for (auto s : shards)
        if (s < domain::shard_count && st.owned[s] && st.held[s])
          out.push_back(s);
      return out;
    },
    [=](release_atom, uint16_t shard) -> caf::result<uint64_t> {
      auto& st = self->state;
      if (shard >= domain::shard_count || st.owned[shard])
        return caf::make_error(errc::invalid,
                               "shard " + std::to_string(shard)
                                 + " belongs to this node");
      if (!st.held[shard] && !has_rows(st, shard))
        return uint64_t{0}; // nothing here: no transaction needed
      if (!st.releasing.insert(shard).second)
        return uint64_t{0}; // already on its way out
      auto rp = self->make_response_promise<uint64_t>();
      self->request(st.cfg.writer, caf::infinite, release_atom_v, shard)
        .then(
          [=](uint64_t rows) mutable {
            auto& st = self->state;
            st.releasing.erase(shard);
            bool was_held = st.held[shard];
            st.held[shard] = false;
            if (was_held || rows > 0) {
              log::debug("cluster: released shard " + std::to_string(shard)
                         + " (" + std::to_string(rows) + " customer(s))");
              tell_router(self);
            }
            rp.deliver(rows);
          },
          [=](caf::error& err) mutable {
            self->state.releasing.erase(shard);
            rp.deliver(std::move(err));
          });
      return rp;
    },
    [=](retry_atom) {
      self->state.timer_armed = false;
      work(self);
    },
  };
}

} // namespace

shard_mover_actor spawn_shard_mover(caf::actor_system& sys,
                                    shard_mover_config cfg) {
  return sys.spawn(mover_impl, std::move(cfg));
}

} // namespace tmf
