// The cluster's link and gateway actors on CAF's deterministic test
// coordinator, with fake peers: a link forwards to the peer's gateway once
// a hello introduced it, fails every pending request at once when that
// gateway goes down or the peer restarts, refuses requests while down and
// above max_pending; a gateway refuses hellos that disagree (logging each
// once) and requests for shards it does not own. No sockets, no sleeps:
// simulated time never advances, so no answer here can be a timeout.

#include "actors/cluster.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <catch2/catch.hpp>

#include "domain/cluster_map.hpp"
#include "domain/customer_id.hpp"
#include "fake_store.hpp"
#include "support/stderr_capture.hpp"

using namespace std::chrono_literals;
using tmf::cluster_hello;
using tmf::customer_doc;
using tmf::errc;
using tmf::list_page;
using tmf::list_query;
using tmf::test::reply;

namespace {

// -- fakes --------------------------------------------------------------------

/// What a fake actor saw, and the answers it holds back (shared with the
/// test; everything runs on the test's thread inside `run()`).
struct probe {
  bool hold = false;              ///< keep answers until released
  std::vector<std::string> seen;  ///< one line per request
  std::vector<std::function<void()>> held;

  /// Answers every held request, in order (inside the fake actor: a
  /// promise is delivered by its own actor).
  void release() {
    auto answers = std::move(held);
    held.clear();
    for (auto& f : answers)
      f();
  }

  template <class F>
  void answer(F f) {
    if (hold)
      held.emplace_back(std::move(f));
    else
      f();
  }
};

using probe_ptr = std::shared_ptr<probe>;

std::string doc_json(const std::string& id, const std::string& name) {
  return R"({"id":")" + id + R"(","name":")" + name + R"("})";
}

struct fake_gateway_state {
  static constexpr const char* name = "fake_gateway";
  probe_ptr p;
};

/// A peer's gateway, plus `flush_atom`: answer the held requests.
using fake_gateway_actor
  = tmf::gateway_actor::extend<caf::reacts_to<tmf::flush_atom>>;

/// A peer's gateway: answers forwarded requests (now, or when released).
fake_gateway_actor::behavior_type fake_gateway_impl(
  fake_gateway_actor::stateful_pointer<fake_gateway_state> self, probe_ptr p,
  cluster_hello mine) {
  self->state.p = std::move(p);
  return {
    [=](tmf::flush_atom) { self->state.p->release(); },
    [=](tmf::hello_atom, const cluster_hello& theirs,
        const caf::actor&) -> cluster_hello {
      self->state.p->seen.push_back("hello " + theirs.member);
      return mine;
    },
    [=](tmf::retrieve_atom,
        const std::string& id) -> caf::result<customer_doc> {
      auto& p = *self->state.p;
      p.seen.push_back("retrieve " + id);
      auto rp = self->make_response_promise<customer_doc>();
      p.answer([=]() mutable {
        rp.deliver(customer_doc{id, 1, doc_json(id, "remote")});
      });
      return rp;
    },
    [=](tmf::retrieve_atom, const std::string& id,
        const std::vector<std::string>& fields) -> caf::result<customer_doc> {
      auto& p = *self->state.p;
      p.seen.push_back("retrieve " + id + " fields " + fields.at(0));
      auto rp = self->make_response_promise<customer_doc>();
      p.answer([=]() mutable {
        rp.deliver(customer_doc{id, 1, R"({"id":")" + id + "\"}"});
      });
      return rp;
    },
    [=](tmf::patch_atom, const std::string& id,
        const tmf::patch_request& req) -> caf::result<customer_doc> {
      auto& p = *self->state.p;
      p.seen.push_back("patch " + id + " " + std::to_string(req.kind) + " "
                       + req.body + " " + req.correlation + " "
                       + req.if_match);
      auto rp = self->make_response_promise<customer_doc>();
      p.answer([=]() mutable {
        rp.deliver(customer_doc{id, 2, doc_json(id, "patched")});
      });
      return rp;
    },
    [=](tmf::erase_atom, const std::string& id, const std::string& correlation,
        const std::string& if_match) -> caf::result<bool> {
      auto& p = *self->state.p;
      p.seen.push_back("erase " + id + " " + correlation + " " + if_match);
      auto rp = self->make_response_promise<bool>();
      p.answer([=]() mutable { rp.deliver(true); });
      return rp;
    },
    [=](tmf::list_atom, tmf::local_atom,
        const list_query& q) -> caf::result<list_page> {
      auto& p = *self->state.p;
      p.seen.push_back("list limit " + std::to_string(q.limit));
      auto rp = self->make_response_promise<list_page>();
      p.answer([=]() mutable {
        rp.deliver(
          list_page{7, {doc_json("a", "A"), doc_json("b", "B")}, {}});
      });
      return rp;
    },
    [=](tmf::export_atom, uint16_t shard, const std::string& from) {
      self->state.p->seen.push_back("export " + std::to_string(shard) + " "
                                    + from);
      return tmf::shard_chunk{shard, {}, {}, {}};
    },
    [=](tmf::held_atom, const std::vector<uint16_t>& shards) {
      self->state.p->seen.push_back("held " + std::to_string(shards.size()));
      return shards;
    },
    [=](tmf::release_atom, uint16_t shard) {
      self->state.p->seen.push_back("release " + std::to_string(shard));
      return uint64_t{0};
    },
    [=](tmf::sync_atom, const tmf::hub_sync& sync) {
      self->state.p->seen.push_back("sync "
                                    + std::to_string(sync.live.size()));
    },
  };
}

