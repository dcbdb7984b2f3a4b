#include "actors/cluster.hpp"

#include <algorithm>
#include <cstring>
#include <random>
#include <set>
#include <unordered_map>

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "domain/customer_fields.hpp"
#include "domain/customer_query.hpp"
#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"

namespace tmf {

namespace {

caf::error unavailable(const std::string& why) {
  return caf::make_error(errc::unavailable, why);
}

/// True when a TCP connection to host:port opens within `timeout`. Runs
/// on a thread of its own (a detached one-shot actor): never in an actor
/// that others wait for.
bool tcp_probe(const std::string& host, uint16_t port,
               std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found)
        != 0
      || found == nullptr)
    return false;
  bool ok = false;
  auto fd = socket(found->ai_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd >= 0) {
    auto rc = ::connect(fd, found->ai_addr, found->ai_addrlen);
    if (rc == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      if (poll(&p, 1, static_cast<int>(timeout.count())) == 1) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        ok = err == 0;
      }
    }
    ::close(fd);
  }
  freeaddrinfo(found);
  return ok;
}

bool agrees(const cluster_hello& mine, const cluster_hello& theirs) {
  return mine.epoch == theirs.epoch && mine.digest == theirs.digest
         && mine.proto == theirs.proto;
}

std::string describe(const cluster_hello& h) {
  return "epoch " + std::to_string(h.epoch) + ", membership digest "
         + std::to_string(h.digest) + ", protocol " + std::to_string(h.proto);
}

// -- links --------------------------------------------------------------------

struct link_state {
  static constexpr const char* name = "node_link";
  enum class phase : uint8_t { down, connecting, up };
  cluster_config cfg;
  domain::member peer;
  cluster_hello hello;       ///< ours
  bool dialer = false;       ///< our name is the lower one
  caf::actor own_gateway;    ///< sent in our hello
  notifier_actor notifier;   ///< whose subscriptions the peer gets
  gateway_actor gateway;     ///< the peer's, while up
  uint64_t peer_incarnation = 0;
  phase st = phase::down;
  uint64_t next_id = 1;
  /// Forwarded requests awaiting their answer: how to fail each.
  std::unordered_map<uint64_t, std::function<void(const caf::error&)>>
    pending;
  std::string last_refusal; ///< logged once until it changes
};

using link_ptr = link_actor::stateful_pointer<link_state>;

void schedule_retry(link_ptr self) {
  auto& st = self->state;
  st.st = link_state::phase::down;
  if (st.dialer)
    self->delayed_send(self, st.cfg.retry_period, retry_atom_v);
}

void log_refusal(link_ptr self, const std::string& why) {
  auto& st = self->state;
  if (why == st.last_refusal)
    return;
  st.last_refusal = why;
  log::warning("cluster: link to " + st.peer.name + " refused: " + why);
}

void link_up(link_ptr self, gateway_actor gw, uint64_t incarnation) {
  auto& st = self->state;
  if (st.gateway)
    self->demonitor(st.gateway.address());
  st.gateway = std::move(gw);
  st.peer_incarnation = incarnation;
  st.st = link_state::phase::up;
  st.last_refusal.clear();
  self->monitor(st.gateway);
  log::info("cluster: link to " + st.peer.name + " up");
  // The peer may have missed subscriptions stored or deleted here.
  if (st.notifier)
    self->request(st.notifier, st.cfg.request_timeout, sync_atom_v)
      .then(
        [=](hub_sync& sync) {
          auto& st = self->state;
          if (st.gateway)
            self->send(st.gateway, sync_atom_v, std::move(sync));
        },
        [](const caf::error& err) {
          log::warning("cluster: cannot read the hub to send it: "
                       + caf::to_string(err));
        });
}

void fail_pending(link_state& st, const std::string& why) {
  auto pending = std::move(st.pending);
  st.pending.clear();
  auto err = unavailable(why);
  for (auto& kvp : pending)
    kvp.second(err);
}

