#pragma once

// The one place where errors become HTTP statuses and TMF Error bodies
// (`{code, reason, message, status, @type}`; code and status are strings).

#include <string>

#include <caf/fwd.hpp>

#include "http/status.hpp"

namespace tmf::http {

/// An HTTP status and the message for the client.
struct http_error {
  status st = status::internal_server_error;
  std::string message;
};

/// Maps an actor error: tmf::errc (invalid 400, not_found 404, conflict 409,
/// storage_full 507, store_failed 500, unavailable 503) and caf::sec
/// (request_timeout 504, receiver down 503, anything else 500).
http_error map_error(const caf::error& err);

/// The TMF Error body for `st` with `message`.
std::string error_body(status st, const std::string& message);

} // namespace tmf::http
