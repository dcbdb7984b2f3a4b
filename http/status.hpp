#pragma once

// The HTTP statuses the service answers with, by name. Only http/ knows
// status codes; actors speak tmf::errc.

#include <cstdint>

namespace tmf::http {

enum class status : uint16_t {
  ok = 200,
  created = 201,
  no_content = 204,
  partial_content = 206,
  not_modified = 304,
  bad_request = 400,
  unauthorized = 401,
  forbidden = 403,
  not_found = 404,
  method_not_allowed = 405,
  conflict = 409,
  precondition_failed = 412,
  payload_too_large = 413,
  uri_too_long = 414,
  unsupported_media_type = 415,
  too_many_requests = 429,
  request_header_fields_too_large = 431,
  internal_server_error = 500,
  not_implemented = 501,
  service_unavailable = 503,
  gateway_timeout = 504,
  http_version_not_supported = 505,
  insufficient_storage = 507,
};

/// The number of `st` (404).
constexpr uint16_t code(status st) noexcept {
  return static_cast<uint16_t>(st);
}

/// The standard reason phrase of `st` ("Not Found").
const char* reason_phrase(status st) noexcept;

} // namespace tmf::http
