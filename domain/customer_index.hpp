#pragma once

// The secondary-index layout of customers: the one owner of which
// attributes are indexed and how an index key looks in LMDB.
//
// An index key is `attribute \0 value \0 id` (the value cut to
// `max_index_value` bytes, which only adds candidates that the filters
// then reject). A "term" is the `attribute \0 value` part.

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/query.hpp"

namespace tmf::domain {

/// LMDB keys hold at most 511 bytes: attribute, value and id must fit.
constexpr size_t max_index_value = 400;

/// Attributes with a secondary index (equality lookups without a scan).
bool is_indexed(std::string_view path) noexcept;

/// The index terms of a customer document: `attribute \0 value` for every
/// indexed attribute holding a string.
std::vector<std::string> index_terms(const nlohmann::json& doc);

/// The index terms of a stored customer text, read without building the
/// document (safe at any nesting depth); the same as `index_terms` of the
/// parsed text.
std::vector<std::string> index_terms_of_text(std::string_view text);

/// The index key of `term` for customer `id`.
std::string index_key(std::string_view term, std::string_view id);

/// The index keys of `terms` for customer `id`.
std::vector<std::string> index_keys(std::vector<std::string> terms,
                                    std::string_view id);

/// The key prefix of every index entry for `path` = `value`.
std::string index_prefix(std::string_view path, std::string_view value);

/// The id of an index entry `key` that starts with `prefix`
/// (`index_prefix`); empty when it does not start with it.
std::string_view index_key_id(std::string_view key,
                              std::string_view prefix) noexcept;

/// True when `q` is answered by key lookups whose number the query bounds
/// (an `id` equality, or one filter the index decides, without sorting),
/// never by a scan: such queries take the readers' fast lane.
bool is_point_query(const list_query& q) noexcept;

/// True when the index alone decides `term`: an `eq` term on an indexed
/// attribute whose values are short enough to be kept whole in the index.
bool index_answers(const filter_term& term) noexcept;

} // namespace tmf::domain
