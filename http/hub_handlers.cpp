#include "http/hub_handlers.hpp"

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <restinio/all.hpp>

#include "domain/json_body.hpp"
#include "http/validate.hpp"

namespace tmf::http {

namespace {

using json = nlohmann::json;

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

json record_json(const hub_record& rec) {
  return json{{"id", rec.id}, {"callback", rec.callback},
              {"query", rec.query}};
}

/// The swagger's event type of listener path `name`
/// (`customerCreateEvent` -> `CustomerCreateEvent`), empty if unknown.
std::string event_type_of(std::string_view name) {
  for (std::string_view known :
       {"customerCreateEvent", "customerAttributeValueChangeEvent",
        "customerStateChangeEvent", "customerDeleteEvent"})
    if (name == known) {
      std::string type{known};
      type[0] = 'C';
      return type;
    }
  return {};
}

/// The string member `name` of `body`, or an error.
std::optional<http_error> string_member(const json& body, const char* name,
                                        bool required, std::string& out) {
  auto i = body.find(name);
  if (i == body.end()) {
    if (!required)
      return std::nullopt;
    return http_error{status::bad_request,
                      std::string{name} + ": required attribute is missing"};
  }
  if (!i->is_string())
    return http_error{status::bad_request,
                      std::string{name} + ": expected string"};
  out = i->get<std::string>();
  return std::nullopt;
}

} // namespace

void create_subscription(const exchange_ptr& ex, std::string_view) {
  json body;
  if (auto err = read_json_object(*ex, "POST /hub", body))
    return ex->fail(*err);
  std::string callback;
  std::string query;
  if (auto err = string_member(body, "callback", true, callback))
    return ex->fail(*err);
  if (auto err = string_member(body, "query", false, query))
    return ex->fail(*err);
  auto base = ex->hub_base();
  exchange::ask_notifier(
    ex,
    [ex, base](hub_record& rec) {
      ex->reply(status::created, dump(record_json(rec)),
                {{"Location", base + rec.id}});
    },
    subscribe_atom_v, std::move(callback), std::move(query));
}

void list_subscriptions(const exchange_ptr& ex, std::string_view) {
  exchange::ask_notifier(
    ex,
    [ex](std::vector<hub_record>& recs) {
      auto out = json::array();
      for (auto& rec : recs)
        out.push_back(record_json(rec));
      ex->reply(status::ok, dump(out));
    },
    hub_atom_v);
}

void retrieve_subscription(const exchange_ptr& ex, std::string_view id) {
  exchange::ask_notifier(
    ex,
    [ex](hub_record& rec) { ex->reply(status::ok, dump(record_json(rec))); },
    hub_atom_v, std::string{id});
}

void delete_subscription(const exchange_ptr& ex, std::string_view id) {
  exchange::ask_notifier(
    ex, [ex](bool) { ex->reply(status::no_content, {}); },
    unsubscribe_atom_v, std::string{id});
}

void list_parked(const exchange_ptr& ex, std::string_view id) {
  exchange::ask_notifier(
    ex,
    [ex](std::vector<parked_event>& events) {
      auto out = json::array();
      for (auto& p : events) {
        json event;
        std::string error;
        domain::parse_json(p.event, domain::max_stored_depth, event, error);
        out.push_back(json{{"eventId", p.event_id},
                           {"reason", p.reason},
                           {"attempts", p.attempts},
                           {"event", std::move(event)}});
      }
      ex->reply(status::ok, dump(out));
    },
    parked_atom_v, std::string{id});
}

void replay_parked(const exchange_ptr& ex, std::string_view id) {
  exchange::ask_notifier(
    ex,
    [ex](uint64_t n) {
      ex->reply(status::ok, dump(json{{"replayed", n}}));
    },
    replay_atom_v, std::string{id});
}

void receive_event(const exchange_ptr& ex, std::string_view name) {
  auto type = event_type_of(name);
  if (type.empty())
    return ex->fail(status::not_found,
                    "no listener for " + std::string{name});
  json body;
  if (auto err = read_json_object(*ex, "POST /listener/" + std::string{name},
                                  body))
    return ex->fail(*err);
  std::string event_id;
  std::string event_type;
  if (auto err = string_member(body, "eventId", true, event_id))
    return ex->fail(*err);
  if (auto err = string_member(body, "eventType", true, event_type))
    return ex->fail(*err);
  if (event_type != type)
    return ex->fail(status::bad_request, "eventType: expected " + type
                                           + ", got " + event_type);
  auto payload = body.find("event");
  if (payload == body.end() || !payload->is_object()
      || !payload->contains("customer")
      || !(*payload)["customer"].is_object())
    return ex->fail(status::bad_request,
                    "event.customer: required object is missing");
  auto text = dump(body);
  ex->ctx().received.add(text);
  ex->reply(status::created, std::move(text));
}

void list_received(const exchange_ptr& ex, std::string_view) {
  std::string out = "[";
  for (auto& text : ex->ctx().received.all()) {
    if (out.size() > 1)
      out += ',';
    out += text;
  }
  out += ']';
  ex->reply(status::ok, std::move(out));
}

} // namespace tmf::http
