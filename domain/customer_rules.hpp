#pragma once

// Pure TMF629 customer rules: schema validation (driven by the Customer
// definitions of the TMF629 v4.0.0 swagger, embedded at build time) and
// RFC 7386 merge patch. No CAF, no I/O; called by http/ (POST bodies) and by
// the customer actor (re-validation after PATCH).

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "domain/query.hpp"

namespace tmf::domain {

/// Checks a POST body against `Customer_Create`: a JSON object, `name` and
/// `engagedParty` present, every known attribute (nested ones included) of
/// the schema type, required nested attributes present (RelatedParty `id` and
/// `@referredType`, ContactMedium `mediumType` and `characteristic`,
/// Characteristic `name` and `value`, ...), date-times in RFC 3339, and no
/// `id` or `href` (the server assigns them). Unknown attributes are allowed
/// (polymorphic extensions). Returns nothing when valid, else one message
/// naming the offending path, e.g. `engagedParty.@referredType: required
/// attribute is missing`.
std::optional<std::string> check_create(const nlohmann::json& body);

/// Checks a complete stored customer (after a merge patch) with the same
/// rules as `check_create`, except that `id` is required to be a string and
/// `href` must be absent (it is derived, never stored).
std::optional<std::string> check_customer(const nlohmann::json& doc);

/// Applies an RFC 7386 merge patch to `doc` in place: null removes, objects
/// merge recursively, everything else (arrays included) replaces. `patch`
/// must be a JSON object; returns a message when it is not, leaving `doc`
/// unchanged.
std::optional<std::string> apply_merge_patch(nlohmann::json& doc,
                                             const nlohmann::json& patch);

/// Checks the form of an RFC 6902 JSON Patch document: an array of
/// operation objects, each with a known `op` (add, remove, replace, move,
/// copy, test), a valid JSON Pointer `path`, a `value` where the operation
/// needs one and a valid `from` for move and copy. Operations that would
/// change `id` or `href` (paths at or below them, a move from them, or the
/// whole document) are refused; `test` may read them. Returns nothing when
/// usable, else a message.
std::optional<std::string> check_json_patch(const nlohmann::json& patch);

/// Why a JSON Patch could not be applied.
struct patch_failure {
  /// True when the document is not in the state the patch assumes (a
  /// `test` failed, a path does not exist: HTTP 409); false when the patch
  /// itself is malformed (400).
  bool conflict = false;
  std::string message;
};

/// Applies the RFC 6902 `patch` (checked with `check_json_patch`) to a copy
/// of `doc` and stores the result in `out`. All or nothing: on failure
/// `doc` and `out` are unchanged.
std::optional<patch_failure> apply_json_patch(const nlohmann::json& doc,
                                              const nlohmann::json& patch,
                                              nlohmann::json& out);

/// What the Customer schema says about the attribute at the dotted `path`
/// (arrays are looked through: `contactMedium.mediumType` is a string that
/// a customer may hold several of). A path the schema does not describe is
/// `unknown` and `multi` (extension attributes are allowed); a path that
/// names a member of a string, number or boolean attribute is `invalid`.
attribute_info customer_attribute(std::string_view path);

/// True for an RFC 3339 `date-time` (e.g. `2024-05-01T10:00:00Z`,
/// `2024-05-01T10:00:00.123+02:00`), with calendar-valid date and time.
bool is_rfc3339_date_time(std::string_view text) noexcept;

} // namespace tmf::domain
