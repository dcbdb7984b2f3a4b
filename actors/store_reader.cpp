#include "actors/store.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/sec.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_fields.hpp"
#include "domain/customer_index.hpp"
#include "domain/customer_id.hpp"
#include "domain/customer_query.hpp"
#include "domain/hub.hpp"
#include "domain/json_body.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;

struct store_reader_state {
  static constexpr const char* name = "store_reader";
  std::shared_ptr<db::environment> env;
  actor_metrics metrics;
};

using reader_ptr = store_reader_actor::stateful_pointer<store_reader_state>;

/// The values of the first `id=...` equality filter, if any: the candidates
/// can then be fetched by key instead of scanning the table.
const filter_term* id_term(const list_query& q) {
  for (const auto& t : q.filters)
    if (t.path == "id" && t.op == filter_op::eq)
      return &t;
  return nullptr;
}

/// The first `eq` term on an indexed attribute, if any.
const filter_term* indexed_term(const list_query& q) {
  for (const auto& t : q.filters)
    if (t.op == filter_op::eq && domain::is_indexed(t.path))
      return &t;
  return nullptr;
}

/// True once nobody waits for the answer to `q` any more.
bool expired(const list_query& q) {
  if (q.deadline_ns == 0)
    return false;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  return now > q.deadline_ns;
}

/// The same error a requester's own timeout gives (the client got or gets
/// 504 either way).
caf::error expired_error() {
  return caf::make_error(caf::sec::request_timeout);
}

/// Thrown inside a list run when its deadline has passed.
struct deadline_passed {};

/// Thrown inside a list run when a read failed: what was read, and the
/// LMDB call that failed.
struct read_failure {
  std::string what;
  std::string detail;
};

/// A failed read as the error of a load or list: errc::store_failed with a
/// message naming what was read and the LMDB call that failed.
caf::error read_failed(const std::string& what, const std::string& detail) {
  return caf::make_error(errc::store_failed,
                         "storage failure while " + what + ": " + detail);
}

/// Throws a read_failure when `res` failed.
void check_read(const db::read_outcome& res, const char* what) {
  if (res.failed())
    throw read_failure{what, res.error};
}

/// Loads the customer `id`: not_found only when LMDB says so.
caf::result<customer_doc> load(db::environment& env, const std::string& id) {
  auto txn = env.read();
  if (!txn.valid())
    return read_failed("loading customer " + id, txn.error());
  auto res = txn.get(db::table::customers, id);
  switch (res.st) {
    case db::status::ok:
      return customer_doc{id, res.rec.version, std::move(res.rec.json)};
    case db::status::not_found:
      return caf::make_error(errc::not_found, "no customer with id " + id);
    default:
      return read_failed("loading customer " + id, res.error);
  }
}

/// One list query answered from one read snapshot. Every loop of the run
/// (index lookups, fetches, scans, sorting, field selection) checks the
/// deadline; past it the run stops at once and frees the reader.
class list_run {
public:
  list_run(db::read_txn& txn, const list_query& q,
           const domain::compiled_filters& filters,
           const actor_metrics& metrics)
    : txn_(txn), q_(q), filters_(filters), prefilter_(q.filters),
      metrics_(metrics) {
    // nop
  }

  caf::expected<list_page> run() {
    if (!txn_.valid())
      return read_failed("starting a read", txn_.error());
    try {
      auto page = find_page();
      record();
      select_fields(page);
      return page;
    } catch (const deadline_passed&) {
      record();
      return expired_error();
    } catch (const read_failure& failure) {
      record();
      return read_failed(failure.what, failure.detail);
    }
  }

private:
  static constexpr auto tbl = db::table::customers;

  /// How the candidates of the query were found.
  enum class path { plain, id, index, scan };

  /// Counts the query and the rows it read under its path.
  void record() {
    auto [queries, rows] = [&] {
      switch (path_) {
        case path::plain:
          return std::pair{metrics_.list_plain, metrics_.rows_plain};
        case path::id:
          return std::pair{metrics_.list_id, metrics_.rows_id};
        case path::index:
          return std::pair{metrics_.list_index, metrics_.rows_index};
        default:
          return std::pair{metrics_.list_scan, metrics_.rows_scan};
      }
    }();
    count(queries);
    count(rows, static_cast<double>(rows_));
  }

  void check_deadline() {
    if (expired(q_))
      throw deadline_passed{};
  }

