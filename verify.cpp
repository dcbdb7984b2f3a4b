#include "verify.hpp"

#include <map>
#include <set>
#include <string_view>

#include <nlohmann/json.hpp>

#include "domain/customer_index.hpp"
#include "domain/customer_rules.hpp"
#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;

/// A printable, bounded rendering of stored bytes.
std::string shown(std::string_view bytes) {
  std::string out;
  for (auto c : bytes.substr(0, 64))
    out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (bytes.size() > 64)
    out += "...";
  return out;
}

/// Collects problems, printing the first `max_lines`.
class problem_log {
public:
  problem_log(std::ostream& out, uint64_t max_lines)
    : out_(out), max_lines_(max_lines) {
    // nop
  }

  void add(const std::string& line) {
    if (count_++ < max_lines_)
      out_ << "problem: " << line << '\n';
  }

  uint64_t count() const {
    return count_;
  }

  void finish() {
    if (count_ > max_lines_)
      out_ << "... and " << (count_ - max_lines_) << " more problem(s)\n";
  }

private:
  std::ostream& out_;
  uint64_t max_lines_;
  uint64_t count_ = 0;
};

/// The indexes the store marks built, from the markers in `meta`.
domain::index_layout built_indexes(db::read_txn& txn) {
  std::vector<domain::index_spec> specs;
  auto prefix = std::string{domain::index_marker_prefix};
  auto res = txn.scan(db::table::meta, prefix, [&](const db::record_view& r) {
    if (r.key.substr(0, prefix.size()) != prefix)
      return false;
    auto m = domain::parse_marker(r.json);
    if (m && m->ready && m->layout == domain::index_layout_version) {
      auto path = std::string{r.key.substr(prefix.size())};
      specs.push_back(domain::index_spec{path, m->generation,
                                         domain::customer_attribute(path)});
    }
    return true;
  });
  if (res.failed())
    specs.clear();
  return domain::index_layout{std::move(specs)};
}

/// True when `key` belongs to one of the built indexes.
bool in_built_index(std::string_view key, const domain::index_layout& built) {
  for (const auto& spec : built.specs())
    if (key.substr(0, spec.prefix().size()) == spec.prefix())
      return true;
  return false;
}

/// Checks one customer row; adds the index keys it calls for to
/// `expected`.
void check_row(std::string_view key, std::string_view text,
               const domain::index_layout& built,
               std::set<std::string>& expected, problem_log& log) {
  auto id = std::string{key};
  for (auto& term : built.terms_of_text(text))
    expected.insert(domain::index_key(term, id));
  nlohmann::json doc;
  std::string error;
  if (!domain::parse_json(text, domain::max_stored_depth, doc, error)) {
    log.add("customer " + shown(key) + ": the stored text " + error);
    return;
  }
  if (domain::stored_id(text) != key)
    log.add("customer " + shown(key)
            + ": the stored text does not start with its id");
  if (auto msg = domain::check_customer(doc))
    log.add("customer " + shown(key) + ": " + *msg);
}

/// Checks that `index_counts` holds, for every term of the built indexes,
/// the number of entries the index holds under it (`held`), and nothing
/// for terms without entries.
void check_counts(db::read_txn& txn, const domain::index_layout& built,
                  std::map<std::string, uint64_t>& held, problem_log& log) {
  auto res = txn.scan(db::table::index_counts, {},
                      [&](const db::record_view& rec) {
    if (!in_built_index(rec.key, built))
      return true; // an index being built or dropped
    auto term = std::string{rec.key};
    uint64_t entries = 0;
    if (auto i = held.find(term); i != held.end()) {
      entries = i->second;
      held.erase(i);
    }
    if (rec.json.size() != 8) {
      log.add("index count " + shown(term) + " is not an 8-byte number");
      return true;
    }
    auto count = db::key_seq(rec.json);
    if (count != entries)
      log.add("index count " + shown(term) + " says "
              + std::to_string(count) + ", the index holds "
              + std::to_string(entries) + " entr"
              + (entries == 1 ? "y" : "ies"));
    return true;
  });
  if (res.failed()) {
    log.add("reading the index counts failed: " + res.error);
    return;
  }
  for (const auto& [term, entries] : held)
    log.add("index count " + shown(term) + " is missing (the index holds "
            + std::to_string(entries) + " entr" + (entries == 1 ? "y" : "ies")
            + ")");
}

} // namespace

bool verify_store(const std::string& data_dir, uint64_t map_size,
                  std::ostream& out, verify_report& report,
                  std::string& error, uint64_t max_lines) {
  db::env_options opts{data_dir, map_size, 126};
  opts.read_only = true; // verify never changes or creates anything
  auto env = db::environment::open(opts, error);
  if (!env)
    return false;
  auto txn = env->read();
  if (!txn.valid()) {
    error = "data-dir " + data_dir + ": " + txn.error();
    return false;
  }
  problem_log log{out, max_lines};
  std::set<std::string> expected;
  auto built = built_indexes(txn);
  uint64_t stale = 0;
  auto rows = txn.scan(db::table::customers, {},
                       [&](const db::record_view& rec) {
                         ++report.rows;
                         if (rec.version == 0)
                           log.add("customer " + shown(rec.key)
                                   + ": version 0");
                         check_row(rec.key, rec.json, built, expected,
                                   log);
                         return true;
                       });
  if (rows.failed()) {
    // A row that cannot be decoded ends the scan: the index cannot be
    // compared with rows that were not read.
    log.add("reading the customers failed after " + std::to_string(report.rows)
            + " row(s): " + rows.error);
  } else {
    std::map<std::string, uint64_t> held; // entries per term
    auto entries = txn.scan(db::table::customer_index, {},
                            [&](const db::record_view& rec) {
                              ++report.index_entries;
                              if (!in_built_index(rec.key, built)) {
                                ++stale; // an index being built or dropped
                                return true;
                              }
                              ++held[std::string{
                                domain::index_key_term(rec.key)}];
                              auto key = std::string{rec.key};
                              if (expected.erase(key) == 0)
                                log.add("index entry " + shown(key)
                                        + " names no customer row that "
                                          "holds it");
                              return true;
                            });
    if (entries.failed()) {
      log.add("reading the index failed: " + entries.error);
    } else {
      for (const auto& key : expected)
        log.add("index entry " + shown(key) + " is missing");
      check_counts(txn, built, held, log);
    }
  }
  log.finish();
  report.problems = log.count();
  out << "verified " << data_dir << ": " << report.rows
      << " customer(s), " << report.index_entries << " index entr"
      << (report.index_entries == 1 ? "y" : "ies") << ", "
      << report.problems << " problem(s)\n";
  if (stale > 0)
    out << stale << " index entries of indexes not (or no longer) built were "
        << "not checked; the next start builds or removes them\n";
  return true;
}

} // namespace tmf