/// Dialing, step 2: CAF connects (the probe said the port answers), then
/// our hello verifies the handle.
void connect_and_greet(link_ptr self) {
  auto& st = self->state;
  auto mm = st.cfg.tls ? self->system().openssl_manager().actor_handle()
                       : self->system().middleman().actor_handle();
  self
    ->request(mm, st.cfg.connect_timeout, caf::connect_atom_v, st.peer.host,
              st.peer.port)
    .then(
      [=](const caf::node_id&, caf::strong_actor_ptr& ptr,
          const std::set<std::string>&) {
        auto gw = caf::actor_cast<gateway_actor>(std::move(ptr));
        if (!gw) {
          log_refusal(self, "no gateway published at the peer's address");
          schedule_retry(self);
          return;
        }
        auto& st = self->state;
        self
          ->request(gw, st.cfg.connect_timeout, hello_atom_v, st.hello,
                    st.own_gateway)
          .then(
            [=](const cluster_hello& theirs) {
              auto& st = self->state;
              if (theirs.member != st.peer.name || !agrees(st.hello, theirs)) {
                log_refusal(self, "it has " + describe(theirs) + ", we have "
                                    + describe(st.hello));
                schedule_retry(self);
                return;
              }
              link_up(self, gw, theirs.incarnation);
            },
            [=](const caf::error& err) {
              log_refusal(self, "hello failed: " + caf::to_string(err));
              schedule_retry(self);
            });
      },
      [=](const caf::error& err) {
        log_refusal(self, "cannot connect: " + caf::to_string(err));
        schedule_retry(self);
      });
}

/// Dialing, step 1: a TCP probe on a thread of its own.
void dial(link_ptr self) {
  auto& st = self->state;
  if (st.st != link_state::phase::down)
    return;
  st.st = link_state::phase::connecting;
  auto me = caf::actor_cast<link_actor>(self);
  auto host = st.peer.host;
  auto port = st.peer.port;
  auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
    st.cfg.probe_timeout);
  self->system().spawn<caf::detached>([=](caf::blocking_actor*) {
    caf::anon_send(me, probe_atom_v, tcp_probe(host, port, timeout));
  });
}

/// Forwards `xs...` to the peer's gateway; the answer, the peer's error,
/// the timeout, or the peer going down ends the request.
template <class T, class... Ts>
caf::result<T> forward(link_ptr self, Ts... xs) {
  auto& st = self->state;
  if (st.st != link_state::phase::up)
    return unavailable("node " + st.peer.name + " is unreachable; retry");
  if (st.pending.size() >= st.cfg.max_pending)
    return unavailable("too many requests waiting for node " + st.peer.name
                       + "; retry");
  auto rp = self->template make_response_promise<T>();
  auto id = st.next_id++;
  st.pending.emplace(id, [rp](const caf::error& err) mutable {
    rp.deliver(err);
  });
  self->request(st.gateway, st.cfg.request_timeout, std::move(xs)...)
    .then(
      [=](T& x) mutable {
        if (self->state.pending.erase(id) > 0)
          rp.deliver(std::move(x));
      },
      [=](caf::error& err) mutable {
        if (self->state.pending.erase(id) > 0)
          rp.deliver(std::move(err));
      });
  return rp;
}

