#include "http/docs_handlers.hpp"

#include <string>

#include "domain/api_docs.hpp"

namespace tmf::http {

void customer_schema(const exchange_ptr& ex, std::string_view) {
  ex->reply(status::ok, domain::customer_json_schema(ex->href_base()
                                                     + "schema"));
}

void api_docs(const exchange_ptr& ex, std::string_view) {
  // `<scheme>://<host><base path>/customer/`
  auto base = ex->href_base();
  auto scheme_end = base.find("://");
  auto host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  auto host_end = base.find('/', host_start);
  domain::api_location where;
  where.scheme = base.substr(0, scheme_end);
  where.host = base.substr(host_start, host_end - host_start);
  where.base_path = ex->ctx().cfg.base_path;
  ex->reply(status::ok, domain::api_document(where));
}

} // namespace tmf::http
