#pragma once

// `fields=` attribute selection (TMF630): keep only the listed attributes,
// plus `id` and `href` which are always returned. Pure.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace tmf::domain {

/// Returns a copy of `doc` with only `id`, `href` and the attributes named in
/// `fields`. A name may be a dotted path (`engagedParty.id`), which keeps
/// that nested attribute inside its parent (into arrays: in every element).
/// Unknown names are ignored.
nlohmann::json select_fields(const nlohmann::json& doc,
                             const std::vector<std::string>& fields);

/// The stored customer `text` reduced to `fields`, in stored-text form; the
/// text itself when it cannot be parsed.
std::string select_fields_text(std::string_view text,
                               const std::vector<std::string>& fields);

} // namespace tmf::domain
