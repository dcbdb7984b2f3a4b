// micro_bench: Google Benchmark of the hot pure code of the service, on a
// realistic ~1 KiB customer (the same document the ceilings serve).
// Run: build-bench/bench/micro_bench [--benchmark_filter=REGEX]
// bench/run.sh runs it and puts the table in the report.

#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <nlohmann/json.hpp>

#include "domain/customer_fields.hpp"
#include "domain/customer_query.hpp"
#include "domain/customer_rules.hpp"
#include "domain/query_string.hpp"

namespace {

using nlohmann::json;

// A stored customer (has id, no href: href is derived, never stored).
const char* stored_text = R"json({"id":"0a1-7f3e9c2b5d4a4e6f","name":"Moon Harbour Logistics 000042","status":"Approved","validFor":{"startDateTime":"2024-01-15T09:30:00Z"},"engagedParty":{"id":"org-000042","name":"Moon Harbour Logistics","@referredType":"Organization"},"contactMedium":[{"mediumType":"email","preferred":true,"characteristic":{"emailAddress":"billing.000042@moonharbour.example","contactType":"billing"}},{"mediumType":"telephoneNumber","preferred":false,"characteristic":{"phoneNumber":"+44 20 7946 0042","contactType":"office"}},{"mediumType":"postalAddress","characteristic":{"street1":"42 Quay Street","city":"Bristol","postCode":"BS1 4XY","country":"GB"}}],"characteristic":[{"name":"segment","value":"enterprise"},{"name":"creditScore","value":742},{"name":"preferredLanguage","value":"en-GB"}],"relatedParty":[{"id":"ind-104233","name":"Ada Lovelace","role":"accountManager","@referredType":"Individual"}],"@type":"Customer"})json";

// The POST body of the create scenario (bench/lua/tmf629.lua).
const char* create_text = R"json({"name":"Bench Customer 1-42","status":"Initialized","validFor":{"startDateTime":"2026-01-15T09:30:00Z"},"engagedParty":{"id":"org-1-42","name":"Bench Customer 1-42 Ltd","@referredType":"Organization"},"contactMedium":[{"mediumType":"email","preferred":true,"characteristic":{"emailAddress":"billing.1-42@example.com","contactType":"billing"}},{"mediumType":"telephoneNumber","preferred":false,"characteristic":{"phoneNumber":"+44 20 7946 0042","contactType":"office"}},{"mediumType":"postalAddress","characteristic":{"street1":"43 Quay Street","city":"Bristol","postCode":"BS1 4XY","country":"GB"}}],"characteristic":[{"name":"segment","value":"enterprise"},{"name":"creditScore","value":342},{"name":"preferredLanguage","value":"en-GB"}],"relatedParty":[{"id":"ind-1-42","name":"Ada Lovelace","role":"accountManager","@referredType":"Individual"}],"@type":"Customer"})json";

const char* patch_status_text = R"json({"status":"Validated"})json";
const char* patch_char_text = R"json({"characteristic":[{"name":"segment","value":"smb"},{"name":"creditScore","value":655},{"name":"preferredLanguage","value":"fr-FR"}]})json";

const json& stored() {
  static const json doc = json::parse(stored_text);
  return doc;
}

void BM_JsonParse(benchmark::State& state) {
  const std::string text = stored_text;
  for (auto _ : state)
    benchmark::DoNotOptimize(json::parse(text));
  state.SetBytesProcessed(state.iterations() * text.size());
}
BENCHMARK(BM_JsonParse);

void BM_JsonDump(benchmark::State& state) {
  const json& doc = stored();
  for (auto _ : state)
    benchmark::DoNotOptimize(doc.dump());
}
BENCHMARK(BM_JsonDump);

void BM_JsonCopy(benchmark::State& state) {
  const json& doc = stored();
  for (auto _ : state) {
    json copy = doc;
    benchmark::DoNotOptimize(copy);
  }
}
BENCHMARK(BM_JsonCopy);

void BM_CheckCreate(benchmark::State& state) {
  const json body = json::parse(create_text);
  if (auto err = tmf::domain::check_create(body)) {
    state.SkipWithError(("body rejected: " + *err).c_str());
    return;
  }
  for (auto _ : state)
    benchmark::DoNotOptimize(tmf::domain::check_create(body));
}
BENCHMARK(BM_CheckCreate);

// The CPU of a POST body before storage: parse + validate + dump.
void BM_CreatePath_ParseCheckDump(benchmark::State& state) {
  const std::string text = create_text;
  for (auto _ : state) {
    json body = json::parse(text);
    auto err = tmf::domain::check_create(body);
    benchmark::DoNotOptimize(err);
    body["id"] = "0a1-7f3e9c2b5d4a4e6f";
    benchmark::DoNotOptimize(body.dump());
  }
}
BENCHMARK(BM_CreatePath_ParseCheckDump);

void BM_CheckCustomer(benchmark::State& state) {
  const json& doc = stored();
  for (auto _ : state)
    benchmark::DoNotOptimize(tmf::domain::check_customer(doc));
}
BENCHMARK(BM_CheckCustomer);

void BM_SelectFields(benchmark::State& state) {
  const json& doc = stored();
  const std::vector<std::string> fields{"name", "status", "contactMedium"};
  for (auto _ : state)
    benchmark::DoNotOptimize(tmf::domain::select_fields(doc, fields));
}
BENCHMARK(BM_SelectFields);

void BM_SelectFieldsDotted(benchmark::State& state) {
  const json& doc = stored();
  const std::vector<std::string> fields{"engagedParty.id",
                                        "contactMedium.mediumType"};
  for (auto _ : state)
    benchmark::DoNotOptimize(tmf::domain::select_fields(doc, fields));
}
BENCHMARK(BM_SelectFieldsDotted);

// Merge patch alone, on a copy (BM_JsonCopy is the copy's share).
void BM_MergePatchStatus(benchmark::State& state) {
  const json patch = json::parse(patch_status_text);
  for (auto _ : state) {
    json doc = stored();
    benchmark::DoNotOptimize(tmf::domain::apply_merge_patch(doc, patch));
  }
}
BENCHMARK(BM_MergePatchStatus);

void BM_MergePatchCharacteristic(benchmark::State& state) {
  const json patch = json::parse(patch_char_text);
  for (auto _ : state) {
    json doc = stored();
    benchmark::DoNotOptimize(tmf::domain::apply_merge_patch(doc, patch));
  }
}
BENCHMARK(BM_MergePatchCharacteristic);

// The whole CPU of a PATCH on a cached customer: parse the patch, apply it to
// a copy, re-validate, serialise the new version.
void BM_PatchPath_ParseApplyCheckDump(benchmark::State& state) {
  const std::string text = patch_char_text;
  for (auto _ : state) {
    json patch = json::parse(text);
    json doc = stored();
    tmf::domain::apply_merge_patch(doc, patch);
    benchmark::DoNotOptimize(tmf::domain::check_customer(doc));
    benchmark::DoNotOptimize(doc.dump());
  }
}
BENCHMARK(BM_PatchPath_ParseApplyCheckDump);

tmf::domain::filter_term term(std::string path, tmf::domain::filter_op op,
                      std::vector<std::string> values) {
  tmf::domain::filter_term t;
  t.path = std::move(path);
  t.op = op;
  t.values = std::move(values);
  return t;
}

void BM_FilterNameEq(benchmark::State& state) {
  const json& doc = stored();
  std::vector<tmf::domain::filter_term> f{
    term("name", tmf::domain::filter_op::eq, {"Moon Harbour Logistics 000042"})};
  for (auto _ : state)
    benchmark::DoNotOptimize(tmf::domain::matches(doc, f));
}
BENCHMARK(BM_FilterNameEq);

void BM_FilterNestedAnd(benchmark::State& state) {
  const json& doc = stored();
  std::vector<tmf::domain::filter_term> f{
    term("contactMedium.mediumType", tmf::domain::filter_op::eq,
         {"fax", "postalAddress"}),
    term("characteristic.value", tmf::domain::filter_op::gte, {"700"}),
    term("status", tmf::domain::filter_op::ne, {"Closed"})};
  for (auto _ : state)
    benchmark::DoNotOptimize(tmf::domain::matches(doc, f));
}
BENCHMARK(BM_FilterNestedAnd);

void BM_FilterRegex(benchmark::State& state) {
  const json& doc = stored();
  std::vector<tmf::domain::filter_term> f{
    term("name", tmf::domain::filter_op::regex, {"Moon.*0042"})};
  for (auto _ : state)
    benchmark::DoNotOptimize(tmf::domain::matches(doc, f));
}
BENCHMARK(BM_FilterRegex);

void BM_SortBefore(benchmark::State& state) {
  json a = stored();
  json b = stored();
  b["id"] = "0a2-0000000000000001";
  b["name"] = "Moon Harbour Logistics 000043";
  std::vector<tmf::domain::sort_key> keys{{"name", false}, {"status", true}};
  for (auto _ : state)
    benchmark::DoNotOptimize(tmf::domain::sort_before(a, b, keys));
}
BENCHMARK(BM_SortBefore);

void BM_ParseListRequest(benchmark::State& state) {
  const std::string raw =
    "name=Load%20Customer%200042&status=Approved,Validated"
    "&contactMedium.mediumType=email&fields=name,status&sort=-name"
    "&offset=20&limit=20";
  tmf::domain::list_limits limits;
  for (auto _ : state) {
    tmf::domain::query_params pairs;
    std::string error;
    tmf::domain::split_query(raw, pairs, error);
    tmf::domain::list_request req;
    benchmark::DoNotOptimize(
      tmf::domain::parse_list_request(pairs, limits, req, error));
  }
}
BENCHMARK(BM_ParseListRequest);

} // namespace

BENCHMARK_MAIN();
