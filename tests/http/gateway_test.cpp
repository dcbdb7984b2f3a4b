// The gateway: requests sent from the HTTP layer without an actor per
// request. Every call ends exactly once: with the typed reply, the error
// reply, the bounce of a dead receiver, the request timeout, or stop().

#include "http/gateway.hpp"

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actors/protocol.hpp"

using namespace std::chrono_literals;
using tmf::customer_doc;
using tmf::errc;
using tmf::http::gateway;

namespace {

/// A reader that answers `load` for "known", fails with not_found for any
/// other id, and never answers "silent" (its promise is dropped unfulfilled).
tmf::store_reader_actor::behavior_type
scripted_reader(tmf::store_reader_actor::pointer self) {
  return {
    [=](tmf::load_atom,
        const std::string& id) -> caf::result<customer_doc> {
      if (id == "known")
        return customer_doc{id, 7, R"({"id":"known"})"};
      if (id == "silent") {
        auto rp = self->make_response_promise<customer_doc>();
        return rp; // dropped: CAF 0.17 tells nobody
      }
      return caf::make_error(errc::not_found, "no customer with id " + id);
    },
    [=](tmf::list_atom, tmf::list_query&) -> caf::result<tmf::list_page> {
      return tmf::list_page{};
    },
    [=](tmf::export_atom, uint16_t,
        const std::string&) -> caf::result<tmf::shard_chunk> {
      return caf::make_error(errc::invalid, std::string{"not scripted"});
    },
  };
}

/// What one call ended with; counts endings so that a second one shows.
struct outcome {
  std::mutex mtx;
  int endings = 0;
  std::string doc_id;
  caf::error err;
  std::thread::id thread;

  bool ended() {
    std::lock_guard<std::mutex> guard{mtx};
    return endings > 0;
  }
};

template <class Handle>
void ask_load(gateway& gw, const Handle& reader, outcome& out,
              const std::string& id) {
  gw.ask(
    reader,
    [&out](customer_doc& doc) {
      std::lock_guard<std::mutex> guard{out.mtx};
      ++out.endings;
      out.doc_id = doc.id;
      out.thread = std::this_thread::get_id();
    },
    [&out](const caf::error& err) {
      std::lock_guard<std::mutex> guard{out.mtx};
      ++out.endings;
      out.err = err;
      out.thread = std::this_thread::get_id();
    },
    tmf::load_atom_v, id);
}

bool eventually(outcome& out, std::chrono::milliseconds limit = 3000ms) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!out.ended() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(1ms);
  return out.ended();
}

struct fixture {
  static caf::actor_system_config& make_config(caf::actor_system_config& c) {
    tmf::add_message_types(c);
    c.set("scheduler.max-threads", 2);
    return c;
  }
  caf::actor_system_config cfg;
  caf::actor_system sys{make_config(cfg)};
  tmf::store_reader_actor reader = sys.spawn(scripted_reader);

  ~fixture() {
    caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
  }
};

} // namespace

TEST_CASE_METHOD(fixture, "a gateway call ends with the typed reply") {
  gateway gw{sys, 5s};
  outcome out;
  ask_load(gw, reader, out, "known");
  REQUIRE(eventually(out));
  // Give a wrong second ending the chance to show.
  std::this_thread::sleep_for(20ms);
  CHECK(out.endings == 1);
  CHECK(out.doc_id == "known");
  CHECK(!out.err);
  CHECK(out.thread != std::this_thread::get_id());
  CHECK(gw.pending() == 0);
}

TEST_CASE_METHOD(fixture, "a gateway call ends with the error the actor "
                          "replies") {
  gateway gw{sys, 5s};
  outcome out;
  ask_load(gw, reader, out, "unknown");
  REQUIRE(eventually(out));
  CHECK(out.endings == 1);
  CHECK(out.err == caf::make_error(errc::not_found));
  CHECK(out.doc_id.empty());
  CHECK(gw.pending() == 0);
}

TEST_CASE_METHOD(fixture, "a gateway call nobody answers times out once") {
  gateway gw{sys, 50ms};
  outcome out;
  auto begin = std::chrono::steady_clock::now();
  ask_load(gw, reader, out, "silent");
  REQUIRE(eventually(out));
  auto took = std::chrono::steady_clock::now() - begin;
  CHECK(took >= 50ms);
  CHECK(took < 2s);
  std::this_thread::sleep_for(120ms);
  CHECK(out.endings == 1);
  CHECK(out.err == caf::make_error(caf::sec::request_timeout));
  CHECK(gw.pending() == 0);
}

