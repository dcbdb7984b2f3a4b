#pragma once

// The route table of the service: which handler answers which method on
// which path under the base path. Unknown paths answer 404, known paths
// with another method 405 with `Allow`.

#include <memory>

#include <restinio/request_handler.hpp>

namespace tmf::http {

struct context;

/// The request handler installed in RESTinio: routes by path and method.
restinio::request_handling_status_t
route(const std::shared_ptr<context>& ctx, restinio::request_handle_t req);

} // namespace tmf::http
