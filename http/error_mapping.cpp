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
        return {400, text.empty() ? "invalid request" : text};
      case errc::not_found:
        return {404, text.empty() ? "no such customer" : text};
      case errc::conflict:
        return {409, text.empty() ? "conflicting update" : text};
      case errc::storage_full:
        return {507, text.empty() ? "storage is full" : text};
      case errc::store_failed:
        return {500, text.empty() ? "storage failure" : text};
      case errc::unavailable:
        return {503, text.empty() ? "service unavailable" : text};
    }
  }
  if (err.category() == caf::atom("system")) {
    switch (static_cast<caf::sec>(err.code())) {
      case caf::sec::request_timeout:
        return {504, "the request was not answered in time; its outcome is "
                     "unknown, read the resource to find out"};
      case caf::sec::request_receiver_down:
        return {503, "the service is restarting a component; retry"};
      default:
        break;
    }
  }
  if (err.category() == caf::atom("exit")) // the actor stopped
    return {503, "the service is shutting down; retry"};
  return {500, "internal error: " + caf::to_string(err)};
}

const char* reason_phrase(int status) noexcept {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 415:
      return "Unsupported Media Type";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 507:
      return "Insufficient Storage";
    default:
      return "Error";
  }
}

std::string error_body(int status, const std::string& message) {
  auto code = std::to_string(status);
  nlohmann::json body{{"@type", "Error"},
                      {"code", code},
                      {"reason", reason_phrase(status)},
                      {"message", message},
                      {"status", code}};
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace tmf::http
