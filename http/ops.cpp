#include "http/ops.hpp"

#include <string>

#include <restinio/all.hpp>

#include "http/admission.hpp"
#include "http/auth.hpp"
#include "http/health.hpp"
#include "http/metrics.hpp"

namespace tmf::http {

namespace {

struct ops_route {
  std::string_view path; ///< also the route label of its metrics
  void (*answer)(const exchange_ptr&);
};

constexpr ops_route ops_routes[] = {
  {"/health/live", answer_live},
  {"/health/ready", answer_ready},
  {"/metrics", answer_metrics},
};

} // namespace

bool serve_operations(const exchange_ptr& ex) {
  const auto& header = ex->request()->header();
  auto path = header.path();
  for (const auto& r : ops_routes) {
    if (path != r.path)
      continue;
    ex->set_route(r.path);
    if (header.method() != restinio::http_method_get())
      ex->fail(status::method_not_allowed,
               std::string{"method "} + header.method().c_str()
                 + " is not allowed here; allowed: GET",
               {{"Allow", "GET"}});
    else if (r.answer != answer_metrics || !ex->ctx().cfg.auth
             || !ex->ctx().cfg.auth->settings().protect_metrics
             || admit(ex))
      r.answer(ex);
    return true;
  }
  return false;
}

} // namespace tmf::http
