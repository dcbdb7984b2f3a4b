#pragma once

// JSON text in and out of the service: request bodies and stored customer
// texts are parsed here, with bounds, and posted bodies get their stored
// form here.
//
// Bounds: a text is exactly one JSON value (RFC 8259) with optional white
// space around it -- no byte order mark, no NUL, nothing after the value --
// nesting at most a given number of arrays and objects. Every walk over
// JSON in the service (validation, merge patch, filters, fields, dumps)
// recurses at most `max_stored_depth` levels because nothing deeper is ever
// parsed.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tmf::domain {

/// The deepest nesting of arrays and objects the service parses: the upper
/// bound of the configurable request limit (`max-json-depth`) and the limit
/// for stored texts. `{}` has depth 1, `{"a":[1]}` depth 2.
constexpr size_t max_stored_depth = 256;

/// Parses `text` as exactly one JSON value surrounded by optional white
/// space, nesting at most `max_depth` arrays and objects. On success returns
/// true and sets `out`; otherwise returns false, leaves `out` null and sets
/// `error` to what is wrong and where, worded to follow "the body " (`is
/// not valid JSON: parse error at line 1, column 9: ...`, `nests deeper
/// than 32 levels of arrays and objects`). Never throws on bad input;
/// memory use is proportional to the text.
bool parse_json(std::string_view text, size_t max_depth, nlohmann::json& out,
                std::string& error);

/// The text to store for the JSON object `parsed`, which `parse_json`
/// parsed from `raw`: `raw` without white space outside strings when it
/// says the same as `parsed` with the same string spelling (no backslash
/// escapes, no duplicate keys; member order and number spelling stay as
/// sent), else `parsed.dump()`. Either way it parses back to `parsed`.
std::string canonical_text(std::string_view raw, const nlohmann::json& parsed);

/// A top-level member of a JSON object as `scan_object` saw it.
struct member_info {
  bool present = false;
  std::optional<std::string> string; ///< its value when it is a string
};

/// Checks, without building the document, that `text` is exactly one JSON
/// object (the same bounds as `parse_json`: white space around it only,
/// nesting at most `max_depth`) and reports its top-level members `names`
/// in `out` (one entry per name; a repeated member: the last one). On
/// failure returns false and sets `error` like `parse_json` (`is not a JSON
/// object` when it is another value). Cheaper than `parse_json`: nothing
/// but the reported strings is kept.
bool scan_object(std::string_view text, size_t max_depth,
                 const std::vector<std::string_view>& names,
                 std::vector<member_info>& out, std::string& error);

} // namespace tmf::domain