struct fake_router_state {
  static constexpr const char* name = "fake_router";
  probe_ptr p;
};

/// The owner node's router behind a gateway: answers from "local" data.
tmf::router_actor::behavior_type fake_router_impl(
  tmf::router_actor::stateful_pointer<fake_router_state> self, probe_ptr p) {
  self->state.p = std::move(p);
  auto seen = [=](std::string line) {
    self->state.p->seen.push_back(std::move(line));
  };
  return {
    [=](tmf::create_atom, const std::string&, const std::vector<std::string>&,
        const std::string&) -> customer_doc {
      seen("create");
      return customer_doc{};
    },
    [=](tmf::retrieve_atom, const std::string& id) -> customer_doc {
      seen("retrieve " + id);
      return customer_doc{id, 3, doc_json(id, "local")};
    },
    [=](tmf::retrieve_atom, const std::string& id,
        const std::vector<std::string>&) -> customer_doc {
      seen("retrieve-fields " + id);
      return customer_doc{id, 3, R"({"id":")" + id + "\"}"};
    },
    [=](tmf::patch_atom, const std::string& id,
        const tmf::patch_request&) -> customer_doc {
      seen("patch " + id);
      return customer_doc{id, 4, doc_json(id, "local")};
    },
    [=](tmf::erase_atom, const std::string& id, const std::string&,
        const std::string&) {
      seen("erase " + id);
      return true;
    },
    [=](tmf::list_atom, const list_query&) -> list_page {
      seen("list");
      return list_page{};
    },
    [=](tmf::list_atom, tmf::local_atom, const list_query&) -> list_page {
      seen("list local");
      return list_page{1, {doc_json("l", "L")}, {}};
    },
    [=](tmf::idle_atom, const std::string&, uint64_t) {
      // nop
    },
    [=](tmf::sweep_atom) {
      // nop
    },
    [=](tmf::index_atom, const std::vector<std::string>&) {
      // nop
    },
    [=](tmf::held_atom, const std::vector<uint16_t>&, uint64_t) {
      // nop
    },
    [=](tmf::probe_atom) { return uint64_t{0}; },
  };
}

// -- fixture ------------------------------------------------------------------

const std::vector<std::string> member_specs{
  "n1=127.0.0.1:1=http://127.0.0.1:11",
  "n2=127.0.0.1:2=http://127.0.0.1:12",
  "n3=127.0.0.1:3=http://127.0.0.1:13",
};

/// The cluster configuration as node `self` sees it.
tmf::cluster_config config_of(const std::string& self, uint64_t epoch = 1,
                              std::vector<std::string> specs = member_specs) {
  tmf::cluster_config cfg;
  auto msg = tmf::domain::make_membership(self, epoch, specs, cfg.members);
  REQUIRE_FALSE(msg);
  return cfg;
}

bool is_unavailable(const caf::error& err, const std::string& part) {
  return err == errc::unavailable
         && tmf::error_text(err).find(part) != std::string::npos;
}

