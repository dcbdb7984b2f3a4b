// libFuzzer target: `fields=` selection. The input is a fields list (the
// value of `fields=`, split at commas as written, empty and odd names
// kept), a newline, then a JSON document (see fuzz_support.hpp) parsed like
// a stored row. select_fields on the document, select_fields_text on its
// stored text.
//
// Invariants: nothing throws; a selection of an object is an object that
// keeps `id` and `href` as they were and has no member that was not asked
// for (a member is asked for when a requested path passes through it or
// ends at or above it); select_fields_text of the stored text is the
// stored text of select_fields, id first.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/customer_fields.hpp"
#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"
#include "fuzz/fuzz_support.hpp"

using json = nlohmann::json;
using namespace tmf::domain;

namespace {

using path_t = std::vector<std::string>;

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> out;
  for (;;) {
    auto at = text.find(separator);
    out.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos)
      return out;
    text.remove_prefix(at + 1);
  }
}

/// The attribute names of a requested path (empty names dropped, as the
/// selection does).
path_t names_of(const std::string& field) {
  path_t out;
  for (auto& name : split(field, '.'))
    if (!name.empty())
      out.push_back(std::move(name));
  return out;
}

bool starts_with(const path_t& path, const path_t& prefix) {
  return prefix.size() <= path.size()
         && std::equal(prefix.begin(), prefix.end(), path.begin());
}

/// Checks that every member of `value`, found at `at`, was asked for;
/// below a requested path everything is kept.
void check_asked(const json& value, path_t& at,
                 const std::vector<path_t>& asked) {
  if (value.is_array()) {
    for (const auto& element : value)
      check_asked(element, at, asked);
    return;
  }
  if (!value.is_object())
    return;
  for (const auto& [name, member] : value.items()) {
    at.push_back(name);
    bool inside = false; // a requested path ends at or above `at`
    bool on_way = false; // `at` leads to a requested path
    for (const auto& path : asked) {
      inside = inside || (!path.empty() && starts_with(at, path));
      on_way = on_way || starts_with(path, at);
    }
    TMF_FUZZ_CHECK(inside || on_way);
    if (!inside)
      check_asked(member, at, asked);
    at.pop_back();
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [line, document] = tmf::fuzz::split_line(tmf::fuzz::as_text(data, size));
  auto fields = split(line, ',');
  json doc;
  std::string error;
  if (!parse_json(document, max_stored_depth, doc, error))
    return 0;
  auto selected = select_fields(doc, fields);
  if (!doc.is_object()) {
    TMF_FUZZ_CHECK(selected == doc);
    return 0;
  }
  TMF_FUZZ_CHECK(selected.is_object());
  for (auto name : {"id", "href"}) {
    auto kept = doc.find(name);
    if (kept != doc.end())
      TMF_FUZZ_CHECK(selected.contains(name) && selected[name] == *kept);
  }
  std::vector<path_t> asked{{"id"}, {"href"}};
  for (const auto& field : fields)
    asked.push_back(names_of(field));
  path_t at;
  check_asked(selected, at, asked);
  auto text = select_fields_text(id_first_text(doc), fields);
  TMF_FUZZ_CHECK(text == id_first_text(selected));
  return 0;
}
