#pragma once

// The gateway: the one actor identity the HTTP layer sends its requests
// from. A handler sends a request message straight into the router's
// mailbox with the gateway as sender; the reply comes back on the replying
// actor's thread and completes the pending call there. No actor is spawned
// per request and no CAF timer is armed per request: one periodic sweep,
// on a thread of the gateway's own, answers every call still pending after
// the request timeout. (Not on CAF's clock: a companion's handler runs on
// the thread that enqueues, and CAF 0.17's clock thread, re-arming a timer
// from there, waits on itself once other threads filled its 64-slot
// buffer: every timer of the process stops.)

#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/error.hpp>
#include <caf/mailbox_element.hpp>
#include <caf/message.hpp>
#include <caf/type_erased_tuple.hpp>
#include <caf/response_type.hpp>
#include <caf/sec.hpp>

namespace caf {
class actor_system;
}

namespace tmf::http {

class gateway {
public:
  using clock = std::chrono::steady_clock;

  /// A pending call: gets exactly one of the reply or the failure.
  class call {
  public:
    virtual ~call() = default;
    /// The reply's content (the replying handler's result, or an error).
    virtual void reply(caf::type_erased_tuple& content) = 0;
    virtual void fail(const caf::error& err) = 0;
  };

  /// Calls pending longer than `timeout` fail with sec::request_timeout.
  gateway(caf::actor_system& sys, caf::timespan timeout);
  ~gateway();

  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Sends `xs...` as a request to the typed actor `dest`; `on_ok` gets the
  /// typed reply, `on_err` an error, a bounced request or the timeout. Both
  /// run on whichever thread answers; neither may block.
  template <class Handle, class OnOk, class OnErr, class... Ts>
  void ask(const Handle& dest, OnOk on_ok, OnErr on_err, Ts&&... xs) {
    using response = caf::response_type<typename Handle::signatures,
                                        std::decay_t<Ts>...>;
    static_assert(response::valid, "the actor does not accept this request");
    using reply_types = typename response::type;
    auto c = std::make_unique<typed_call<reply_types, OnOk, OnErr>>(
      std::move(on_ok), std::move(on_err));
    auto dst = caf::actor_cast<caf::strong_actor_ptr>(dest);
    if (!dst) {
      c->fail(caf::make_error(caf::sec::invalid_argument));
      return;
    }
    auto id = enlist(std::move(c));
    if (id == 0)
      return; // stopped: the call has failed already
    dst->enqueue(caf::make_mailbox_element(sender(), caf::make_message_id(id),
                                           {}, std::forward<Ts>(xs)...),
                 nullptr);
  }

  /// Stops taking replies; calls still pending fail with
  /// sec::request_receiver_down. Idempotent.
  void stop();

  /// Calls awaiting their reply (for tests and shutdown logs).
  size_t pending() const;

private:
  template <class Reply, class OnOk, class OnErr>
  class typed_call;

  template <class T, class OnOk, class OnErr>
  class typed_call<caf::detail::type_list<T>, OnOk, OnErr> final
    : public call {
  public:
    typed_call(OnOk ok, OnErr err) : ok_(std::move(ok)), err_(std::move(err)) {
    }
    void reply(caf::type_erased_tuple& content) override {
      if (content.match_elements<T>())
        ok_(content.get_mutable_as<T>(0));
      else if (content.match_elements<caf::error>())
        err_(content.get_as<caf::error>(0));
      else
        err_(caf::make_error(caf::sec::unexpected_response));
    }
    void fail(const caf::error& err) override {
      err_(err);
    }

  private:
    OnOk ok_;
    OnErr err_;
  };

  /// Registers `c` under a fresh request id (0 and a failed `c` if stopped).
  uint64_t enlist(std::unique_ptr<call> c);

  /// Takes the call waiting for request id `id`, if any.
  std::unique_ptr<call> take(uint64_t id);

  void on_message(caf::mailbox_element_ptr msg);
  void sweep();
  /// The sweeper thread: sweeps every sweep_interval_ until stopped.
  void sweep_loop();
  caf::strong_actor_ptr sender() const;

  caf::timespan timeout_;
  caf::timespan sweep_interval_;
  caf::actor companion_;
  mutable std::mutex mtx_;
  std::condition_variable stopping_; ///< wakes the sweeper at stop()
  std::thread sweeper_;
  bool stopped_ = false;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<call>> calls_;
  /// Request ids in the order sent, with their deadlines (all calls share
  /// one timeout, so this is also deadline order).
  std::deque<std::pair<uint64_t, clock::time_point>> order_;
};

} // namespace tmf::http
