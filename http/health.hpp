#pragma once

// Health endpoints for load balancers and orchestrators, outside the TMF
// base path and outside authentication:
// - `GET /health/live`: 200 while the process serves HTTP at all.
// - `GET /health/ready`: 200 when the service can do its work now, else
//   503; the JSON body names each check and its outcome:
//   `shutdown` (no SIGTERM received), `store` (the store writer answers a
//   probe within ready-timeout and a write transaction could begin on the
//   data file still in place), `actors` (the router answers within
//   ready-timeout) and `hub` (the notifier answers within ready-timeout
//   and its delivery backlog is at most ready-max-backlog).

#include "http/exchange.hpp"

namespace tmf::http {

void answer_live(const exchange_ptr& ex);

void answer_ready(const exchange_ptr& ex);

} // namespace tmf::http