/// A fresh id in a shard that member `index` of `table` owns.
std::string id_owned_by(const tmf::domain::shard_table& table, size_t index) {
  auto shards = table.shards_of(index);
  REQUIRE_FALSE(shards.empty());
  return tmf::domain::make_customer_id(shards.front());
}

/// Node n2 with links to n1 and n3. n2 is not the lower name of n1 and n2,
/// so its link to n1 never dials: it comes up only through a hello (the
/// path where the peer dialed us), and no test here opens a socket.
struct cluster_fixture : tmf::test::deterministic_fixture {
  tmf::cluster_config cfg = config_of("n2");
  uint64_t incarnation = 42;
  std::vector<tmf::link_actor> links;

  void start_links(size_t max_pending = 1000) {
    cfg.max_pending = max_pending;
    cfg.request_timeout = 5s;
    links = tmf::spawn_links(sys, cfg, incarnation, {});
    REQUIRE(links.size() == 3);
    REQUIRE_FALSE(links[1]); // none for self
    for (auto& l : links)
      if (l)
        own(l);
    run();
  }

  tmf::link_actor& link_to_n1() {
    return links[0];
  }

  /// The hello of member `name` in incarnation `inc`.
  cluster_hello hello_of(const std::string& name, uint64_t inc,
                         uint64_t epoch = 1) {
    return tmf::own_hello(config_of(name, epoch), inc);
  }

  /// A fake gateway of n1 (incarnation `inc`) seeing into `p`.
  fake_gateway_actor spawn_peer_gateway(const probe_ptr& p, uint64_t inc) {
    return own(sys.spawn(fake_gateway_impl, p, hello_of("n1", inc)));
  }

  /// Lets the fake gateway `gw` answer what it holds.
  void release(const fake_gateway_actor& gw) {
    self->send(gw, tmf::flush_atom_v);
    run();
  }

  /// What n2's gateway does when n1 dialed and its hello agreed.
  void introduce(const fake_gateway_actor& gw, uint64_t inc) {
    self->send(link_to_n1(), tmf::hello_atom_v, hello_of("n1", inc),
               caf::actor_cast<caf::actor>(gw));
    run();
  }

  reply<customer_doc> retrieve(const std::string& id) {
    return call<customer_doc>(link_to_n1(), tmf::retrieve_atom_v, id);
  }

  /// Sends a retrieve through the link without waiting for its answer.
  auto send_retrieve(const std::string& id) {
    return self->request(link_to_n1(), caf::infinite, tmf::retrieve_atom_v,
                         id);
  }

  /// How many answers wait in the test's mailbox.
  size_t answers_waiting() {
    return self->mailbox().size();
  }
};

} // namespace

// -- links --------------------------------------------------------------------

TEST_CASE_METHOD(cluster_fixture,
                 "a cluster link refuses requests until a hello introduced "
                 "the peer's gateway, then forwards retrieve, patch, erase "
                 "and list to it") {
  start_links();
  auto before = retrieve("id-1");
  REQUIRE_FALSE(before);
  CHECK(is_unavailable(before.err, "node n1 is unreachable"));

  auto p = std::make_shared<probe>();
  auto gw = spawn_peer_gateway(p, 7);
  introduce(gw, 7);

  auto got = retrieve("id-1");
  REQUIRE(got);
  CHECK(got.value->id == "id-1");
  CHECK(got.value->json == doc_json("id-1", "remote"));

  auto fields = call<customer_doc>(link_to_n1(), tmf::retrieve_atom_v,
                                   std::string{"id-2"},
                                   std::vector<std::string>{"name"});
  REQUIRE(fields);
  CHECK(fields.value->json == R"({"id":"id-2"})");

  auto patched = call<customer_doc>(
    link_to_n1(), tmf::patch_atom_v, std::string{"id-1"},
    tmf::patch_request{tmf::patch_request::json_patch,
                       R"([{"op":"remove","path":"/x"}])", "\"2\"",
                       "corr-1"});
  REQUIRE(patched);
  CHECK(patched.value->version == 2);

  auto erased = call<bool>(link_to_n1(), tmf::erase_atom_v,
                           std::string{"id-1"}, std::string{"corr-2"},
                           std::string{"\"3\""});
  REQUIRE(erased);
  CHECK(*erased.value);

  list_query q;
  q.limit = 20;
  auto page = call<list_page>(link_to_n1(), tmf::list_atom_v,
                              tmf::local_atom_v, q);
  REQUIRE(page);
  CHECK(page.value->total == 7);
  CHECK(page.value->items.size() == 2);

  CHECK(p->seen
        == std::vector<std::string>{"retrieve id-1", "retrieve id-2 fields name",
                                    R"(patch id-1 1 [{"op":"remove","path":"/x"}] corr-1 "2")",
                                    R"(erase id-1 corr-2 "3")",
                                    "list limit 20"});
}