  list_page find_page() {
    if (q_.filters.empty() && q_.sort.empty())
      return plain_page();
    if (auto ids = id_term(q_)) {
      path_ = path::id;
      auto candidates = ids->values;
      std::sort(candidates.begin(), candidates.end());
      candidates.erase(std::unique(candidates.begin(), candidates.end()),
                       candidates.end());
      fetch(candidates);
    } else if (auto term = indexed_term(q_)) {
      path_ = path::index;
      auto candidates = index_lookup(*term);
      if (q_.filters.size() == 1 && q_.sort.empty()
          && domain::index_answers(*term))
        return index_page(candidates);
      fetch(candidates);
    } else {
      path_ = path::scan;
      auto res = txn_.scan(tbl, {}, [&](const db::record_view& rec) {
        ++rows_;
        consider(rec.json);
        return true;
      });
      check_read(res, "scanning customers");
    }
    return finish();
  }

  /// No filter, no sort: count from the B-tree, copy only the page.
  list_page plain_page() {
    list_page page;
    auto total = txn_.count(tbl);
    check_read(total, "counting customers");
    page.total = total.entries;
    uint64_t pos = 0;
    auto res = txn_.scan(tbl, {}, [&](const db::record_view& rec) {
      ++rows_;
      if (pos++ < q_.offset) {
        if (pos % 1024 == 0)
          check_deadline();
        return true;
      }
      if (page.items.size() >= q_.limit)
        return false;
      page.items.emplace_back(rec.json);
      return true;
    });
    check_read(res, "listing customers");
    return page;
  }

  /// The index decides the only filter: count from it and read the page
  /// only, without parsing anything.
  list_page index_page(const std::vector<std::string>& candidates) {
    list_page page;
    page.total = candidates.size();
    for (auto i = q_.offset; i < candidates.size() && i - q_.offset < q_.limit;
         ++i)
      if (auto rec = fetch(candidates[i]))
        page.items.emplace_back(std::move(*rec));
    return page;
  }

  /// The ids whose index entries match `term` (any of its values), sorted.
  std::vector<std::string> index_lookup(const filter_term& term) {
    std::vector<std::string> ids;
    for (const auto& value : term.values) {
      auto prefix = domain::index_prefix(term.path, value);
      auto res = txn_.scan(db::table::customer_index, prefix,
                           [&](const db::record_view& rec) {
                  auto id = domain::index_key_id(rec.key, prefix);
                  if (id.empty())
                    return false;
                  if (ids.size() % 1024 == 0)
                    check_deadline();
                  ids.emplace_back(id);
                  return true;
                });
      check_read(res, "reading the index");
    }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    return ids;
  }

  /// The stored text of customer `id`, or nothing (an index entry or
  /// `id=` value without a row); a failed read throws.
  std::optional<std::string> fetch(const std::string& id) {
    auto rec = txn_.get(tbl, id);
    if (rec.failed())
      throw read_failure{"reading customer " + id, rec.error};
    if (rec.st != db::status::ok)
      return std::nullopt;
    ++rows_;
    return std::move(rec.rec.json);
  }

  void fetch(const std::vector<std::string>& candidates) {
    for (const auto& id : candidates)
      if (auto text = fetch(id))
        consider(*text);
  }

  /// Evaluates one stored row. A row that does not parse (corrupt, or
  /// nested deeper than any text this build stores) matches nothing.
  void consider(std::string_view text) {
    check_deadline();
    if (!prefilter_.may_match(text))
      return; // cannot match: skip the parse
    nlohmann::json doc;
    std::string error;
    if (!domain::parse_json(text, domain::max_stored_depth, doc, error))
      return;
    if (!filters_.matches(doc))
      return;
    auto pos = total_++;
    if (!q_.sort.empty())
      sortable_.emplace_back(std::move(doc), std::string{text});
    else if (pos >= q_.offset && pos - q_.offset < q_.limit)
      items_.emplace_back(text);
  }

  list_page finish() {
    if (!q_.sort.empty()) {
      size_t comparisons = 0;
      std::stable_sort(sortable_.begin(), sortable_.end(),
                       [&](const auto& a, const auto& b) {
                         if (++comparisons % 1024 == 0)
                           check_deadline();
                         return domain::sort_before(a.first, b.first,
                                                    q_.sort);
                       });
      for (auto i = q_.offset; i < sortable_.size() && i - q_.offset < q_.limit;
           ++i)
        items_.emplace_back(std::move(sortable_[i].second));
    }
    return list_page{total_, std::move(items_)};
  }