link_actor::behavior_type link_impl(link_ptr self, cluster_config cfg,
                                    domain::member peer, uint64_t incarnation,
                                    notifier_actor notifier) {
  auto& st = self->state;
  st.notifier = std::move(notifier);
  st.hello = own_hello(cfg, incarnation);
  st.dialer = cfg.members.self < peer.name;
  st.cfg = std::move(cfg);
  st.peer = std::move(peer);
  self->set_down_handler([=](const caf::down_msg& dm) {
    auto& st = self->state;
    if (!st.gateway || dm.source != st.gateway.address())
      return;
    log::warning("cluster: link to " + st.peer.name + " down ("
                 + caf::to_string(dm.reason) + ")");
    st.gateway = nullptr;
    fail_pending(st, "node " + st.peer.name + " went down; retry");
    schedule_retry(self);
  });
  self->set_exit_handler([=](const caf::exit_msg& msg) {
    fail_pending(self->state, "the service is shutting down; retry");
    self->quit(msg.reason);
  });
  return {
    [=](retrieve_atom a, std::string& id) {
      return forward<customer_doc>(self, a, std::move(id));
    },
    [=](retrieve_atom a, std::string& id, std::vector<std::string>& fields) {
      return forward<customer_doc>(self, a, std::move(id), std::move(fields));
    },
    [=](patch_atom a, std::string& id, patch_request& req) {
      return forward<customer_doc>(self, a, std::move(id), std::move(req));
    },
    [=](erase_atom a, std::string& id, std::string& correlation,
        std::string& if_match) {
      return forward<bool>(self, a, std::move(id), std::move(correlation),
                           std::move(if_match));
    },
    [=](list_atom a, local_atom l, list_query& q) {
      return forward<list_page>(self, a, l, std::move(q));
    },
    [=](export_atom a, uint16_t shard, std::string& from) {
      return forward<shard_chunk>(self, a, shard, std::move(from));
    },
    [=](held_atom a, std::vector<uint16_t>& shards) {
      return forward<std::vector<uint16_t>>(self, a, std::move(shards));
    },
    [=](release_atom a, uint16_t shard) {
      return forward<uint64_t>(self, a, shard);
    },
    [=](sync_atom a, hub_sync& sync) {
      auto& st = self->state;
      if (st.st == link_state::phase::up)
        self->send(st.gateway, a, std::move(sync));
    },
    [=](start_atom, caf::actor& own_gateway) {
      self->state.own_gateway = std::move(own_gateway);
      if (self->state.dialer)
        dial(self);
    },
    [=](hello_atom, const cluster_hello& theirs, caf::actor& gw) {
      // The peer dialed us and its hello agreed (our gateway checked).
      auto& st = self->state;
      if (st.st == link_state::phase::up
          && st.peer_incarnation == theirs.incarnation)
        return;
      if (st.st == link_state::phase::up)
        fail_pending(st, "node " + st.peer.name + " restarted; retry");
      link_up(self, caf::actor_cast<gateway_actor>(std::move(gw)),
              theirs.incarnation);
    },
    [=](retry_atom) { dial(self); },
    [=](probe_atom, bool reachable) {
      if (!reachable) {
        log_refusal(self, "nothing answers at " + self->state.peer.host + ":"
                            + std::to_string(self->state.peer.port));
        schedule_retry(self);
        return;
      }
      connect_and_greet(self);
    },
  };
}

// -- gateway ------------------------------------------------------------------

struct gateway_state {
  static constexpr const char* name = "node_gateway";
  cluster_config cfg;
  cluster_hello hello;
  domain::shard_table table{{}};
  size_t self_index = 0;
  gateway_targets targets;
  std::vector<link_actor> links;
  std::set<std::string> refused; ///< logged once
};

using gateway_ptr = gateway_actor::stateful_pointer<gateway_state>;

/// The error when this node does not own the shard of `id`.
std::optional<caf::error> misrouted(gateway_state& st, const std::string& id) {
  if (domain::is_customer_id(id)
      && st.table.owner(domain::shard_of(id)) == st.self_index)
    return std::nullopt;
  return unavailable("customer " + id + " is not on node " + st.hello.member
                     + " (the cluster's membership differs); retry");
}