TEST_CASE_METHOD(cluster_fixture,
                 "a cluster link fails every pending forwarded request at "
                 "once with unavailable when the peer's gateway goes down, "
                 "then refuses requests at once") {
  start_links();
  auto p = std::make_shared<probe>();
  p->hold = true;
  auto gw = spawn_peer_gateway(p, 7);
  introduce(gw, 7);

  auto r1 = send_retrieve("id-1");
  auto r2 = self->request(link_to_n1(), caf::infinite, tmf::patch_atom_v,
                          std::string{"id-2"},
                          tmf::patch_request{tmf::patch_request::merge_patch,
                                             "{}", {}, {}});
  auto r3 = self->request(link_to_n1(), caf::infinite, tmf::erase_atom_v,
                          std::string{"id-3"}, std::string{}, std::string{});
  auto r4 = self->request(link_to_n1(), caf::infinite, tmf::list_atom_v,
                          tmf::local_atom_v, list_query{});
  run();
  REQUIRE(p->seen.size() == 4); // all four reached the peer
  REQUIRE(answers_waiting() == 0);

  // The peer dies holding them. Simulated time does not move: a request
  // timeout cannot fire, so these answers come from the down message.
  self->send_exit(gw, caf::exit_reason::kill);
  run();
  REQUIRE(answers_waiting() == 4);
  auto a1 = answer_of<customer_doc>(r1);
  auto a2 = answer_of<customer_doc>(r2);
  auto a3 = answer_of<bool>(r3);
  auto a4 = answer_of<list_page>(r4);
  for (const auto* err : {&a1.err, &a2.err, &a3.err, &a4.err}) {
    INFO(caf::to_string(*err));
    CHECK(is_unavailable(*err, "node n1 went down"));
  }
  CHECK_FALSE(a1);
  CHECK_FALSE(a2);
  CHECK_FALSE(a3);
  CHECK_FALSE(a4);

  // Down: refused at once, nothing reaches a peer.
  auto after = retrieve("id-4");
  REQUIRE_FALSE(after);
  CHECK(is_unavailable(after.err, "node n1 is unreachable"));
  CHECK(p->seen.size() == 4);
}

TEST_CASE_METHOD(cluster_fixture,
                 "a hello with a new incarnation brings a cluster link back "
                 "up after the old incarnation went down") {
  start_links();
  auto old_probe = std::make_shared<probe>();
  old_probe->hold = true;
  auto old_gw = spawn_peer_gateway(old_probe, 7);
  introduce(old_gw, 7);
  auto r1 = send_retrieve("id-1");
  run();
  self->send_exit(old_gw, caf::exit_reason::kill);
  run();
  REQUIRE(answers_waiting() == 1);
  CHECK(is_unavailable(answer_of<customer_doc>(r1).err, "went down"));
  REQUIRE_FALSE(retrieve("id-2"));

  auto new_probe = std::make_shared<probe>();
  introduce(spawn_peer_gateway(new_probe, 8), 8);
  auto got = retrieve("id-3");
  REQUIRE(got);
  CHECK(got.value->json == doc_json("id-3", "remote"));
  CHECK(new_probe->seen == std::vector<std::string>{"retrieve id-3"});
  CHECK(old_probe->seen == std::vector<std::string>{"retrieve id-1"});
}

