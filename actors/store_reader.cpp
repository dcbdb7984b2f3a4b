#include "actors/store.hpp"

#include <algorithm>
#include <chrono>
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
#include "domain/customer_query.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;

struct store_reader_state {
  static constexpr const char* name = "store_reader";
  std::shared_ptr<db::environment> env;
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

/// A failed read as the error of a load or list: errc::store_failed with a
/// message naming what was read and the LMDB call that failed.
caf::error read_failed(const std::string& what, const std::string& detail) {
  return caf::make_error(errc::store_failed,
                         "storage failure while " + what + ": " + detail);
}

/// The ids whose index entries match `term` (any of its values), sorted.
caf::expected<std::vector<std::string>>
index_lookup(db::read_txn& txn, const filter_term& term) {
  std::vector<std::string> ids;
  for (const auto& value : term.values) {
    auto prefix = domain::index_prefix(term.path, value);
    auto res = txn.scan(db::table::customer_index, prefix,
                        [&](const db::record_view& rec) {
                          auto id = domain::index_key_id(rec.key, prefix);
                          if (id.empty())
                            return false;
                          ids.emplace_back(id);
                          return true;
                        });
    if (res.failed())
      return read_failed("reading the index", res.error);
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

/// Keeps the matches of a query in page order and counts them.
struct collector {
  const list_query& q;
  list_page page;
  std::vector<std::pair<nlohmann::json, std::string>> sortable;

  explicit collector(const list_query& query) : q(query) {
    // nop
  }

  void add(nlohmann::json&& doc, std::string_view text) {
    auto pos = page.total++;
    if (!q.sort.empty())
      sortable.emplace_back(std::move(doc), std::string{text});
    else if (pos >= q.offset && pos - q.offset < q.limit)
      page.items.emplace_back(text);
  }

  list_page finish() {
    if (!q.sort.empty()) {
      std::stable_sort(sortable.begin(), sortable.end(),
                       [this](const auto& a, const auto& b) {
                         return domain::sort_before(a.first, b.first, q.sort);
                       });
      for (auto i = q.offset; i < sortable.size() && i - q.offset < q.limit;
           ++i)
        page.items.emplace_back(std::move(sortable[i].second));
    }
    return std::move(page);
  }
};

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

/// Reduces every item of `page` to the query's `fields`.
list_page select(list_page page, const list_query& q) {
  if (!q.fields.empty())
    for (auto& item : page.items)
      item = domain::select_fields_text(item, q.fields);
  return page;
}

/// A plain listing: the total from the B-tree, a copy of the page only.
caf::expected<list_page> plain_page(db::read_txn& txn, const list_query& q) {
  list_page page;
  auto total = txn.count(db::table::customers);
  if (total.failed())
    return read_failed("counting customers", total.error);
  page.total = total.entries;
  uint64_t pos = 0;
  auto res = txn.scan(db::table::customers, {},
                      [&](const db::record_view& rec) {
                        if (pos++ < q.offset)
                          return true;
                        if (page.items.size() >= q.limit)
                          return false;
                        page.items.emplace_back(rec.json);
                        return true;
                      });
  if (res.failed())
    return read_failed("listing customers", res.error);
  return page;
}

/// Reads the customer `id` into `out`: `ok` with the record, `not_found`
/// (an index entry or `id=` value without a row), or an error.
caf::error fetch(db::read_txn& txn, const std::string& id,
                 db::get_result& out) {
  out = txn.get(db::table::customers, id);
  if (out.failed())
    return read_failed("reading customer " + id, out.error);
  return {};
}

/// Hands every existing customer of `ids` to `consider`.
template <class F>
caf::error fetch_all(db::read_txn& txn, const std::vector<std::string>& ids,
                     F&& consider) {
  db::get_result rec;
  for (const auto& id : ids) {
    if (auto err = fetch(txn, id, rec))
      return err;
    if (rec.st == db::status::ok)
      consider(rec.rec.json);
  }
  return {};
}

/// The page of a single exact index term: counted from the index, only the
/// page read, nothing parsed.
caf::expected<list_page> index_page(db::read_txn& txn,
                                    const std::vector<std::string>& ids,
                                    const list_query& q) {
  list_page page;
  page.total = ids.size();
  db::get_result rec;
  for (auto i = q.offset; i < ids.size() && i - q.offset < q.limit; ++i) {
    if (auto err = fetch(txn, ids[i], rec))
      return err;
    if (rec.st == db::status::ok)
      page.items.emplace_back(std::move(rec.rec.json));
  }
  return page;
}

/// Hands every customer to `consider`; gives up once the client has been
/// answered 504 (scans can be long).
template <class F>
caf::error scan_all(db::read_txn& txn, const list_query& q, F&& consider) {
  uint64_t rows = 0;
  bool abandoned = false;
  auto res = txn.scan(db::table::customers, {},
                      [&](const db::record_view& rec) {
                        if (++rows % 1024 == 0 && expired(q)) {
                          abandoned = true;
                          return false;
                        }
                        consider(rec.json);
                        return true;
                      });
  if (res.failed())
    return read_failed("scanning customers", res.error);
  if (abandoned)
    return expired_error();
  return {};
}

/// The sorted, deduplicated values of an `id=` term.
std::vector<std::string> id_candidates(const filter_term& term) {
  auto ids = term.values;
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

caf::expected<list_page> find_page(db::read_txn& txn, const list_query& q) {
  if (!txn.valid())
    return read_failed("starting a read", txn.error());
  if (q.filters.empty() && q.sort.empty())
    return plain_page(txn, q);
  collector out{q};
  domain::text_prefilter prefilter{q.filters};
  auto consider = [&](std::string_view text) {
    if (!prefilter.may_match(text))
      return; // cannot match: skip the parse
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (!doc.is_discarded() && domain::matches(doc, q.filters))
      out.add(std::move(doc), text);
  };
  caf::error err;
  if (auto ids = id_term(q)) {
    err = fetch_all(txn, id_candidates(*ids), consider);
  } else if (auto term = indexed_term(q)) {
    auto candidates = index_lookup(txn, *term);
    if (!candidates)
      return std::move(candidates.error());
    if (q.filters.size() == 1 && q.sort.empty()
        && domain::index_answers(*term))
      return index_page(txn, *candidates, q);
    err = fetch_all(txn, *candidates, consider);
  } else {
    err = scan_all(txn, q, consider);
  }
  if (err)
    return err;
  return out.finish();
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

store_reader_actor::behavior_type
store_reader_impl(reader_ptr self, std::shared_ptr<db::environment> env) {
  self->state.env = std::move(env);
  return {
    [=](load_atom, const std::string& id) -> caf::result<customer_doc> {
      return load(*self->state.env, id);
    },
    [=](list_atom, const list_query& q) -> caf::result<list_page> {
      if (expired(q))
        return expired_error(); // queued behind slow scans: skip it
      auto txn = self->state.env->read();
      auto page = find_page(txn, q);
      if (!page)
        return std::move(page.error());
      return select(std::move(*page), q);
    },
  };
}

} // namespace

store_reader_actor spawn_store_reader(caf::actor_system& sys,
                                      std::shared_ptr<db::environment> env) {
  return sys.spawn<caf::detached>(store_reader_impl, std::move(env));
}

} // namespace tmf
