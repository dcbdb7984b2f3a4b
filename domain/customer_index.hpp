#pragma once

// The secondary-index layout of customers: the one owner of which
// attributes are indexed, how an index key looks in LMDB and what the
// `meta` table says about each index.
//
// An index key is `path \0 generation \0 value \0 id`; its "term" is the
// part before the last `\0` (one term per distinct value of a customer at
// the path; `index_counts` counts the entries of each term). The value is
// a type tag and an encoding whose byte order is the sort order of
// domain/customer_query.hpp (null < boolean < number < date-time < other
// string < absent): numbers exactly and numerically, RFC 3339 date-times as
// UTC instants, strings by their bytes, cut to `max_index_value`. NUL and
// 0x01 bytes of a value are escaped, so no value key holds a NUL. A
// rebuilt index gets a fresh generation: keys of an older generation never
// mix with the live ones and are erased in the background.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "domain/query.hpp"

namespace tmf::domain {

/// LMDB keys hold at most 511 bytes: path, generation, value and id fit.
constexpr size_t max_index_value = 400;

/// The longest attribute path an index may have.
constexpr size_t max_index_path = 64;

/// The version of the value encoding; an index built with another one is
/// built again.
constexpr uint32_t index_layout_version = 4;

/// The type tags of index values, in sort order. A customer without a
/// value at the path has one `absent` entry, so that a walk of the index
/// in sort order finds it after all values (missing values last).
enum class index_tag : char {
  null = 0x02,
  boolean = 0x03,
  number = 0x04,
  date_time = 0x05,
  string = 0x06,
  absent = 0x07,
};

/// The attribute paths every service indexes: name, status,
/// engagedParty.id and validFor.startDateTime (`id` and `href` are the
/// primary key).
const std::vector<std::string>& builtin_index_paths();

/// Checks an attribute path named in the configuration; a message, or
/// nothing.
std::optional<std::string> check_index_path(std::string_view path);

/// One secondary index.
struct index_spec {
  std::string path;
  uint64_t generation = 0;
  attribute_info info; ///< what the schema says about `path`

  /// `path \0 generation \0`: the start of every key of this index.
  std::string prefix() const;

  /// True when a walk of this index gives each customer holding a value
  /// once, in sort order: a single-valued attribute of a scalar type.
  bool sortable() const noexcept;
};

/// The index value key of one scalar JSON value (escaped, with its tag),
/// or nothing for objects and arrays.
std::optional<std::string> index_value_key(const nlohmann::json& value);

/// The index value key of a filter value read as `tag`, or nothing when
/// the text is not of that type.
std::optional<std::string> index_value_key(std::string_view text,
                                           index_tag tag);

/// The secondary indexes of one service.
class index_layout {
public:
  index_layout() = default;
  explicit index_layout(std::vector<index_spec> specs);

  const std::vector<index_spec>& specs() const noexcept {
    return specs_;
  }

  /// The index of `path`, or nullptr.
  const index_spec* find(std::string_view path) const noexcept;

  /// The terms of a customer document in every index: one per distinct
  /// scalar value at each path (through arrays), sorted.
  std::vector<std::string> terms(const nlohmann::json& doc) const;

  /// The terms of a customer document in one index, sorted: one per
  /// distinct value, or the one `absent` term when it has none.
  static std::vector<std::string> terms(const index_spec& spec,
                                        const nlohmann::json& doc);

  /// The terms of a stored customer text (parsed with the stored-text
  /// bounds). A text too deep to parse still gives the terms of its
  /// top-level string members (read without building the document).
  std::vector<std::string> terms_of_text(std::string_view text) const;

private:
  std::vector<index_spec> specs_;
};

/// The index key of `term` for customer `id`.
std::string index_key(std::string_view term, std::string_view id);

/// The index keys of `terms` for customer `id`.
std::vector<std::string> index_keys(std::vector<std::string> terms,
                                    std::string_view id);

/// The term of an index key (all before its last NUL).
std::string_view index_key_term(std::string_view key) noexcept;

/// The customer id of an index key (all after its last NUL).
std::string_view index_key_id(std::string_view key) noexcept;

/// The smallest key greater than every key that starts with `prefix`
/// (empty: no such key, the end).
std::string prefix_end(std::string_view prefix);

/// What `meta` says about one index: `index:<path>` holds
/// `ready|building <layout version> <generation>`.
struct index_marker {
  bool ready = false;
  uint32_t layout = 0;
  uint64_t generation = 0;
};

/// The `meta` key of the marker of the index of `path`.
std::string index_marker_key(std::string_view path);

/// The `meta` key prefix of every index marker.
constexpr std::string_view index_marker_prefix = "index:";

/// The `meta` key of the last generation handed out.
constexpr std::string_view index_generation_key = "index-generation";

std::string render_marker(const index_marker& m);

std::optional<index_marker> parse_marker(std::string_view text);

} // namespace tmf::domain
