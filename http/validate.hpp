#pragma once

// Checks a handler makes on its request. Each returns nothing when the
// request passes, else the error to answer with (a handler then calls
// `ex->fail(*err)` and returns).

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/json_body.hpp"
#include "domain/query_string.hpp"
#include "http/error_mapping.hpp"

namespace tmf::http {

class exchange;

using domain::query_params;

/// 415 unless the Content-Type (without parameters, case-insensitive) is
/// one of `accepted`; `what` names the route in the message.
std::optional<http_error>
require_media_type(const exchange& ex,
                   std::initializer_list<std::string_view> accepted,
                   std::string_view what);

/// The media type of the request without parameters, lower case.
std::string media_type(const exchange& ex);

/// Parses the body as one JSON value (413 above max-body-size, 400 when
/// not exactly one JSON value or nested deeper than max-json-depth).
std::optional<http_error> read_json_body(const exchange& ex,
                                         nlohmann::json& out);

/// `require_media_type` for application/json, then `read_json_body`, then
/// 400 unless the body is a JSON object: the prologue of the hub's and the
/// listeners' POSTs (`what` names the route).
std::optional<http_error> read_json_object(const exchange& ex,
                                           std::string_view what,
                                           nlohmann::json& out);

/// Checks the body is one JSON object within the limits of
/// `read_json_body` without building it, and reports its top-level
/// members `names` (see domain::scan_object).
std::optional<http_error>
scan_json_object(const exchange& ex,
                 const std::vector<std::string_view>& names,
                 std::vector<domain::member_info>& out);

/// The decoded query string (400 on a malformed percent-escape).
std::optional<http_error> read_query(const exchange& ex, query_params& out);

} // namespace tmf::http
