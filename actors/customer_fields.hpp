#pragma once

// `fields=` attribute selection (TMF630): keep only the listed attributes,
// plus `id` and `href` which are always returned. Pure.

#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tmf::query {

/// Returns a copy of `doc` with only `id`, `href` and the attributes named in
/// `fields`. A name may be a dotted path (`engagedParty.id`), which keeps
/// that nested attribute inside its parent (into arrays: in every element).
/// Unknown names are ignored.
nlohmann::json select_fields(const nlohmann::json& doc,
                             const std::vector<std::string>& fields);

} // namespace tmf::query
