#include "http/routes.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <restinio/all.hpp>

#include "http/admission.hpp"
#include "http/customer_handlers.hpp"
#include "http/docs_handlers.hpp"
#include "http/exchange.hpp"
#include "http/hub_handlers.hpp"
#include "http/ops.hpp"
#include "http/validate.hpp"

namespace tmf::http {

namespace {

struct method_route {
  restinio::http_method_id_t method;
  handler_fn handler;
};

/// A path under the base path; `{id}` stands for one non-empty segment.
struct route_entry {
  std::string_view path;
  std::vector<method_route> methods;
  std::string_view allow; ///< the `Allow` header of a 405
};

const std::vector<route_entry>& routes() {
  using namespace restinio;
  static const std::vector<route_entry> table{
    {"/customer",
     {{http_method_get(), list_customers},
      {http_method_post(), create_customer}},
     "GET, POST"},
    {"/customer/schema", {{http_method_get(), customer_schema}}, "GET"},
    {"/customer/{id}",
     {{http_method_get(), retrieve_customer},
      {http_method_patch(), patch_customer},
      {http_method_delete(), delete_customer}},
     "GET, PATCH, DELETE"},
    {"/hub",
     {{http_method_get(), list_subscriptions},
      {http_method_post(), create_subscription}},
     "GET, POST"},
    {"/hub/{id}",
     {{http_method_get(), retrieve_subscription},
      {http_method_delete(), delete_subscription}},
     "GET, DELETE"},
    {"/hub/{id}/parked", {{http_method_get(), list_parked}}, "GET"},
    {"/hub/{id}/parked/replay", {{http_method_post(), replay_parked}},
     "POST"},
    {"/listener", {{http_method_get(), list_received}}, "GET"},
    {"/listener/{id}", {{http_method_post(), receive_event}}, "POST"},
    {"/api-docs", {{http_method_get(), api_docs}}, "GET"},
  };
  return table;
}

/// The next `/`-separated segment of `path` (without the slash).
std::string_view next_segment(std::string_view& path) {
  if (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  auto end = path.find('/');
  auto segment = path.substr(0, end);
  path = end == std::string_view::npos ? std::string_view{}
                                       : path.substr(end);
  return segment;
}

/// True when `rest` matches `path` segment by segment (one trailing slash
/// allowed); sets `param` to the segment at `{id}`.
bool matches(std::string_view path, std::string_view rest,
             std::string_view& param) {
  if (rest.size() > 1 && rest.back() == '/')
    rest.remove_suffix(1);
  while (!path.empty()) {
    auto want = next_segment(path);
    if (rest.empty())
      return false;
    auto got = next_segment(rest);
    if (want == "{id}") {
      if (got.empty())
        return false;
      param = got;
    } else if (want != got) {
      return false;
    }
  }
  return rest.empty();
}

/// The entry of the first route `rest` matches, or nullptr.
const route_entry* find_entry(std::string_view rest, std::string_view& param) {
  for (const auto& entry : routes())
    if (matches(entry.path, rest, param))
      return &entry;
  return nullptr;
}

void dispatch(const exchange_ptr& ex) {
  const auto& ctx = ex->ctx();
  const auto& header = ex->request()->header();
  auto path = header.path();
  const auto& base = ctx.cfg.base_path;
  if (path.substr(0, base.size()) == base) {
    auto rest = path.substr(base.size());
    std::string_view param;
    if (const auto* entry = find_entry(rest, param)) {
      ex->set_route(entry->path);
      if (!admit(ex))
        return;
      for (const auto& m : entry->methods) {
        if (m.method != header.method())
          continue;
        // Every route refuses a malformed query string alike.
        query_params params;
        if (auto err = read_query(*ex, params))
          return ex->fail(*err);
        return m.handler(ex, param);
      }
      return ex->fail(status::method_not_allowed,
                      std::string{"method "} + header.method().c_str()
                        + " is not allowed here; allowed: "
                        + std::string{entry->allow},
                      {{"Allow", std::string{entry->allow}}});
    }
  }
  if (!admit(ex))
    return;
  ex->fail(status::not_found, "no resource at " + std::string{path});
}

} // namespace

std::vector<route_description> route_table() {
  std::vector<route_description> out;
  for (const auto& entry : routes()) {
    route_description d;
    d.path = std::string{entry.path};
    for (const auto& m : entry.methods)
      d.methods.emplace_back(m.method.c_str());
    out.push_back(std::move(d));
  }
  return out;
}

std::optional<std::string> route_of(std::string_view path) {
  std::string_view param;
  if (const auto* entry = find_entry(path, param))
    return std::string{entry->path};
  return std::nullopt;
}

restinio::request_handling_status_t route(const std::shared_ptr<context>& ctx,
                                          restinio::request_handle_t req) {
  handler_scope scope;
  auto ex = std::make_shared<exchange>(ctx, std::move(req));
  if (serve_operations(ex))
    return restinio::request_accepted();
  if (ctx->stopping.load(std::memory_order_relaxed)) {
    ex->fail(status::service_unavailable,
             "the service is shutting down; retry", {{"Retry-After", "1"}});
    return restinio::request_accepted();
  }
  try {
    dispatch(ex);
  } catch (const std::exception& e) {
    ex->fail(status::internal_server_error,
             std::string{"internal error: "} + e.what());
  }
  return restinio::request_accepted();
}

} // namespace tmf::http