TEST_CASE_METHOD(cluster_fixture,
                 "a hello with a new incarnation fails the requests pending "
                 "on the old one when its down has not arrived yet") {
  start_links();
  auto old_probe = std::make_shared<probe>();
  old_probe->hold = true;
  auto old_gw = spawn_peer_gateway(old_probe, 7);
  introduce(old_gw, 7);
  auto r1 = send_retrieve("id-1");
  auto r2 = send_retrieve("id-2");
  run();
  REQUIRE(old_probe->seen.size() == 2);
  // The restarted peer dials before this node saw the old one go.
  auto new_probe = std::make_shared<probe>();
  introduce(spawn_peer_gateway(new_probe, 8), 8);
  REQUIRE(answers_waiting() == 2);
  CHECK(is_unavailable(answer_of<customer_doc>(r1).err, "node n1 restarted"));
  CHECK(is_unavailable(answer_of<customer_doc>(r2).err, "node n1 restarted"));
  // The old one answers late: each request was answered once already.
  release(old_gw);
  CHECK(answers_waiting() == 0);
  // The old one's down no longer concerns the link.
  self->send_exit(old_gw, caf::exit_reason::kill);
  run();
  auto got = retrieve("id-4");
  REQUIRE(got);
  CHECK(new_probe->seen == std::vector<std::string>{"retrieve id-4"});
}

TEST_CASE_METHOD(cluster_fixture,
                 "a repeated hello of the same incarnation keeps a cluster "
                 "link's pending requests") {
  start_links();
  auto p = std::make_shared<probe>();
  p->hold = true;
  auto gw = spawn_peer_gateway(p, 7);
  introduce(gw, 7);
  auto r1 = send_retrieve("id-1");
  run();
  introduce(gw, 7);
  CHECK(answers_waiting() == 0);
  release(gw);
  auto a1 = answer_of<customer_doc>(r1);
  REQUIRE(a1);
  CHECK(a1.value->id == "id-1");
}

TEST_CASE_METHOD(cluster_fixture,
                 "a cluster link refuses requests beyond max_pending at once "
                 "and takes more once answers came back") {
  start_links(2);
  auto p = std::make_shared<probe>();
  p->hold = true;
  auto gw = spawn_peer_gateway(p, 7);
  introduce(gw, 7);
  auto r1 = send_retrieve("id-1");
  auto r2 = send_retrieve("id-2");
  run();
  auto third = retrieve("id-3");
  REQUIRE_FALSE(third);
  CHECK(is_unavailable(third.err, "too many requests waiting for node n1"));
  CHECK(p->seen.size() == 2); // the third never left
  release(gw);
  REQUIRE(answer_of<customer_doc>(r1));
  REQUIRE(answer_of<customer_doc>(r2));
  p->hold = false;
  auto fourth = retrieve("id-4");
  REQUIRE(fourth);
  CHECK(fourth.value->id == "id-4");
}

// -- gateway ------------------------------------------------------------------

namespace {

struct gateway_fixture : cluster_fixture {
  probe_ptr router_probe = std::make_shared<probe>();
  tmf::gateway_actor gateway;
  tmf::domain::shard_table table{{"n1", "n2", "n3"}};

  void start_gateway() {
    start_links();
    auto router = own(sys.spawn(fake_router_impl, router_probe));
    gateway = own(tmf::spawn_gateway(
      sys, cfg, incarnation, tmf::gateway_targets{router, {}, {}, {}}, links));
    run();
  }

  reply<cluster_hello> hello(const cluster_hello& h, caf::actor dialer) {
    return call<cluster_hello>(gateway, tmf::hello_atom_v, h,
                               std::move(dialer));
  }
};

} // namespace

TEST_CASE_METHOD(gateway_fixture,
                 "a cluster gateway answers an agreeing hello with its own "
                 "and brings its link to the dialer up") {
  start_gateway();
  auto p = std::make_shared<probe>();
  auto peer_gw = spawn_peer_gateway(p, 7);
  auto answer = hello(hello_of("n1", 7), caf::actor_cast<caf::actor>(peer_gw));
  REQUIRE(answer);
  CHECK(answer.value->member == "n2");
  CHECK(answer.value->incarnation == incarnation);
  CHECK(answer.value->epoch == 1);
  CHECK(answer.value->proto == tmf::cluster_proto);
  // The link to n1 now forwards to the dialer's gateway.
  auto got = retrieve("id-1");
  REQUIRE(got);
  CHECK(p->seen == std::vector<std::string>{"retrieve id-1"});
}

