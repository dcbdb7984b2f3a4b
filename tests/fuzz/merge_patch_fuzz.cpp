// libFuzzer target: PATCH as the customer actor applies it. The input is a
// stored document on one line, a newline, then the merge patch (see
// fuzz_support.hpp); both are parsed with max_stored_depth, as the actor
// parses them. apply_merge_patch, check_customer, the stored text.
//
// Invariants: nothing throws; a patch that is not an object is refused and
// changes nothing; otherwise the result nests no deeper than
// max_stored_depth (so that it can be stored and read back), its stored
// text parses back to it, and applying the same patch again changes
// nothing (RFC 7386 merge patches are idempotent).

#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "domain/customer_rules.hpp"
#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"
#include "fuzz/fuzz_support.hpp"

using json = nlohmann::json;
using namespace tmf::domain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [line, patch_text]
    = tmf::fuzz::split_line(tmf::fuzz::as_text(data, size));
  json doc;
  json patch;
  std::string error;
  if (!parse_json(line, max_stored_depth, doc, error)
      || !parse_json(patch_text, max_stored_depth, patch, error))
    return 0;
  auto before = doc;
  auto refused = apply_merge_patch(doc, patch);
  if (!patch.is_object()) {
    TMF_FUZZ_CHECK(refused && !refused->empty());
    TMF_FUZZ_CHECK(doc == before);
    return 0;
  }
  TMF_FUZZ_CHECK(!refused);
  TMF_FUZZ_CHECK(tmf::fuzz::depth(doc) <= max_stored_depth);
  auto problem = check_customer(doc);
  TMF_FUZZ_CHECK(!problem || !problem->empty());
  auto stored = id_first_text(doc);
  json back;
  TMF_FUZZ_CHECK(parse_json(stored, max_stored_depth, back, error));
  TMF_FUZZ_CHECK(back == doc);
  auto again = doc;
  TMF_FUZZ_CHECK(!apply_merge_patch(again, patch));
  TMF_FUZZ_CHECK(again == doc);
  return 0;
}
