// scale_loader: fills a tmf629d data folder with generated customers,
// straight into LMDB, for the scale benchmark (bench/tmfbench/scale.py).
//
//   scale_loader --data DIR --count N [--batch ROWS] [--map-size BYTES]
//
// Writes what the service itself would write for a create: the stored
// text (domain/stored_text.hpp), version 1, and the entries and counts of
// every built-in index in the same transaction (domain/customer_index.hpp,
// generations from actors/index_builder.hpp's prepare_indexes). A folder
// that already holds K customers gets N-K more; customer i is always the
// same document (only its random id differs), so queries select the same
// shares at every size:
//
// - name "Customer %07d" (unique), engagedParty.id "party-%d" (unique);
// - status Approved, Pending, Validated, Closed in turn (a quarter each);
// - contactMedium.characteristic.city one of 50 cities (2 % each; no
//   index);
// - creditProfile.creditScore (i * 7919) % 1000 (no index);
// - validFor.startDateTime spread over 2020-2025 with varying offsets.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/index_builder.hpp"
#include "domain/customer_id.hpp"
#include "domain/customer_index.hpp"
#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"
#include "persistence/lmdb_store.hpp"

namespace {

namespace db = tmf::persistence;
using json = nlohmann::json;

struct options {
  std::string data;
  uint64_t count = 0;
  uint64_t batch = 10000;
  uint64_t map_size = 16ull << 30;
};

int usage() {
  std::fprintf(stderr, "usage: scale_loader --data DIR --count N "
                       "[--batch ROWS] [--map-size BYTES]\n");
  return 2;
}

bool parse(int argc, char** argv, options& out) {
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    std::string value = argv[i + 1];
    if (key == "--data")
      out.data = value;
    else if (key == "--count")
      out.count = std::strtoull(value.c_str(), nullptr, 10);
    else if (key == "--batch")
      out.batch = std::strtoull(value.c_str(), nullptr, 10);
    else if (key == "--map-size")
      out.map_size = std::strtoull(value.c_str(), nullptr, 10);
    else
      return false;
  }
  return argc % 2 == 1 && !out.data.empty() && out.batch > 0;
}

/// Customer number `i`, without an id.
json customer(uint64_t i) {
  static const char* statuses[] = {"Approved", "Pending", "Validated",
                                   "Closed"};
  static const char* cities[] = {
    "Lyon",    "Paris",   "Nice",    "Lille",   "Rennes",  "Nantes",
    "Brest",   "Metz",    "Dijon",   "Tours",   "Caen",    "Reims",
    "Amiens",  "Angers",  "Rouen",   "Nimes",   "Pau",     "Bayonne",
    "Vannes",  "Quimper", "Lorient", "Annecy",  "Chambery", "Valence",
    "Avignon", "Arles",   "Toulon",  "Cannes",  "Antibes", "Menton",
    "Grasse",  "Ajaccio", "Bastia",  "Calvi",   "Sete",    "Agde",
    "Beziers", "Albi",    "Rodez",   "Cahors",  "Agen",    "Auch",
    "Tarbes",  "Lourdes", "Foix",    "Millau",  "Mende",   "Le Puy",
    "Vichy",   "Moulins"};
  char name[32];
  std::snprintf(name, sizeof name, "Customer %07llu",
                static_cast<unsigned long long>(i));
  char start[40];
  auto day = i % 2000;
  std::snprintf(start, sizeof start, "%04llu-%02llu-%02lluT%02llu:%02llu:00%c"
                "%02llu:00",
                static_cast<unsigned long long>(2020 + day / 365 % 6),
                static_cast<unsigned long long>(day / 28 % 12 + 1),
                static_cast<unsigned long long>(day % 28 + 1),
                static_cast<unsigned long long>(i % 24),
                static_cast<unsigned long long>(i % 60), i % 2 ? '+' : '-',
                static_cast<unsigned long long>(i % 12));
  auto id = std::to_string(i);
  return json{
    {"name", name},
    {"status", statuses[i % 4]},
    {"@type", "Customer"},
    {"@baseType", "PartyRole"},
    {"engagedParty",
     {{"id", "party-" + id},
      {"name", std::string{"Party "} + id},
      {"@referredType", "Organization"}}},
    {"contactMedium",
     {{{"mediumType", "email"},
       {"preferred", true},
       {"characteristic",
        {{"emailAddress", "c" + id + "@example.com"},
         {"city", cities[i % 50]}}}}}},
    {"characteristic", {{{"name", "segment"}, {"value", i % 7}}}},
    {"creditProfile",
     {{{"creditProfileDate", "2024-01-01T00:00:00Z"},
       {"validFor", {{"startDateTime", "2024-01-01T00:00:00Z"}}},
       {"creditScore", i * 7919 % 1000}}}},
    {"validFor", {{"startDateTime", start}}}};
}

/// The ops of customer `i` with a fresh id: the row, then its entries.
void append(uint64_t i, const tmf::domain::index_layout& layout,
            std::vector<db::write_op>& ops) {
  auto doc = customer(i);
  auto id = tmf::domain::make_customer_id(static_cast<uint16_t>(
    i * 2654435761u % tmf::domain::shard_count));
  ops.push_back(db::write_op{db::write_op::insert, db::table::customers, id,
                             tmf::domain::with_id(id, doc.dump()), 0});
  for (auto& term : layout.terms(doc)) {
    auto key = tmf::domain::index_key(term, id);
    ops.push_back(db::write_op{db::write_op::index_put,
                               db::table::customer_index, std::move(key),
                               std::move(term), 0, true});
  }
}

uint64_t stored_count(db::environment& env) {
  auto n = env.read().count(db::table::customers);
  return n.failed() ? 0 : n.entries;
}

} // namespace

int main(int argc, char** argv) {
  options opts;
  if (!parse(argc, argv, opts))
    return usage();
  std::string error;
  auto env = db::environment::open({opts.data, opts.map_size, 126}, error);
  if (!env) {
    std::fprintf(stderr, "scale_loader: %s\n", error.c_str());
    return 1;
  }
  tmf::index_setup setup;
  if (!tmf::prepare_indexes(*env, tmf::domain::builtin_index_paths(), setup,
                            error)) {
    std::fprintf(stderr, "scale_loader: %s\n", error.c_str());
    return 1;
  }
  if (!setup.to_build.empty()) {
    std::fprintf(stderr, "scale_loader: %s holds customers whose indexes "
                         "are not built; start tmf629d on it once first\n",
                 opts.data.c_str());
    return 1;
  }
  auto have = stored_count(*env);
  auto began = std::chrono::steady_clock::now();
  std::vector<db::write_op> ops;
  std::vector<db::write_result> results;
  for (auto i = have; i < opts.count;) {
    ops.clear();
    auto end = std::min(opts.count, i + opts.batch);
    for (; i < end; ++i)
      append(i, *setup.layout, ops);
    if (env->apply(ops, results, error) != db::status::ok) {
      std::fprintf(stderr, "scale_loader: %s\n", error.c_str());
      return 1;
    }
    std::fprintf(stderr, "\rscale_loader: %llu of %llu customers",
                 static_cast<unsigned long long>(i),
                 static_cast<unsigned long long>(opts.count));
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                            - began)
                .count();
  std::fprintf(stderr, "\nscale_loader: %s holds %llu customers (%.1f s)\n",
               opts.data.c_str(),
               static_cast<unsigned long long>(stored_count(*env)), secs);
  return 0;
}