TEST_CASE_METHOD(gateway_fixture,
                 "a cluster gateway refuses a hello with another epoch, "
                 "membership or protocol, from an unknown member or in its "
                 "own name, and logs each refusal once") {
  start_gateway();
  auto p = std::make_shared<probe>();
  auto peer_gw = caf::actor_cast<caf::actor>(spawn_peer_gateway(p, 7));
  auto other_epoch = hello_of("n1", 7, 2);
  auto other_members = tmf::own_hello(
    config_of("n1", 1,
              {"n1=127.0.0.1:1=http://127.0.0.1:11",
               "n2=127.0.0.1:2=http://127.0.0.1:12",
               "n3=127.0.0.1:9=http://127.0.0.1:13"}),
    7);
  auto other_proto = hello_of("n1", 7);
  other_proto.proto = tmf::cluster_proto + 1;
  auto stranger = hello_of("n1", 7);
  stranger.member = "n9";
  auto twin = hello_of("n2", 7); // another node configured as n2
  tmf::test::stderr_capture log;
  for (int round = 0; round < 2; ++round) {
    for (const auto& h : {other_epoch, other_members, other_proto,
                          stranger, twin}) {
      INFO("round " << round << ": " << h.member << " epoch " << h.epoch
                    << " proto " << h.proto);
      auto answer = hello(h, peer_gw);
      REQUIRE_FALSE(answer);
      CHECK(answer.err == errc::invalid);
      CHECK_THAT(tmf::error_text(answer.err),
                 Catch::Contains("node " + h.member + " has epoch "));
    }
  }
  auto text = log.text();
  INFO(text);
  CHECK(tmf::test::count_of(text, "cluster: refusing a link: ") == 5);
  CHECK(tmf::test::count_of(text, "node n1 has epoch 2,") == 1);
  CHECK(tmf::test::count_of(text, "protocol "
                                    + std::to_string(tmf::cluster_proto + 1)
                                    + ", we have")
        == 1);
  CHECK(tmf::test::count_of(text, "node n9 has") == 1);
  CHECK(tmf::test::count_of(text, "node n2 has") == 1);
  // None of them brought the link up.
  auto got = retrieve("id-1");
  REQUIRE_FALSE(got);
  CHECK(is_unavailable(got.err, "unreachable"));
  CHECK(p->seen.empty());
}

TEST_CASE_METHOD(gateway_fixture,
                 "a cluster gateway refuses a request for a shard it does not "
                 "own (misrouted) and hands its own to the router") {
  start_gateway();
  auto own_id = id_owned_by(table, 1);     // n2
  auto foreign_id = id_owned_by(table, 0); // n1
  auto got = call<customer_doc>(gateway, tmf::retrieve_atom_v, own_id);
  REQUIRE(got);
  CHECK(got.value->json == doc_json(own_id, "local"));

  auto r = call<customer_doc>(gateway, tmf::retrieve_atom_v, foreign_id);
  REQUIRE_FALSE(r);
  CHECK(is_unavailable(r.err, "customer " + foreign_id + " is not on node n2"));
  auto f = call<customer_doc>(gateway, tmf::retrieve_atom_v, foreign_id,
                              std::vector<std::string>{"name"});
  CHECK(is_unavailable(f.err, "is not on node n2"));
  auto pt = call<customer_doc>(gateway, tmf::patch_atom_v, foreign_id,
                               tmf::patch_request{});
  CHECK(is_unavailable(pt.err, "is not on node n2"));
  auto e = call<bool>(gateway, tmf::erase_atom_v, foreign_id, std::string{},
                      std::string{});
  CHECK(is_unavailable(e.err, "is not on node n2"));
  auto bad = call<customer_doc>(gateway, tmf::retrieve_atom_v,
                                std::string{"not-an-id"});
  CHECK(is_unavailable(bad.err, "is not on node n2"));

  auto pt_own = call<customer_doc>(gateway, tmf::patch_atom_v, own_id,
                                   tmf::patch_request{});
  REQUIRE(pt_own);
  CHECK(pt_own.value->version == 4);
  list_query q;
  auto page = call<list_page>(gateway, tmf::list_atom_v, tmf::local_atom_v, q);
  REQUIRE(page);
  CHECK(page.value->total == 1);
  // Only this node's customers reached its router.
  CHECK(router_probe->seen
        == std::vector<std::string>{"retrieve " + own_id, "patch " + own_id,
                                    "list local"});
}
