#include "http/validate.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>

#include <restinio/all.hpp>

#include "domain/query_string.hpp"
#include "http/exchange.hpp"

namespace tmf::http {

namespace {

std::optional<http_error> body_size(const exchange& ex) {
  auto size = ex.request()->body().size();
  auto limit = ex.ctx().cfg.max_body_size;
  if (size <= limit)
    return std::nullopt;
  return http_error{status::payload_too_large,
                    "the body has " + std::to_string(size)
                      + " bytes; the limit is " + std::to_string(limit)};
}

} // namespace

std::string media_type(const exchange& ex) {
  auto value = ex.request()->header().get_field_or(
    restinio::http_field::content_type, "");
  auto end = value.find(';');
  std::string out = value.substr(0, end);
  out.erase(std::remove_if(out.begin(), out.end(),
                           [](unsigned char c) { return std::isspace(c); }),
            out.end());
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return out;
}

std::optional<http_error>
require_media_type(const exchange& ex,
                   std::initializer_list<std::string_view> accepted,
                   std::string_view what) {
  auto type = media_type(ex);
  std::string list;
  for (auto name : accepted) {
    if (type == name)
      return std::nullopt;
    if (!list.empty())
      list += " or ";
    list += name;
  }
  return http_error{status::unsupported_media_type,
                    std::string{what} + " takes Content-Type " + list};
}

std::optional<http_error> read_json_body(const exchange& ex,
                                         nlohmann::json& out) {
  if (auto err = body_size(ex))
    return err;
  std::string error;
  if (domain::parse_json(ex.request()->body(), ex.ctx().cfg.max_json_depth,
                         out, error))
    return std::nullopt;
  return http_error{status::bad_request, "the body " + error};
}

std::optional<http_error> read_json_object(const exchange& ex,
                                           std::string_view what,
                                           nlohmann::json& out) {
  if (auto err = require_media_type(ex, {"application/json"}, what))
    return err;
  if (auto err = read_json_body(ex, out))
    return err;
  if (!out.is_object())
    return http_error{status::bad_request, "the body must be a JSON object"};
  return std::nullopt;
}

std::optional<http_error>
scan_json_object(const exchange& ex,
                 const std::vector<std::string_view>& names,
                 std::vector<domain::member_info>& out) {
  if (auto err = body_size(ex))
    return err;
  std::string error;
  if (domain::scan_object(ex.request()->body(), ex.ctx().cfg.max_json_depth,
                          names, out, error))
    return std::nullopt;
  return http_error{status::bad_request, "the body " + error};
}

std::optional<http_error> read_query(const exchange& ex, query_params& out) {
  std::string error;
  if (domain::split_query(ex.request()->header().query(), out, error))
    return std::nullopt;
  return http_error{status::bad_request, "query: " + error};
}

} // namespace tmf::http
