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

/// The ids whose index entries match `term` (any of its values), sorted.
std::vector<std::string> index_lookup(db::read_txn& txn,
                                      const filter_term& term) {
  std::vector<std::string> ids;
  for (const auto& value : term.values) {
    auto prefix = domain::index_prefix(term.path, value);
    txn.scan(db::table::customer_index, prefix,
             [&](const db::record_view& rec) {
               auto id = domain::index_key_id(rec.key, prefix);
               if (id.empty())
                 return false;
               ids.emplace_back(id);
               return true;
             });
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

caf::expected<list_page> find_page(db::read_txn& txn, const list_query& q) {
  if (!txn.valid())
    return caf::make_error(errc::store_failed, "storage failure: "
                                                 + txn.error());
  auto tbl = db::table::customers;
  if (q.filters.empty() && q.sort.empty()) {
    // Plain listing: count from the B-tree, copy only the page.
    list_page page;
    page.total = txn.count(tbl);
    uint64_t pos = 0;
    txn.scan(tbl, {}, [&](const db::record_view& rec) {
      if (pos++ < q.offset)
        return true;
      if (page.items.size() >= q.limit)
        return false;
      page.items.emplace_back(rec.json);
      return true;
    });
    return page;
  }
  collector out{q};
  domain::text_prefilter prefilter{q.filters};
  auto consider = [&](std::string_view text) {
    if (!prefilter.may_match(text))
      return; // cannot match: skip the parse
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (!doc.is_discarded() && domain::matches(doc, q.filters))
      out.add(std::move(doc), text);
  };
  auto fetch = [&](const std::vector<std::string>& candidates) {
    for (const auto& id : candidates)
      if (auto rec = txn.get(tbl, id))
        consider(rec->json);
  };
  if (auto ids = id_term(q)) {
    auto candidates = ids->values;
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()),
                     candidates.end());
    fetch(candidates);
  } else if (auto term = indexed_term(q)) {
    auto candidates = index_lookup(txn, *term);
    if (q.filters.size() == 1 && q.sort.empty()
        && domain::index_answers(*term)) {
      // The index is exact for this term: count from it and read the page
      // only, without parsing anything.
      list_page page;
      page.total = candidates.size();
      for (auto i = q.offset; i < candidates.size() && i - q.offset < q.limit;
           ++i)
        if (auto rec = txn.get(tbl, candidates[i]))
          page.items.emplace_back(std::move(rec->json));
      return page;
    }
    fetch(candidates);
  } else {
    // Scans can be long: give up once the client has been answered 504.
    uint64_t rows = 0;
    bool abandoned = false;
    txn.scan(tbl, {}, [&](const db::record_view& rec) {
      if (++rows % 1024 == 0 && expired(q)) {
        abandoned = true;
        return false;
      }
      consider(rec.json);
      return true;
    });
    if (abandoned)
      return expired_error();
  }
  return out.finish();
}

store_reader_actor::behavior_type
store_reader_impl(reader_ptr self, std::shared_ptr<db::environment> env) {
  self->state.env = std::move(env);
  return {
    [=](load_atom, const std::string& id) -> caf::result<customer_doc> {
      auto txn = self->state.env->read();
      if (!txn.valid())
        return caf::make_error(errc::store_failed,
                               "storage failure: " + txn.error());
      auto rec = txn.get(db::table::customers, id);
      if (!rec)
        return caf::make_error(errc::not_found,
                               "no customer with id " + id);
      return customer_doc{id, rec->version, std::move(rec->json)};
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
