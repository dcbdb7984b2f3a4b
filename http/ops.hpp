#pragma once

// The operations endpoints outside the TMF base path: `/health/live`,
// `/health/ready` and `/metrics`. They are answered before the shutdown
// refusal and before authentication and rate limits (except `/metrics`
// with metrics-auth).

#include "http/exchange.hpp"

namespace tmf::http {

/// Answers `ex` when it targets an operations endpoint and returns true;
/// returns false (and answers nothing) otherwise.
bool serve_operations(const exchange_ptr& ex);

} // namespace tmf::http
