#pragma once

// The handlers of the TMF629 customer resource. Each checks its request
// (path, headers, query, body) and either answers at once (400/404/413/
// 415) or asks the router and returns; the router's reply answers it.

#include <string_view>

#include "http/exchange.hpp"

namespace tmf::http {

/// `GET /customer`: TMF630 filters, sort, fields, paging.
void list_customers(const exchange_ptr& ex, std::string_view);

/// `POST /customer`: validates, creates, 201 with Location.
void create_customer(const exchange_ptr& ex, std::string_view);

/// `GET /customer/{id}[?fields=...]`.
void retrieve_customer(const exchange_ptr& ex, std::string_view id);

/// `PATCH /customer/{id}`: RFC 7386 merge patch or RFC 6902 JSON Patch,
/// `If-Match`.
void patch_customer(const exchange_ptr& ex, std::string_view id);

/// `DELETE /customer/{id}`: 204.
void delete_customer(const exchange_ptr& ex, std::string_view id);

} // namespace tmf::http
