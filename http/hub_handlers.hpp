#pragma once

// The handlers of the event hub (TMF630 part 2) and of the listener
// endpoints: subscriptions go to the notifier; events POSTed to
// `/listener/{eventName}` are checked and kept (the last
// `listener-log-size`), so that one instance can subscribe to another and
// tests and demos have a real receiver.

#include <string_view>

#include "http/exchange.hpp"

namespace tmf::http {

/// `POST /hub {callback, query}`: 201 with the subscription and Location.
void create_subscription(const exchange_ptr& ex, std::string_view);

/// `GET /hub`: every subscription.
void list_subscriptions(const exchange_ptr& ex, std::string_view);

/// `GET /hub/{id}`.
void retrieve_subscription(const exchange_ptr& ex, std::string_view id);

/// `DELETE /hub/{id}`: 204.
void delete_subscription(const exchange_ptr& ex, std::string_view id);

/// `GET /hub/{id}/parked`: the events the subscription could not take.
void list_parked(const exchange_ptr& ex, std::string_view id);

/// `POST /hub/{id}/parked/replay`: sends them again; `{"replayed": n}`.
void replay_parked(const exchange_ptr& ex, std::string_view id);

/// `POST /listener/{eventName}`: checks and keeps an event; 201.
void receive_event(const exchange_ptr& ex, std::string_view name);

/// `GET /listener`: the events received, oldest first.
void list_received(const exchange_ptr& ex, std::string_view);

} // namespace tmf::http
