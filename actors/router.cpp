#include "actors/router.hpp"

#include <algorithm>
#include <chrono>
#include <list>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <unordered_map>

#ifdef __GLIBC__
#  include <malloc.h>
#endif

#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/customer.hpp"
#include "domain/customer_id.hpp"
#include "domain/customer_index.hpp"
#include "domain/query_plan.hpp"

namespace tmf {

namespace {

struct router_state {
  static constexpr const char* name = "router";

  struct entry {
    customer_actor handle;
    uint64_t forwarded = 0; ///< messages sent to `handle`
    /// On the actor clock: simulated time in deterministic tests.
    caf::actor_clock::time_point last_used;
    std::list<std::string>::iterator lru_pos;
  };

  router_config cfg;
  std::unordered_map<std::string, entry> customers;
  std::list<std::string> lru; ///< resident ids, least recently used first
  size_t passivated = 0;      ///< since memory was last handed back
  std::unordered_map<caf::actor_id, std::string> ids; ///< handle -> id
  size_t next_reader = 0;
  std::vector<size_t> in_flight;   ///< list queries per reader
  std::set<std::string> ready;     ///< built indexes
  std::minstd_rand shard_rng{std::random_device{}()};
  /// Cluster: owned shards not taken over yet (their requests answer 503)
  /// and the owned ones that are, to create in.
  std::vector<bool> waiting;
  std::vector<uint16_t> ready_shards;
  uint64_t leaving = 0; ///< shards held here for other owners
};

using router_ptr = router_actor::stateful_pointer<router_state>;

customer_actor spawn_customer(router_ptr self, const std::string& id,
                              bool fresh) {
  auto& st = self->state;
  customer_env env;
  env.router = caf::actor_cast<router_actor>(self);
  env.writer = st.cfg.writer;
  env.reader = st.cfg.loader
                 ? st.cfg.loader
                 : st.cfg.readers[st.next_reader++ % st.cfg.readers.size()];
  env.load_timeout = st.cfg.load_timeout;
  env.layout = st.cfg.layout;
  auto handle = tmf::spawn_customer(self, id, fresh, std::move(env));
  self->monitor(handle);
  st.ids.emplace(handle.id(), id);
  return handle;
}

/// Registers a freshly spawned customer actor as most recently used; when
/// more than `max_resident` are resident, asks the least recently used one to
/// passivate (it reports idle, see the idle handler).
router_state::entry& add_entry(router_ptr self, const std::string& id,
                               customer_actor handle) {
  auto& st = self->state;
  auto pos = st.lru.insert(st.lru.end(), id);
  auto& e = st.customers[id];
  add_gauge(st.cfg.metrics.resident_customers, 1);
  e.handle = std::move(handle);
  e.last_used = self->clock().now();
  e.lru_pos = pos;
  if (st.customers.size() > st.cfg.max_resident && st.lru.front() != id) {
    auto& oldest = st.customers[st.lru.front()];
    self->send(oldest.handle, passivate_atom_v);
    // Move it back so that the next spawn asks another one.
    st.lru.splice(st.lru.end(), st.lru, oldest.lru_pos);
  }
  return e;
}

void remove_entry(router_state& st,
                  std::unordered_map<std::string,
                                     router_state::entry>::iterator i) {
  st.lru.erase(i->second.lru_pos);
  st.customers.erase(i);
  add_gauge(st.cfg.metrics.resident_customers, -1);
}

/// The customer actor of `id`, spawned (loading from the store) on first
/// use; counts the message about to be forwarded.
customer_actor& owner(router_ptr self, const std::string& id) {
  auto& st = self->state;
  auto i = st.customers.find(id);
  if (i == st.customers.end()) {
    auto& e = add_entry(self, id, spawn_customer(self, id, false));
    ++e.forwarded;
    return e.handle;
  }
  st.lru.splice(st.lru.end(), st.lru, i->second.lru_pos);
  i->second.last_used = self->clock().now();
  ++i->second.forwarded;
  return i->second.handle;
}

/// The link to the node that owns `id`'s shard, or nullptr when this node
/// owns it (or there is no cluster).
const link_actor* remote_owner(router_state& st, const std::string& id) {
  if (!st.cfg.cluster)
    return nullptr;
  auto& c = *st.cfg.cluster;
  auto owner = c.table->owner(domain::shard_of(id));
  return owner == c.self ? nullptr : &c.links[owner];
}

/// The error for a customer of an owned shard this node has not taken over
/// yet, if `id` is one.
std::optional<caf::error> moving_here(router_state& st,
                                      const std::string& id) {
  if (st.waiting.empty() || !st.waiting[domain::shard_of(id) %
                                        domain::shard_count])
    return std::nullopt;
  return caf::make_error(errc::unavailable,
                         "customer " + id
                           + " is moving to this node (the cluster grew); "
                             "retry");
}

caf::result<list_page> route_list(router_ptr self, list_query q);

/// A list query of this node's shards, on the lane its plan needs
/// (route_list). While shards move, a part would miss rows
/// or count them twice: it is refused.
caf::result<list_page> local_list(router_ptr self, list_query q) {
  auto& st = self->state;
  if (st.leaving > 0
      || std::find(st.waiting.begin(), st.waiting.end(), true)
           != st.waiting.end())
    return caf::make_error(errc::unavailable,
                           std::string{"shards are moving between the "
                                       "cluster's nodes; retry"});
  return route_list(self, std::move(q));
}

/// How often the router looks for idle customers.
caf::timespan sweep_interval(caf::timespan idle_timeout) {
  using namespace std::chrono;
  return std::clamp<caf::timespan>(idle_timeout / 2, milliseconds(10),
                                   seconds(5));
}

/// Asks every customer unused for the idle timeout to passivate. The LRU
/// list is in order of last use, so the walk stops at the first recent one.
/// An asked customer moves to the back: it is asked again only after another
/// idle period (if it could not passivate, e.g. a message was in flight).
void sweep(router_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  auto limit = st.lru.size();
  size_t asked = 0;
  for (size_t i = 0; i < limit && !st.lru.empty(); ++i, ++asked) {
    auto& e = st.customers[st.lru.front()];
    if (now - e.last_used < st.cfg.idle_timeout)
      break;
    self->send(e.handle, passivate_atom_v);
    e.last_used = now;
    st.lru.splice(st.lru.end(), st.lru, e.lru_pos);
  }
  // The allocator keeps the heap of passivated customers resident; give the
  // free pages back after many passivations, and once they have settled
  // (this sweep found no one idle), so that RSS follows the resident count.
  if (st.passivated >= 1000 || (st.passivated > 0 && asked == 0)) {
    st.passivated = 0;
#ifdef __GLIBC__
    malloc_trim(0);
#endif
  }
  self->delayed_send(self, sweep_interval(st.cfg.idle_timeout), sweep_atom_v);
}

/// Sends a query that reads every customer to the reader with the fewest
/// such queries in flight, so that an idle reader takes it.
caf::result<list_page> to_least_busy(router_ptr self, list_query q) {
  auto& st = self->state;
  auto& busy = st.in_flight;
  busy.resize(st.cfg.readers.size());
  auto i = static_cast<size_t>(std::min_element(busy.begin(), busy.end())
                               - busy.begin());
  ++busy[i];
  auto rp = self->make_response_promise<list_page>();
  // Readers are local, owned and always answer (their runs end at the
  // query's deadline).
  self->request(st.cfg.readers[i], caf::infinite, list_atom_v, std::move(q))
    .then(
      [=](list_page& page) mutable {
        --self->state.in_flight[i];
        rp.deliver(std::move(page));
      },
      [=](caf::error& err) mutable {
        --self->state.in_flight[i];
        rp.deliver(std::move(err));
      });
  return rp;
}

/// Queries an index or key lookups answer take the fast lane; the others
/// go to an idle reader.
caf::result<list_page> route_list(router_ptr self, list_query q) {
  auto& st = self->state;
  static const domain::index_layout none;
  const auto& layout = st.cfg.layout ? *st.cfg.layout : none;
  auto plan = domain::plan_list(q, layout, [&](const domain::index_spec& s) {
    return st.ready.count(s.path) > 0;
  });
  if (st.cfg.fast && !domain::reads_everything(plan))
    return self->delegate(st.cfg.fast, list_atom_v, std::move(q));
  return to_least_busy(self, std::move(q));
}

router_actor::behavior_type router_impl(router_ptr self, router_config cfg) {
  self->state.cfg = std::move(cfg);
  if (self->state.cfg.cluster) {
    // Until the shard mover reports, every owned shard counts as waiting.
    self->state.waiting.assign(domain::shard_count, false);
    for (auto s : self->state.cfg.cluster->own_shards)
      self->state.waiting[s] = true;
  }
  // One timer for all customers: a timeout per customer would be re-armed
  // on the clock thread for every message it handles.
  self->delayed_send(self, sweep_interval(self->state.cfg.idle_timeout),
                     sweep_atom_v);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    auto i = st.ids.find(dm.source.id());
    if (i == st.ids.end())
      return;
    auto c = st.customers.find(i->second);
    if (c != st.customers.end() && c->second.handle.id() == dm.source.id())
      remove_entry(st, c);
    st.ids.erase(i);
  });
  self->set_exit_handler([=](const caf::exit_msg& msg) {
    for (auto& kvp : self->state.customers)
      self->send_exit(kvp.second.handle, msg.reason);
    self->quit(msg.reason);
  });
  return {
    [=](create_atom a, std::string& body, std::vector<std::string>& terms,
        std::string& correlation) -> caf::result<customer_doc> {
      auto& st = self->state;
      // A single node owns every shard; a cluster node one of its own.
      uint16_t shard;
      if (st.cfg.cluster) {
        if (st.ready_shards.empty())
          return caf::make_error(errc::unavailable,
                                 std::string{"this node is taking over its "
                                             "shards; retry"});
        shard = st.ready_shards[st.shard_rng() % st.ready_shards.size()];
      } else {
        shard = static_cast<uint16_t>(st.shard_rng() % domain::shard_count);
      }
      auto id = domain::make_customer_id(shard);
      auto& e = add_entry(self, id, spawn_customer(self, id, true));
      e.forwarded = 1;
      return self->delegate(e.handle, a, std::move(body), std::move(terms),
                            std::move(correlation));
    },
    [=](retrieve_atom a,
        const std::string& id) -> caf::result<customer_doc> {
      if (auto* link = remote_owner(self->state, id))
        return self->delegate(*link, a, id);
      if (auto err = moving_here(self->state, id))
        return std::move(*err);
      return self->delegate(owner(self, id), a);
    },
    [=](retrieve_atom a, const std::string& id,
        std::vector<std::string>& fields) -> caf::result<customer_doc> {
      if (auto* link = remote_owner(self->state, id))
        return self->delegate(*link, a, id, std::move(fields));
      if (auto err = moving_here(self->state, id))
        return std::move(*err);
      return self->delegate(owner(self, id), a, std::move(fields));
    },
    [=](patch_atom a, const std::string& id,
        patch_request& req) -> caf::result<customer_doc> {
      if (auto* link = remote_owner(self->state, id))
        return self->delegate(*link, a, id, std::move(req));
      if (auto err = moving_here(self->state, id))
        return std::move(*err);
      return self->delegate(owner(self, id), a, std::move(req));
    },
    [=](erase_atom a, const std::string& id, std::string& correlation,
        std::string& if_match) -> caf::result<bool> {
      if (auto* link = remote_owner(self->state, id))
        return self->delegate(*link, a, id, std::move(correlation),
                              std::move(if_match));
      if (auto err = moving_here(self->state, id))
        return std::move(*err);
      return self->delegate(owner(self, id), a, std::move(correlation),
                            std::move(if_match));
    },
    [=](list_atom a, list_query& q) -> caf::result<list_page> {
      auto& st = self->state;
      if (!st.cfg.cluster)
        return local_list(self, std::move(q));
      // Every node's first offset + limit matches are merged: capped.
      if (q.offset + q.limit > st.cfg.cluster->max_window)
        return caf::make_error(
          errc::invalid, "offset + limit: at most "
                           + std::to_string(st.cfg.cluster->max_window)
                           + " in a cluster (cluster-max-window)");
      // A merged page has no continuation token: its links page by offset.
      if (!q.cursor.empty())
        return caf::make_error(errc::invalid,
                               std::string{"cursor: not a continuation token "
                                           "of this query (a cluster's "
                                           "lists page by offset)"});
      auto collector = spawn_list_collector(
        self, caf::actor_cast<router_actor>(self), st.cfg.cluster->links);
      return self->delegate(collector, a, std::move(q));
    },
    [=](list_atom, local_atom, list_query& q) {
      return local_list(self, std::move(q));
    },
    [=](index_atom, const std::vector<std::string>& ready) {
      self->state.ready.insert(ready.begin(), ready.end());
    },
    [=](sweep_atom) { sweep(self); },
    [=](held_atom, const std::vector<uint16_t>& waiting, uint64_t leaving) {
      auto& st = self->state;
      if (!st.cfg.cluster)
        return;
      st.waiting.assign(domain::shard_count, false);
      for (auto s : waiting)
        st.waiting[s % domain::shard_count] = true;
      st.ready_shards.clear();
      for (auto s : st.cfg.cluster->own_shards)
        if (!st.waiting[s])
          st.ready_shards.push_back(s);
      st.leaving = leaving;
    },
    [=](probe_atom) {
      return static_cast<uint64_t>(self->state.customers.size());
    },
    [=](idle_atom, const std::string& id, uint64_t handled) {
      auto& st = self->state;
      auto i = st.customers.find(id);
      if (i == st.customers.end() || i->second.forwarded != handled)
        return; // messages are in flight: it stays
      auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
      if (sender != i->second.handle.address())
        return; // a report from an earlier incarnation
      auto handle = i->second.handle;
      remove_entry(st, i);
      ++st.passivated;
      count(st.cfg.metrics.passivations);
      self->send_exit(handle, caf::exit_reason::user_shutdown);
    },
  };
}

} // namespace

router_actor spawn_router(caf::actor_system& sys, router_config cfg) {
  return sys.spawn(router_impl, std::move(cfg));
}

} // namespace tmf
