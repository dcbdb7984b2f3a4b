#pragma once

// The service describing itself: the JSON Schema of customers and the
// OpenAPI document of its routes (both built by domain/api_docs.hpp).

#include <string_view>

#include "http/exchange.hpp"

namespace tmf::http {

/// `GET /customer/schema`: the JSON Schema customers are validated with
/// (the `@schemaLocation` clients such as the conformance kit post).
void customer_schema(const exchange_ptr& ex, std::string_view);

/// `GET /api-docs`: the Swagger 2.0 document of what the service
/// implements, for the host and base path of this request.
void api_docs(const exchange_ptr& ex, std::string_view);

} // namespace tmf::http
