// ceiling_lmdb: the storage ceiling of bench/. Raw durable LMDB commits
// (default flags = fdatasync on every commit, like the service) of ~1 KiB
// customer documents with a fixed number of puts per write transaction:
// batch 1 is "one commit per write", batch N what group commit at N
// concurrent writers can at best reach. No HTTP, no JSON, one thread.
//
// Usage: ceiling_lmdb --dir DIR [--batch 1,16,64] [--seconds 2]
//                     [--prefill ROWS]
// For each batch size it opens a fresh environment in DIR/b<N> (removed
// afterwards), first fills it with ROWS documents under random ids (untimed:
// inserting into a B-tree of 200k rows costs several times what inserting
// into an empty one does, so the ceiling must hold as many rows as the
// service it is compared with), and prints one JSON object per line:
// {"batch":N,"prefill":ROWS,"puts":..,"commits":..,"seconds":..,
//  "puts_per_s":..,"commits_per_s":..,"commit_p50_us":..,"commit_p99_us":..}

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <lmdb.h>

namespace {

const std::string customer_doc = R"json({"id":"0a1-7f3e9c2b5d4a4e6f","href":"http://127.0.0.1:8080/tmf-api/customerManagement/v4/customer/0a1-7f3e9c2b5d4a4e6f","name":"Moon Harbour Logistics 000042","status":"Approved","validFor":{"startDateTime":"2024-01-15T09:30:00Z"},"engagedParty":{"id":"org-000042","name":"Moon Harbour Logistics","@referredType":"Organization"},"contactMedium":[{"mediumType":"email","preferred":true,"characteristic":{"emailAddress":"billing.000042@moonharbour.example","contactType":"billing"}},{"mediumType":"telephoneNumber","preferred":false,"characteristic":{"phoneNumber":"+44 20 7946 0042","contactType":"office"}},{"mediumType":"postalAddress","characteristic":{"street1":"42 Quay Street","city":"Bristol","postCode":"BS1 4XY","country":"GB"}}],"characteristic":[{"name":"segment","value":"enterprise"},{"name":"creditScore","value":742},{"name":"preferredLanguage","value":"en-GB"}],"relatedParty":[{"id":"ind-104233","name":"Ada Lovelace","role":"accountManager","@referredType":"Individual"}],"@type":"Customer"})json";

void check(int rc, const char* what) {
  if (rc != MDB_SUCCESS) {
    std::fprintf(stderr, "ceiling_lmdb: %s: %s\n", what, mdb_strerror(rc));
    std::exit(1);
  }
}

/// A random-looking id of the service's length (`<3 hex>-<26 chars>`) for
/// the n-th document of stream `stream`.
int make_key(char (&key)[40], uint64_t n, uint64_t stream) {
  uint64_t h = (n + 1) * 0x9E3779B97F4A7C15ull ^ stream;
  uint64_t g = h * 0xC2B2AE3D27D4EB4Full;
  return std::snprintf(key, sizeof key, "%03x-%016llx%010llx",
                       static_cast<unsigned>(h >> 54),
                       static_cast<unsigned long long>(h),
                       static_cast<unsigned long long>(g >> 24));
}

/// Inserts `rows` documents, 10,000 per transaction, without syncing each
/// commit (one sync at the end): the fill is setup, not measurement.
void prefill(MDB_env* env, MDB_dbi dbi, uint64_t rows) {
  if (rows == 0)
    return;
  check(mdb_env_set_flags(env, MDB_NOSYNC, 1), "set_flags");
  std::string value = customer_doc;
  char key[40];
  for (uint64_t done = 0; done < rows;) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "txn_begin");
    for (int i = 0; i < 10000 && done < rows; ++i, ++done) {
      int n = make_key(key, done, 0x5bd1e995ull);
      MDB_val k{static_cast<size_t>(n), key};
      MDB_val v{value.size(), value.data()};
      check(mdb_put(txn, dbi, &k, &v, 0), "put");
    }
    check(mdb_txn_commit(txn), "commit");
  }
  check(mdb_env_set_flags(env, MDB_NOSYNC, 0), "set_flags");
  check(mdb_env_sync(env, 1), "env_sync");
}

