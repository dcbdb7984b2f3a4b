// libFuzzer target: list filters and sorting on one stored customer. The
// input is a query string, a newline, then a JSON document (see
// fuzz_support.hpp). The query is parsed like a list request (default
// limits), the document like a stored row (max_stored_depth); then the
// filters are compiled and evaluated, the text prefilter asked and the
// document sorted against itself.
//
// Invariants: nothing throws; filters that do not compile match nothing
// and say why; the one-off `matches` agrees with compiled filters; the
// prefilter never skips a document the filters match, on the document's
// dump nor on its stored text (id first); the stored text parses back to
// the document; sort_before is irreflexive, also against an equal copy.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "domain/customer_query.hpp"
#include "domain/json_body.hpp"
#include "domain/query_string.hpp"
#include "domain/stored_text.hpp"
#include "fuzz/fuzz_support.hpp"

using json = nlohmann::json;
using namespace tmf::domain;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto [query, document]
    = tmf::fuzz::split_line(tmf::fuzz::as_text(data, size));
  query_params params;
  std::string error;
  list_request req;
  if (!split_query(query, params, error)
      || !parse_list_request(params, list_limits{}, req, error))
    return 0;
  json doc;
  if (!parse_json(document, max_stored_depth, doc, error))
    return 0;
  const auto& terms = req.query.filters;
  compiled_filters filters{terms};
  auto matched = filters.matches(doc);
  if (!filters.ok()) {
    TMF_FUZZ_CHECK(!matched);
    TMF_FUZZ_CHECK(!filters.error().empty());
  } else {
    TMF_FUZZ_CHECK(matches(doc, terms) == matched);
    auto stored = id_first_text(doc);
    json back;
    TMF_FUZZ_CHECK(parse_json(stored, max_stored_depth, back, error));
    TMF_FUZZ_CHECK(back == doc);
    text_prefilter prefilter{terms};
    if (matched) {
      TMF_FUZZ_CHECK(prefilter.may_match(doc.dump()));
      TMF_FUZZ_CHECK(prefilter.may_match(stored));
    }
  }
  const auto& keys = req.query.sort;
  TMF_FUZZ_CHECK(!sort_before(doc, doc, keys));
  auto copy = doc;
  TMF_FUZZ_CHECK(!sort_before(doc, copy, keys));
  TMF_FUZZ_CHECK(!sort_before(copy, doc, keys));
  return 0;
}
