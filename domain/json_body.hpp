#pragma once

// The stored form of a posted customer. Dumping a parsed 1 KiB document
// costs as much CPU as parsing it, so a body that is already canonical
// enough is kept as sent (minus insignificant white space) instead.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace tmf::domain {

/// The text to store for the JSON object `parsed`, which was parsed from
/// `raw`: `raw` without white space outside strings when it says the same
/// as `parsed` with the same string spelling (no backslash escapes, no
/// duplicate keys; member order and number spelling stay as sent), else
/// `parsed.dump()`.
std::string canonical_text(std::string_view raw, const nlohmann::json& parsed);

} // namespace tmf::domain