gateway_actor::behavior_type gateway_impl(gateway_ptr self,
                                          cluster_config cfg,
                                          uint64_t incarnation,
                                          gateway_targets targets,
                                          std::vector<link_actor> links) {
  auto& st = self->state;
  st.hello = own_hello(cfg, incarnation);
  std::vector<std::string> names;
  for (const auto& m : cfg.members.members)
    names.push_back(m.name);
  st.table = domain::shard_table{names};
  st.self_index = static_cast<size_t>(
    std::find(names.begin(), names.end(), cfg.members.self) - names.begin());
  st.cfg = std::move(cfg);
  st.targets = std::move(targets);
  st.links = std::move(links);
  return {
    [=](hello_atom, const cluster_hello& theirs,
        caf::actor& dialer) -> caf::result<cluster_hello> {
      auto& st = self->state;
      const auto& names = st.table.names();
      auto i = std::find(names.begin(), names.end(), theirs.member);
      // A hello in this node's own name comes from a node configured with
      // the same cluster.self: never link it.
      if (i == names.end() || theirs.member == st.hello.member
          || !agrees(st.hello, theirs)) {
        auto why = "node " + theirs.member + " has " + describe(theirs)
                   + ", we have " + describe(st.hello);
        if (st.refused.insert(why).second)
          log::warning("cluster: refusing a link: " + why);
        return caf::make_error(errc::invalid, why);
      }
      auto& link = st.links[static_cast<size_t>(i - names.begin())];
      if (link)
        self->send(link, hello_atom_v, theirs, std::move(dialer));
      return st.hello;
    },
    [=](retrieve_atom a,
        const std::string& id) -> caf::result<customer_doc> {
      if (auto err = misrouted(self->state, id))
        return std::move(*err);
      return self->delegate(self->state.targets.router, a, id);
    },
    [=](retrieve_atom a, const std::string& id,
        std::vector<std::string>& fields) -> caf::result<customer_doc> {
      if (auto err = misrouted(self->state, id))
        return std::move(*err);
      return self->delegate(self->state.targets.router, a, id, std::move(fields));
    },
    [=](patch_atom a, const std::string& id,
        patch_request& req) -> caf::result<customer_doc> {
      if (auto err = misrouted(self->state, id))
        return std::move(*err);
      return self->delegate(self->state.targets.router, a, id, std::move(req));
    },
    [=](erase_atom a, const std::string& id, std::string& correlation,
        std::string& if_match) -> caf::result<bool> {
      if (auto err = misrouted(self->state, id))
        return std::move(*err);
      return self->delegate(self->state.targets.router, a, id,
                            std::move(correlation), std::move(if_match));
    },
    [=](list_atom a, local_atom l,
        list_query& q) -> caf::delegated<list_page> {
      return self->delegate(self->state.targets.router, a, l, std::move(q));
    },
    [=](export_atom a, uint16_t shard,
        std::string& from) -> caf::result<shard_chunk> {
      auto& st = self->state;
      if (shard >= domain::shard_count
          || st.table.owner(shard) == st.self_index)
        return caf::make_error(errc::invalid,
                               "shard " + std::to_string(shard)
                                 + " is not for export from node "
                                 + st.hello.member);
      return self->delegate(st.targets.reader, a, shard, std::move(from));
    },
    [=](held_atom a, std::vector<uint16_t>& shards)
      -> caf::delegated<std::vector<uint16_t>> {
      return self->delegate(self->state.targets.mover, a, std::move(shards));
    },
    [=](release_atom a, uint16_t shard) -> caf::delegated<uint64_t> {
      return self->delegate(self->state.targets.mover, a, shard);
    },
    [=](sync_atom a, hub_sync& sync) {
      self->send(self->state.targets.notifier, a, std::move(sync));
    },
  };
}

// -- list collector -------------------------------------------------------------

/// Merges the parts of a cluster list: each holds its node's first
/// offset + limit matches in the global order (id, or the sort keys then
/// id: domain::sort_before) and its node's total; the totals add up.
list_page merge_parts(std::vector<list_page>& parts, const list_query& q) {
  std::vector<std::string> items;
  list_page out;
  for (auto& part : parts) {
    out.total += part.total;
    std::move(part.items.begin(), part.items.end(),
              std::back_inserter(items));
  }
  if (q.sort.empty()) {
    std::sort(items.begin(), items.end(),
              [](const std::string& x, const std::string& y) {
                return domain::stored_id(x) < domain::stored_id(y);
              });
  } else {
    std::vector<std::pair<nlohmann::json, size_t>> docs;
    for (size_t i = 0; i < items.size(); ++i) {
      nlohmann::json doc;
      std::string error;
      domain::parse_json(items[i], domain::max_stored_depth, doc, error);
      docs.emplace_back(std::move(doc), i);
    }
    std::stable_sort(docs.begin(), docs.end(),
                     [&](const auto& x, const auto& y) {
                       return domain::sort_before(x.first, y.first, q.sort);
                     });
    std::vector<std::string> sorted;
    for (auto& d : docs)
      sorted.push_back(std::move(items[d.second]));
    items = std::move(sorted);
  }
  for (auto i = q.offset; i < items.size() && i - q.offset < q.limit; ++i)
    out.items.push_back(q.fields.empty()
                          ? std::move(items[i])
                          : domain::select_fields_text(items[i], q.fields));
  return out;
}

