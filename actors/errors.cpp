#include "actors/protocol.hpp"

#include <caf/message.hpp>

namespace tmf {

std::string to_string(errc x) {
  switch (x) {
    case errc::invalid:
      return "invalid";
    case errc::not_found:
      return "not_found";
    case errc::conflict:
      return "conflict";
    case errc::storage_full:
      return "storage_full";
    case errc::store_failed:
      return "store_failed";
    case errc::unavailable:
      return "unavailable";
    case errc::precondition_failed:
      return "precondition_failed";
  }
  return "unknown";
}

std::string error_text(const caf::error& err) {
  const auto& ctx = err.context();
  for (size_t i = 0; i < ctx.size(); ++i)
    if (ctx.match_element<std::string>(i))
      return ctx.get_as<std::string>(i);
  return {};
}

} // namespace tmf
