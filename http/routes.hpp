#pragma once

// The route table of the service: which handler answers which method on
// which path under the base path. Unknown paths answer 404, known paths
// with another method 405 with `Allow`.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <restinio/request_handler.hpp>

namespace tmf::http {

struct context;

/// One route: a path under the base path (`{id}` stands for one
/// non-empty segment) and the methods it answers.
struct route_description {
  std::string path;
  std::vector<std::string> methods; ///< `GET`, `POST`, ...
};

/// Every route, in the order requests are matched against them.
std::vector<route_description> route_table();

/// The path of the route that answers the path `path` (under the base
/// path, e.g. `/customer/abc`), or nothing (404).
std::optional<std::string> route_of(std::string_view path);

/// The request handler installed in RESTinio: routes by path and method.
restinio::request_handling_status_t
route(const std::shared_ptr<context>& ctx, restinio::request_handle_t req);

} // namespace tmf::http
