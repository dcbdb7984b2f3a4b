#pragma once

// The TMF629 events of customer changes: which events a write emits and
// their envelope. An event is stored in the outbox, in the same
// transaction as its write, as its envelope text with the customer in
// stored-text form (no href); the notifier adds `href` when it delivers
// (domain/hub.hpp).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tmf::domain {

enum class event_type : uint8_t {
  create,                 ///< CustomerCreateEvent (POST)
  attribute_value_change, ///< CustomerAttributeValueChangeEvent (PATCH)
  state_change,           ///< CustomerStateChangeEvent (PATCH of status)
  remove,                 ///< CustomerDeleteEvent (DELETE)
};

/// The swagger's name of `type` ("CustomerCreateEvent").
const char* event_type_name(event_type type) noexcept;

/// One event a write emits.
struct event_spec {
  event_type type;
  std::string field_path; ///< attribute change: the changed attributes
};

/// The events of a PATCH that changed the top-level attributes `changed`:
/// an attribute value change listing every changed attribute but `status`
/// in `fieldPath` (comma-separated, sorted), a state change when `status`
/// changed, both when both did, none when nothing changed.
std::vector<event_spec> patch_events(std::vector<std::string> changed);

/// What an event says besides its type.
struct event_meta {
  std::string event_id;       ///< unique (make_random_id)
  std::string event_time;     ///< RFC 3339, UTC (rfc3339_utc)
  std::string correlation_id; ///< from X-Correlation-ID; empty: none
};

/// The outbox text of one event: `{"eventId":..,"eventTime":..,
/// "eventType":..[,"correlationId":..][,"fieldPath":..],"event":
/// {"customer":<customer_text>}}`. `customer_text` is a stored text.
std::string event_text(const event_spec& spec, const event_meta& meta,
                       std::string_view customer_text);

/// `unix_nanos` as an RFC 3339 date-time in UTC with milliseconds
/// (`2026-12-01T15:41:35.477Z`).
std::string rfc3339_utc(int64_t unix_nanos);

} // namespace tmf::domain