int run_one(const std::filesystem::path& dir, unsigned batch, double seconds,
            uint64_t rows) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  MDB_env* env = nullptr;
  check(mdb_env_create(&env), "env_create");
  check(mdb_env_set_mapsize(env, size_t{8} << 30), "set_mapsize");
  check(mdb_env_set_maxdbs(env, 4), "set_maxdbs");
  check(mdb_env_open(env, dir.c_str(), MDB_NOTLS, 0644), "env_open");
  MDB_dbi dbi;
  {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "txn_begin");
    check(mdb_dbi_open(txn, "customers", MDB_CREATE, &dbi), "dbi_open");
    check(mdb_txn_commit(txn), "commit");
  }
  prefill(env, dbi, rows);
  using clock = std::chrono::steady_clock;
  std::vector<double> commit_us;
  commit_us.reserve(1 << 16);
  uint64_t puts = 0;
  std::string value = customer_doc;
  char key[40];
  const auto start = clock::now();
  const auto deadline = start + std::chrono::duration<double>(seconds);
  auto now = start;
  while (now < deadline) {
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env, nullptr, 0, &txn), "txn_begin");
    for (unsigned i = 0; i < batch; ++i, ++puts) {
      // Random-looking ids like the service's, value varied per put.
      int n = make_key(key, puts, 0);
      std::memcpy(value.data() + 7, key, 20); // the document's "id" value
      MDB_val k{static_cast<size_t>(n), key};
      MDB_val v{value.size(), value.data()};
      check(mdb_put(txn, dbi, &k, &v, 0), "put");
    }
    const auto t0 = clock::now();
    check(mdb_txn_commit(txn), "commit");
    now = clock::now();
    commit_us.push_back(std::chrono::duration<double, std::micro>(now - t0).count());
  }
  const double elapsed = std::chrono::duration<double>(now - start).count();
  std::sort(commit_us.begin(), commit_us.end());
  auto pct = [&](double p) {
    if (commit_us.empty())
      return 0.0;
    auto idx = static_cast<size_t>(p * (commit_us.size() - 1));
    return commit_us[idx];
  };
  std::printf("{\"batch\":%u,\"prefill\":%llu,\"puts\":%llu,\"commits\":%zu,\"seconds\":%.3f,"
              "\"puts_per_s\":%.1f,\"commits_per_s\":%.1f,"
              "\"commit_p50_us\":%.1f,\"commit_p99_us\":%.1f,\"value_bytes\":%zu}\n",
              batch, static_cast<unsigned long long>(rows),
              static_cast<unsigned long long>(puts), commit_us.size(),
              elapsed, puts / elapsed, commit_us.size() / elapsed, pct(0.50),
              pct(0.99), value.size());
  std::fflush(stdout);
  mdb_env_close(env);
  std::filesystem::remove_all(dir);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  std::string dir;
  std::string batches = "1,64";
  double seconds = 2.0;
  uint64_t rows = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
      dir = argv[++i];
    else if (std::strcmp(argv[i], "--batch") == 0 && i + 1 < argc)
      batches = argv[++i];
    else if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc)
      seconds = std::atof(argv[++i]);
    else if (std::strcmp(argv[i], "--prefill") == 0 && i + 1 < argc)
      rows = std::strtoull(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr,
                   "usage: %s --dir DIR [--batch 1,16,64] [--seconds S] "
                   "[--prefill ROWS]\n",
                   argv[0]);
      return 2;
    }
  }
  if (dir.empty() || seconds <= 0) {
    std::fprintf(stderr, "ceiling_lmdb: --dir is required, --seconds > 0\n");
    return 2;
  }
  std::stringstream list(batches);
  std::string item;
  while (std::getline(list, item, ',')) {
    auto b = static_cast<unsigned>(std::strtoul(item.c_str(), nullptr, 10));
    if (b == 0)
      b = 1;
    run_one(std::filesystem::path(dir) / ("b" + std::to_string(b)), b, seconds,
            rows);
  }
  return 0;
}