TEST_CASE_METHOD(fixture, "a gateway call to a stopped actor ends with "
                          "receiver down") {
  gateway gw{sys, 5s};
  {
    caf::scoped_actor self{sys};
    self->monitor(reader);
    caf::anon_send_exit(reader, caf::exit_reason::user_shutdown);
    bool down = false;
    self->receive([&](caf::down_msg&) { down = true; },
                  caf::after(3s) >> [] {});
    REQUIRE(down);
  }
  outcome out;
  ask_load(gw, reader, out, "known");
  REQUIRE(eventually(out));
  CHECK(out.endings == 1);
  CHECK(out.err == caf::make_error(caf::sec::request_receiver_down));
}

TEST_CASE_METHOD(fixture, "stopping the gateway ends every pending call and "
                          "refuses new ones") {
  gateway gw{sys, 60s};
  outcome silent;
  ask_load(gw, reader, silent, "silent");
  // The reader drops the promise; the call stays pending until stop().
  std::this_thread::sleep_for(50ms);
  CHECK(!silent.ended());
  CHECK(gw.pending() == 1);
  gw.stop();
  REQUIRE(silent.ended());
  CHECK(silent.err == caf::make_error(caf::sec::request_receiver_down));
  outcome late;
  ask_load(gw, reader, late, "known");
  REQUIRE(late.ended()); // at once, on this thread
  CHECK(late.thread == std::this_thread::get_id());
  CHECK(late.err == caf::make_error(caf::sec::request_receiver_down));
  gw.stop(); // idempotent
  CHECK(silent.endings == 1);
  CHECK(late.endings == 1);
}

TEST_CASE_METHOD(fixture, "many concurrent gateway calls each end exactly "
                          "once with their own reply") {
  gateway gw{sys, 5s};
  constexpr int per_thread = 2000;
  std::vector<outcome> outs(4 * per_thread);
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i)
        ask_load(gw, reader, outs[t * per_thread + i],
                 i % 2 == 0 ? "known" : "unknown");
    });
  for (auto& s : senders)
    s.join();
  for (auto& out : outs)
    REQUIRE(eventually(out));
  int ok = 0;
  int failed = 0;
  for (auto& out : outs) {
    CHECK(out.endings == 1);
    if (out.doc_id == "known")
      ++ok;
    else if (out.err == caf::make_error(errc::not_found))
      ++failed;
  }
  CHECK(ok == 2 * per_thread);
  CHECK(failed == 2 * per_thread);
  CHECK(gw.pending() == 0);
}

// CAF 0.17's clock thread hands timers over through a ring buffer of 64
// events and ships expired ones by enqueueing them on its own thread; a
// companion's handler runs right there. Re-arming the sweep from that
// handler made the clock thread wait for room in its own buffer whenever
// other threads had filled it (many request timeouts: a cluster node
// forwarding at high load), which froze every timer of the process and
// every thread arming one. The scenario runs in a child process, so that
// a deadlock is a failed check and not a hung test.
TEST_CASE("a gateway's sweep never blocks CAF's clock while other threads "
          "keep it busy") {
  auto pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    caf::actor_system_config cfg;
    tmf::add_message_types(cfg);
    cfg.set("scheduler.max-threads", 2);
    caf::actor_system sys{cfg};
    auto sink = sys.spawn([] {
      return caf::behavior{[](tmf::sweep_atom) {
        // nop
      }};
    });
    {
      gateway gw{sys, 10ms}; // sweeps every millisecond
      std::atomic<bool> stop{false};
      std::vector<std::thread> timers;
      for (int t = 0; t < 3; ++t)
        timers.emplace_back([&] {
          while (!stop)
            caf::delayed_anon_send(sink, 1ms, tmf::sweep_atom_v);
        });
      std::this_thread::sleep_for(2s);
      stop = true;
      for (auto& t : timers)
        t.join();
      gw.stop();
    }
    caf::anon_send_exit(sink, caf::exit_reason::user_shutdown);
    _exit(0);
  }
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + 15s;
  pid_t done = 0;
  while ((done = waitpid(pid, &status, WNOHANG)) == 0
         && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL("the clock thread deadlocked: timers stopped for good");
  }
  REQUIRE(done == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
