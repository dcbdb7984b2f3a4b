#include "domain/events.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace tmf::domain {

namespace {

std::string json_string(std::string_view text) {
  return nlohmann::json(std::string{text})
    .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace

const char* event_type_name(event_type type) noexcept {
  switch (type) {
    case event_type::create:
      return "CustomerCreateEvent";
    case event_type::attribute_value_change:
      return "CustomerAttributeValueChangeEvent";
    case event_type::state_change:
      return "CustomerStateChangeEvent";
    case event_type::remove:
      return "CustomerDeleteEvent";
  }
  return "CustomerEvent";
}

std::vector<event_spec> patch_events(std::vector<std::string> changed) {
  std::vector<event_spec> out;
  auto status = std::find(changed.begin(), changed.end(), "status");
  bool state = status != changed.end();
  if (state)
    changed.erase(status);
  if (!changed.empty()) {
    std::sort(changed.begin(), changed.end());
    std::string path;
    for (const auto& name : changed) {
      if (!path.empty())
        path += ',';
      path += name;
    }
    out.push_back({event_type::attribute_value_change, std::move(path)});
  }
  if (state)
    out.push_back({event_type::state_change, {}});
  return out;
}

std::string event_text(const event_spec& spec, const event_meta& meta,
                       std::string_view customer_text) {
  std::string out;
  out.reserve(customer_text.size() + 256);
  out += "{\"eventId\":";
  out += json_string(meta.event_id);
  out += ",\"eventTime\":";
  out += json_string(meta.event_time);
  out += ",\"eventType\":\"";
  out += event_type_name(spec.type);
  out += '"';
  if (!meta.correlation_id.empty()) {
    out += ",\"correlationId\":";
    out += json_string(meta.correlation_id);
  }
  if (!spec.field_path.empty()) {
    out += ",\"fieldPath\":";
    out += json_string(spec.field_path);
  }
  out += ",\"event\":{\"customer\":";
  out += customer_text;
  out += "}}";
  return out;
}

std::string rfc3339_utc(int64_t unix_nanos) {
  auto secs = static_cast<std::time_t>(unix_nanos / 1000000000);
  auto millis = static_cast<int>((unix_nanos / 1000000) % 1000);
  if (unix_nanos < 0) {
    secs = 0;
    millis = 0;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, millis);
  return buf;
}

} // namespace tmf::domain
