// libFuzzer target: a POST body on its way to storage. The input is the raw
// body. parse_json (max-json-depth at its default) and scan_object, then
// for what they accept canonical_text, check_create and the index terms of
// the stored text.
//
// Invariants: nothing throws; scan_object accepts exactly the objects that
// parse_json accepts and reports the same top-level members; the canonical
// text parses back, with the same limits, to the value parsed, and says
// nothing more (no duplicate keys); the stored text (the canonical text
// with an id) has the index terms of the document; a body that
// check_create accepts is stored as exactly that body plus id.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/customer_index.hpp"
#include "domain/customer_rules.hpp"
#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"
#include "fuzz/fuzz_support.hpp"

using json = nlohmann::json;
using namespace tmf::domain;

namespace {

/// The default of `max-json-depth`, the depth limit of request bodies.
constexpr size_t request_depth = 32;

/// An id as the router makes them.
constexpr std::string_view customer_id = "1a7-k2v4abcdefghijklmnopqrstuv";

/// The built-in indexes and two more through arrays.
const index_layout& fuzz_layout() {
  static const index_layout layout = [] {
    std::vector<index_spec> specs;
    auto paths = builtin_index_paths();
    paths.push_back("creditProfile.creditScore");
    paths.push_back("contactMedium.mediumType");
    uint64_t gen = 0;
    for (const auto& path : paths)
      specs.push_back(index_spec{path, ++gen, customer_attribute(path)});
    return index_layout{std::move(specs)};
  }();
  return layout;
}

/// Counts the keys of a JSON text, duplicates included.
class key_counter : public nlohmann::json_sax<json> {
public:
  size_t keys = 0;

  bool null() override {
    return true;
  }
  bool boolean(bool) override {
    return true;
  }
  bool number_integer(number_integer_t) override {
    return true;
  }
  bool number_unsigned(number_unsigned_t) override {
    return true;
  }
  bool number_float(number_float_t, const string_t&) override {
    return true;
  }
  bool string(string_t&) override {
    return true;
  }
  bool binary(binary_t&) override {
    return true;
  }
  bool start_object(size_t) override {
    return true;
  }
  bool key(string_t&) override {
    ++keys;
    return true;
  }
  bool end_object() override {
    return true;
  }
  bool start_array(size_t) override {
    return true;
  }
  bool end_array() override {
    return true;
  }
  bool parse_error(size_t, const std::string&,
                   const nlohmann::detail::exception&) override {
    return false;
  }
};

/// The members of every object in `value` (parsed, so bounded).
size_t member_count(const json& value) {
  size_t n = value.is_object() ? value.size() : 0;
  if (value.is_structured())
    for (const auto& element : value)
      n += member_count(element);
  return n;
}

/// Checks what scan_object reported for `names` against the document.
void check_members(const json& doc, const std::vector<std::string_view>& names,
                   const std::vector<member_info>& members) {
  TMF_FUZZ_CHECK(members.size() == names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    auto member = doc.find(std::string{names[i]});
    TMF_FUZZ_CHECK(members[i].present == (member != doc.end()));
    auto is_string = member != doc.end() && member->is_string();
    TMF_FUZZ_CHECK(members[i].string.has_value() == is_string);
    if (is_string)
      TMF_FUZZ_CHECK(*members[i].string
                     == member->get_ref<const std::string&>());
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto raw = tmf::fuzz::as_text(data, size);
  json parsed;
  std::string error;
  auto parsed_ok = parse_json(raw, request_depth, parsed, error);
  TMF_FUZZ_CHECK(parsed_ok || (!error.empty() && parsed.is_null()));
  static const std::vector<std::string_view> names{"name", "id", "href"};
  std::vector<member_info> members;
  std::string scan_error;
  auto scanned = scan_object(raw, request_depth, names, members, scan_error);
  TMF_FUZZ_CHECK(scanned == (parsed_ok && parsed.is_object()));
  TMF_FUZZ_CHECK(scanned || !scan_error.empty());
  if (scanned)
    check_members(parsed, names, members);
  if (!parsed_ok)
    return 0;
  auto canonical = canonical_text(raw, parsed);
  json back;
  TMF_FUZZ_CHECK(parse_json(canonical, request_depth, back, error));
  TMF_FUZZ_CHECK(back == parsed);
  key_counter counter;
  TMF_FUZZ_CHECK(json::sax_parse(canonical, &counter));
  TMF_FUZZ_CHECK(counter.keys == member_count(parsed));
  if (!parsed.is_object())
    return 0;
  auto problem = check_create(parsed);
  auto stored = with_id(customer_id, canonical);
  TMF_FUZZ_CHECK(stored_id(stored) == customer_id);
  TMF_FUZZ_CHECK(fuzz_layout().terms_of_text(stored)
                 == fuzz_layout().terms(parsed));
  if (!problem) {
    json stored_doc;
    TMF_FUZZ_CHECK(parse_json(stored, max_stored_depth, stored_doc, error));
    auto expected = parsed;
    expected["id"] = customer_id;
    TMF_FUZZ_CHECK(stored_doc == expected);
  }
  return 0;
}
