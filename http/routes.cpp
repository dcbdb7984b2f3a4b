#include "http/routes.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <restinio/all.hpp>

#include "http/customer_handlers.hpp"
#include "http/exchange.hpp"

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
    {"/customer/{id}",
     {{http_method_get(), retrieve_customer},
      {http_method_patch(), patch_customer},
      {http_method_delete(), delete_customer}},
     "GET, PATCH, DELETE"},
  };
  return table;
}

/// True when `rest` matches `path`; sets `param` to the `{id}` segment.
bool matches(std::string_view path, std::string_view rest,
             std::string_view& param) {
  constexpr std::string_view placeholder = "/{id}";
  if (path.size() < placeholder.size()
      || path.substr(path.size() - placeholder.size()) != placeholder)
    return rest == path || (rest.size() == path.size() + 1
                            && rest.substr(0, path.size()) == path
                            && rest.back() == '/');
  auto prefix = path.substr(0, path.size() - placeholder.size() + 1);
  if (rest.size() <= prefix.size() || rest.substr(0, prefix.size()) != prefix)
    return false;
  param = rest.substr(prefix.size());
  return param.find('/') == std::string_view::npos;
}

void dispatch(const exchange_ptr& ex) {
  const auto& ctx = ex->ctx();
  const auto& header = ex->request()->header();
  auto path = header.path();
  const auto& base = ctx.cfg.base_path;
  if (path.substr(0, base.size()) == base) {
    auto rest = path.substr(base.size());
    for (const auto& entry : routes()) {
      std::string_view param;
      if (!matches(entry.path, rest, param))
        continue;
      for (const auto& m : entry.methods)
        if (m.method == header.method())
          return m.handler(ex, param);
      return ex->fail(status::method_not_allowed,
                      std::string{"method "} + header.method().c_str()
                        + " is not allowed here; allowed: "
                        + std::string{entry.allow},
                      {{"Allow", std::string{entry.allow}}});
    }
  }
  ex->fail(status::not_found, "no resource at " + std::string{path});
}

} // namespace

restinio::request_handling_status_t route(const std::shared_ptr<context>& ctx,
                                          restinio::request_handle_t req) {
  handler_scope scope;
  auto ex = std::make_shared<exchange>(ctx, std::move(req));
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
