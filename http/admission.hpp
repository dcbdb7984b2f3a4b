#pragma once

// Admission of an API request before its handler runs: authentication and
// authorization (http/auth.hpp) and the per-client rate limit
// (http/rate_limit.hpp). Both are off unless configured; then a request
// costs one branch here.

#include "http/exchange.hpp"

namespace tmf::http {

/// True when `ex` may go on to its handler. Otherwise it has been answered:
/// 429 with Retry-After when its client is over the rate limit, 401 with
/// WWW-Authenticate when credentials are missing or invalid, 403 when they
/// lack the scope (write for POST, PATCH, DELETE and every hub request;
/// read otherwise), each with a TMF Error body.
bool admit(const exchange_ptr& ex);

} // namespace tmf::http
