#pragma once

// The stored-text layout of a customer: the one owner of how a customer's
// JSON text looks in LMDB and how a response is made from it.
//
// A stored text is the JSON object of the resource WITHOUT `href`, with
// `id` as its first member: `{"id":"<id>",...}`. `href` is derived per
// response from the public base URL and the id, spliced in front without
// parsing the text.

#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

namespace tmf::domain {

/// The stored text of a new customer: `"id":"<id>"` inserted as the first
/// member of the JSON object text `body` (a validated body without `id`).
/// `id` must be a customer id (nothing in it needs escaping).
std::string with_id(std::string_view id, std::string_view body);

/// The stored text of the customer document `doc` (an object with a string
/// `id`): its JSON with `id` moved to the front. A document without a
/// string `id` is dumped as it is.
std::string id_first_text(const nlohmann::json& doc);

/// The id at the front of a stored text, or an empty view when `text` does
/// not start with `{"id":"`.
std::string_view stored_id(std::string_view text) noexcept;

/// The resource as returned to clients: `text` with
/// `"href":"<href_base><id>"` as its first member.
std::string with_href(std::string_view href_base, std::string_view text);

} // namespace tmf::domain
