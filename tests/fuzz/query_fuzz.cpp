// libFuzzer target: the query string of `GET /customer?...` and of `GET
// /customer/{id}?fields=...`. The input is the raw query string (without
// '?'). split_query, then parse_list_request and parse_fields with the
// default list_limits.
//
// Invariants: nothing throws; a refusal always says why; what is accepted
// keeps every cap of the limits (filter terms, values of all terms, sort
// keys, fields, path and pattern lengths, limit) and is well formed (every
// filter passes check_term, no empty or untrimmed name); a list request's
// `fields=` selection is what parse_fields reads from the same string.

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "domain/customer_query.hpp"
#include "domain/query_string.hpp"
#include "fuzz/fuzz_support.hpp"

using namespace tmf::domain;

namespace {

using params_t = query_params;

bool has_param(const params_t& params, const std::string& name) {
  for (const auto& param : params)
    if (param.name == name && param.symbol.empty())
      return true;
  return false;
}

/// A name of `fields` or `sort`: not empty, within the path cap, trimmed.
bool well_formed(const std::string& path, const list_limits& limits) {
  return !path.empty() && path.size() <= limits.max_path_length
         && path.front() != ' ' && path.front() != '\t' && path.back() != ' '
         && path.back() != '\t';
}

void check_fields(const std::vector<std::string>& fields,
                  const list_limits& limits) {
  TMF_FUZZ_CHECK(fields.size() <= limits.max_fields);
  for (const auto& field : fields)
    TMF_FUZZ_CHECK(well_formed(field, limits));
}

void check_request(const params_t& params, const list_request& req,
                   const list_limits& limits) {
  const auto& q = req.query;
  TMF_FUZZ_CHECK(q.filters.size() <= limits.max_filters);
  size_t values = 0;
  for (const auto& term : q.filters) {
    TMF_FUZZ_CHECK(check_term(term).empty());
    TMF_FUZZ_CHECK(term.path.size() <= limits.max_path_length);
    values += term.values.size();
    if (term.op == filter_op::regex)
      for (const auto& pattern : term.values)
        TMF_FUZZ_CHECK(pattern.size() <= limits.max_regex_length);
  }
  TMF_FUZZ_CHECK(values <= limits.max_filter_values);
  TMF_FUZZ_CHECK(q.sort.size() <= limits.max_sort_keys);
  for (const auto& key : q.sort)
    TMF_FUZZ_CHECK(well_formed(key.path, limits));
  check_fields(req.fields, limits);
  check_fields(q.fields, limits);
  TMF_FUZZ_CHECK(q.limit <= limits.max_limit);
  if (!has_param(params, "limit"))
    TMF_FUZZ_CHECK(q.limit == limits.default_limit);
  TMF_FUZZ_CHECK(
    req.paged == (has_param(params, "offset") || has_param(params, "limit")));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  params_t params;
  std::string error;
  if (!split_query(tmf::fuzz::as_text(data, size), params, error)) {
    TMF_FUZZ_CHECK(!error.empty());
    return 0;
  }
  const list_limits limits;
  std::vector<std::string> fields;
  std::string fields_error;
  auto fields_ok = parse_fields(params, limits, fields, fields_error);
  if (fields_ok)
    check_fields(fields, limits);
  else
    TMF_FUZZ_CHECK(!fields_error.empty());
  list_request req;
  if (parse_list_request(params, limits, req, error)) {
    check_request(params, req, limits);
    TMF_FUZZ_CHECK(fields_ok && req.fields == fields);
  } else {
    TMF_FUZZ_CHECK(!error.empty());
  }
  return 0;
}
