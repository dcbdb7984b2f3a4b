#include "http/error_mapping.hpp"

#include <caf/error.hpp>
#include <caf/exit_reason.hpp>
#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

#include "actors/protocol.hpp"

namespace tmf::http {

http_error map_error(const caf::error& err) {
  auto text = error_text(err);
  if (err.category() == caf::atom("tmf")) {
    switch (static_cast<errc>(err.code())) {
      case errc::invalid:
        return {status::bad_request, text.empty() ? "invalid request" : text};
      case errc::not_found:
        return {status::not_found, text.empty() ? "no such customer" : text};
      case errc::conflict:
        return {status::conflict, text.empty() ? "conflicting update" : text};
      case errc::storage_full:
        return {status::insufficient_storage, text.empty() ? "storage is full" : text};
      case errc::store_failed:
        return {status::internal_server_error, text.empty() ? "storage failure" : text};
      case errc::unavailable:
        return {status::service_unavailable, text.empty() ? "service unavailable" : text};
      case errc::precondition_failed:
        return {status::precondition_failed,
                text.empty() ? "If-Match does not name the current version"
                             : text};
    }
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return {status::gateway_timeout, "the request was not answered in time; its outcome is "
                     "unknown, read the resource to find out"};
      case caf::sec::request_receiver_down:
        return {status::service_unavailable, "the service is restarting a component; retry"};
      default:
        break;
    }
  }
  if (err.category() == caf::atom("exit")) // the actor stopped
    return {status::service_unavailable, "the service is shutting down; retry"};
  return {status::internal_server_error, "internal error: " + caf::to_string(err)};
}

const char* reason_phrase(status st) noexcept {
  switch (st) {
    case status::ok:
      return "OK";
    case status::created:
      return "Created";
    case status::no_content:
      return "No Content";
    case status::partial_content:
      return "Partial Content";
    case status::not_modified:
      return "Not Modified";
    case status::bad_request:
      return "Bad Request";
    case status::unauthorized:
      return "Unauthorized";
    case status::forbidden:
      return "Forbidden";
    case status::not_found:
      return "Not Found";
    case status::method_not_allowed:
      return "Method Not Allowed";
    case status::conflict:
      return "Conflict";
    case status::precondition_failed:
      return "Precondition Failed";
    case status::payload_too_large:
      return "Payload Too Large";
    case status::uri_too_long:
      return "URI Too Long";
    case status::unsupported_media_type:
      return "Unsupported Media Type";
    case status::too_many_requests:
      return "Too Many Requests";
    case status::request_header_fields_too_large:
      return "Request Header Fields Too Large";
    case status::internal_server_error:
      return "Internal Server Error";
    case status::not_implemented:
      return "Not Implemented";
    case status::service_unavailable:
      return "Service Unavailable";
    case status::gateway_timeout:
      return "Gateway Timeout";
    case status::http_version_not_supported:
      return "HTTP Version Not Supported";
    case status::insufficient_storage:
      return "Insufficient Storage";
  }
  return "Error";
}

std::string error_body(status st, const std::string& message) {
  auto number = std::to_string(code(st));
  nlohmann::json body{{"@type", "Error"},
                      {"code", number},
                      {"reason", reason_phrase(st)},
                      {"message", message},
                      {"status", number}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace tmf::http