struct collector_state {
  static constexpr const char* name = "list_collector";
  std::vector<list_page> parts;
  size_t expected = 0;
  bool answered = false;
};

list_collector_actor::behavior_type
collector_impl(list_collector_actor::stateful_pointer<collector_state> self,
               router_actor router, std::vector<link_actor> links) {
  return {
    [=](list_atom, list_query& q) -> caf::result<list_page> {
      auto rp = self->make_response_promise<list_page>();
      auto part_query = q;
      part_query.offset = 0;
      part_query.limit = q.offset + q.limit;
      part_query.fields.clear(); // applied after the merge
      // A node's unsorted page is in the order its plan reads (an index's
      // value order, say): the parts are asked for the id order, the
      // order they are merged in, so each holds its first matches in it.
      if (part_query.sort.empty())
        part_query.sort.push_back(sort_key{"id", false});
      auto& st = self->state;
      st.expected = 1;
      for (auto& link : links)
        if (link)
          ++st.expected;
      auto shared_q = std::make_shared<list_query>(std::move(q));
      auto on_part = [=](list_page& part) mutable {
        auto& st = self->state;
        if (st.answered)
          return;
        st.parts.push_back(std::move(part));
        if (st.parts.size() < st.expected)
          return;
        st.answered = true;
        rp.deliver(merge_parts(st.parts, *shared_q));
        self->quit();
      };
      auto on_error = [=](caf::error& err) mutable {
        auto& st = self->state;
        if (st.answered)
          return;
        st.answered = true;
        // A missing part would make a silently short page.
        rp.deliver(err.category() == caf::atom("tmf")
                     ? std::move(err)
                     : unavailable("a node did not answer its part of the "
                                   "list: " + caf::to_string(err)));
        self->quit();
      };
      self->request(router, caf::infinite, list_atom_v, local_atom_v,
                    part_query)
        .then(on_part, on_error);
      for (auto& link : links)
        if (link)
          self->request(link, caf::infinite, list_atom_v, local_atom_v,
                        part_query)
            .then(on_part, on_error);
      return rp;
    },
  };
}

} // namespace

uint64_t make_incarnation() {
  std::random_device rd;
  return (uint64_t{rd()} << 32) ^ rd();
}

cluster_hello own_hello(const cluster_config& cfg, uint64_t incarnation) {
  return cluster_hello{cfg.members.self, incarnation, cfg.members.epoch,
                       domain::membership_digest(cfg.members), cluster_proto};
}

std::vector<link_actor> spawn_links(caf::actor_system& sys,
                                    const cluster_config& cfg,
                                    uint64_t incarnation,
                                    notifier_actor notifier) {
  std::vector<link_actor> links;
  for (const auto& m : cfg.members.members)
    links.push_back(m.name == cfg.members.self
                      ? link_actor{}
                      : sys.spawn(link_impl, cfg, m, incarnation, notifier));
  return links;
}

gateway_actor spawn_gateway(caf::actor_system& sys, const cluster_config& cfg,
                            uint64_t incarnation, gateway_targets targets,
                            std::vector<link_actor> links) {
  return sys.spawn(gateway_impl, cfg, incarnation, std::move(targets),
                   std::move(links));
}

list_collector_actor spawn_list_collector(caf::local_actor* parent,
                                          router_actor router,
                                          std::vector<link_actor> links) {
  return parent->spawn(collector_impl, std::move(router), std::move(links));
}

} // namespace tmf
