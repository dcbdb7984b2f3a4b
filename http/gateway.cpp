#include "http/gateway.hpp"

#include <algorithm>
#include <vector>

#include <pthread.h>

#include <caf/actor_companion.hpp>
#include <caf/actor_system.hpp>
#include <caf/scoped_execution_unit.hpp>


namespace tmf::http {

namespace {

/// How often pending calls are checked against their deadline: a tenth of
/// the timeout, within [1 ms, 250 ms].
caf::timespan sweep_interval_for(caf::timespan timeout) {
  using namespace std::chrono;
  return std::clamp<caf::timespan>(timeout / 10, milliseconds(1),
                                   milliseconds(250));
}

} // namespace

gateway::gateway(caf::actor_system& sys, caf::timespan timeout)
  : timeout_(timeout), sweep_interval_(sweep_interval_for(timeout)) {
  // Hidden: it is not a worker the actor system waits for at shutdown.
  companion_ = sys.spawn<caf::actor_companion, caf::hidden>();
  auto self = caf::actor_cast<caf::actor_companion*>(companion_);
  self->on_enqueue(
    [this](caf::mailbox_element_ptr msg) { on_message(std::move(msg)); });
  sweeper_ = std::thread{[this] { sweep_loop(); }};
}

gateway::~gateway() {
  stop();
}

void gateway::stop() {
  std::unordered_map<uint64_t, std::unique_ptr<call>> left;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return;
    stopped_ = true;
    left.swap(calls_);
    order_.clear();
  }
  stopping_.notify_all();
  if (sweeper_.joinable() && sweeper_.get_id() != std::this_thread::get_id())
    sweeper_.join();
  // Once the handler is reset no reply handler runs any more (the
  // companion swaps it under its lock); then the companion terminates.
  if (auto self = caf::actor_cast<caf::actor_companion*>(companion_)) {
    self->on_enqueue(nullptr);
    caf::scoped_execution_unit unit{&self->home_system()};
    self->cleanup(caf::exit_reason::user_shutdown, &unit);
  }
  auto down = caf::make_error(caf::sec::request_receiver_down);
  for (auto& kvp : left)
    kvp.second->fail(down);
}

size_t gateway::pending() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return calls_.size();
}

caf::strong_actor_ptr gateway::sender() const {
  return caf::actor_cast<caf::strong_actor_ptr>(companion_);
}

uint64_t gateway::enlist(std::unique_ptr<call> c) {
  auto deadline = clock::now() + timeout_;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopped_) {
      auto id = next_id_++ & caf::message_id::request_id_mask;
      if (id == 0)
        id = next_id_++;
      // Answered calls leave their id at the front; drop those first so
      // the queue stays as short as the oldest pending call.
      while (!order_.empty() && calls_.count(order_.front().first) == 0)
        order_.pop_front();
      calls_.emplace(id, std::move(c));
      order_.emplace_back(id, deadline);
      return id;
    }
  }
  c->fail(caf::make_error(caf::sec::request_receiver_down));
  return 0;
}

std::unique_ptr<gateway::call> gateway::take(uint64_t id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = calls_.find(id);
  if (i == calls_.end())
    return nullptr;
  auto c = std::move(i->second);
  calls_.erase(i);
  return c;
}

void gateway::on_message(caf::mailbox_element_ptr msg) {
  if (!msg)
    return;
  if (msg->mid.is_response()) {
    // A reply, or CAF bouncing the request (receiver down): either way the
    // content is the result or an error.
    if (auto c = take(msg->mid.request_id().integer_value()))
      c->reply(msg->content());
    return; // a late reply after the timeout answered: nothing to do
  }
}

void gateway::sweep() {
  std::vector<std::unique_ptr<call>> expired;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto now = clock::now();
    while (!order_.empty() && order_.front().second <= now) {
      auto i = calls_.find(order_.front().first);
      if (i != calls_.end()) {
        expired.push_back(std::move(i->second));
        calls_.erase(i);
      }
      order_.pop_front();
    }
  }
  auto timeout = caf::make_error(caf::sec::request_timeout);
  for (auto& c : expired)
    c->fail(timeout);
}

void gateway::sweep_loop() {
  pthread_setname_np(pthread_self(), "http.sweep");
  std::unique_lock<std::mutex> guard{mtx_};
  while (!stopped_) {
    stopping_.wait_for(guard, sweep_interval_);
    if (stopped_)
      return;
    guard.unlock();
    sweep();
    guard.lock();
  }
}

} // namespace tmf::http