  /// Reduces every item of `page` to the query's `fields`.
  void select_fields(list_page& page) {
    if (q_.fields.empty())
      return;
    for (auto& item : page.items) {
      check_deadline();
      item = domain::select_fields_text(item, q_.fields);
    }
  }

  db::read_txn& txn_;
  const list_query& q_;
  const domain::compiled_filters& filters_;
  domain::text_prefilter prefilter_;
  const actor_metrics& metrics_;
  path path_ = path::plain;
  uint64_t rows_ = 0; ///< stored rows read
  uint64_t total_ = 0;
  std::vector<std::string> items_;
  std::vector<std::pair<nlohmann::json, std::string>> sortable_;
};

/// A chunk carries about this many bytes of rows at most (at least one row).
constexpr size_t chunk_bytes = 1 << 20;

/// The next chunk of `shard`'s rows from key `from` (empty: the first); the
/// last chunk also carries the shard's pending outbox events.
caf::result<shard_chunk> export_chunk(db::environment& env, uint16_t shard,
                                      const std::string& from) {
  if (shard >= domain::shard_count)
    return caf::make_error(errc::invalid, "no shard " + std::to_string(shard));
  auto prefix = domain::shard_prefix(shard);
  if (!from.empty() && from.compare(0, prefix.size(), prefix) != 0)
    return caf::make_error(errc::invalid, "key " + from + " is not in shard "
                                            + std::to_string(shard));
  shard_chunk chunk;
  chunk.shard = shard;
  size_t bytes = 0;
  auto txn = env.read();
  auto res = txn.scan(db::table::customers, from.empty() ? prefix : from,
                      [&](const db::record_view& rec) {
    if (rec.key.compare(0, prefix.size(), prefix) != 0)
      return false;
    if (bytes >= chunk_bytes) {
      chunk.next = std::string{rec.key};
      return false;
    }
    bytes += rec.key.size() + rec.json.size();
    chunk.rows.push_back(
      customer_doc{std::string{rec.key}, rec.version, std::string{rec.json}});
    return true;
  });
  if (res.failed())
    return read_failed("reading shard " + std::to_string(shard), res.error);
  if (!chunk.next.empty())
    return chunk;
  // Events every subscription has handled (as far as stored) stay behind.
  bool any_cursor = false;
  uint64_t lowest = UINT64_MAX;
  res = txn.scan(db::table::cursors, {}, [&](const db::record_view& rec) {
    any_cursor = true;
    lowest = std::min(lowest, db::key_seq(rec.json));
    return true;
  });
  if (res.failed())
    return read_failed("reading the delivery positions", res.error);
  if (!any_cursor)
    return chunk;
  res = txn.scan(db::table::outbox, db::seq_key(lowest + 1),
                 [&](const db::record_view& rec) {
    std::string_view customer, text;
    if (domain::split_outbox_value(rec.json, customer, text)
        && customer.compare(0, prefix.size(), prefix) == 0)
      chunk.events.emplace_back(rec.json);
    return true;
  });
  if (res.failed())
    return read_failed("reading the outbox of shard " + std::to_string(shard),
                       res.error);
  return chunk;
}

store_reader_actor::behavior_type
store_reader_impl(reader_ptr self, std::shared_ptr<db::environment> env,
                  actor_metrics metrics) {
  self->state.env = std::move(env);
  self->state.metrics = metrics;
  return {
    [=](load_atom, const std::string& id) -> caf::result<customer_doc> {
      return load(*self->state.env, id);
    },
    [=](list_atom, const list_query& q) -> caf::result<list_page> {
      if (expired(q))
        return expired_error(); // queued behind slow scans: skip it
      // Regular expressions compile here, never on an HTTP thread.
      domain::compiled_filters filters{q.filters};
      if (!filters.ok())
        return caf::make_error(errc::invalid, filters.error());
      auto txn = self->state.env->read();
      auto page = list_run{txn, q, filters, self->state.metrics}.run();
      if (!page)
        return std::move(page.error());
      return std::move(*page);
    },
    [=](export_atom, uint16_t shard, const std::string& from) {
      return export_chunk(*self->state.env, shard, from);
    },
  };
}

} // namespace

store_reader_actor spawn_store_reader(caf::actor_system& sys,
                                      std::shared_ptr<db::environment> env,
                                      actor_metrics metrics) {
  return sys.spawn<caf::detached>(store_reader_impl, std::move(env),
                                  metrics);
}

} // namespace tmf
