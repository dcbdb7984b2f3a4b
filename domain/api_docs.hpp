#pragma once

// The service describing itself, derived from the embedded TMF629 swagger:
// the JSON Schema customers are validated with and the OpenAPI (Swagger
// 2.0) document of what the service implements. Pure.

#include <string>
#include <string_view>

namespace tmf::domain {

/// The JSON Schema (draft-04) of a customer resource as the service
/// validates it: the swagger's `Customer` with every definition it uses
/// (their `$ref`s resolve inside the document), `id`, `name` and
/// `engagedParty` required, integers without fraction or exponent, `uri`
/// attributes absolute. `schema_url` becomes its `id`.
std::string customer_json_schema(std::string_view schema_url);

/// Where the API is served, for its OpenAPI document.
struct api_location {
  std::string scheme = "http";
  std::string host;      ///< `host[:port]`
  std::string base_path; ///< e.g. `/tmf-api/customerManagement/v4`
};

/// The Swagger 2.0 document of the service: TMF629 v4.0.0 as published,
/// plus what the service adds (206 and `Link` on lists, `ETag`,
/// `If-Match`/`If-None-Match` with 304 and 412, JSON Patch and 415 on
/// PATCH, `sort` and filters, the schema and api-docs routes, the hub's
/// list, read, parked and replay routes, the listener log).
std::string api_document(const api_location& where);

} // namespace tmf::domain
