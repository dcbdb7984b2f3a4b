#include "actors/list_run.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <utility>
#include <string_view>
#include <vector>

#include <caf/sec.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_fields.hpp"
#include "domain/customer_index.hpp"
#include "domain/customer_query.hpp"
#include "domain/json_body.hpp"
#include "domain/list_cursor.hpp"
#include "domain/query_plan.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;
using domain::key_range;
using domain::list_plan;
using json = nlohmann::json;

// -- how a run stops early ----------------------------------------------------

/// Past the deadline: nobody waits for the answer.
struct deadline_passed {};

/// The service is shutting down.
struct shutting_down {};

/// The plan reads too much for the fast lane.
struct hand_over {};

/// The query cannot be answered as asked (a client error).
struct refused {
  std::string message;
};

/// A read failed: what was read, and the LMDB call that failed.
struct read_failure {
  std::string what;
  std::string detail;
};

void check_read(const db::read_outcome& res, const char* what) {
  if (res.failed())
    throw read_failure{what, res.error};
}

caf::error read_failed(const std::string& what, const std::string& detail) {
  return caf::make_error(errc::store_failed,
                         "storage failure while " + what + ": " + detail);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

const domain::index_layout& no_indexes() {
  static const domain::index_layout empty;
  return empty;
}

// -- a bounded top-k ----------------------------------------------------------

/// The best `k` entries by the query's sort order seen so far.
class best_k {
public:
  best_k(size_t k, const std::vector<sort_key>& keys) : k_(k), keys_(keys) {
    // nop
  }

  void add(domain::sort_values v) {
    if (k_ == 0)
      return;
    auto before = [&](const domain::sort_values& a,
                      const domain::sort_values& b) {
      return domain::sort_values_before(a, b, keys_);
    };
    if (heap_.size() < k_) {
      heap_.push_back(std::move(v));
      std::push_heap(heap_.begin(), heap_.end(), before);
    } else if (before(v, heap_.front())) {
      std::pop_heap(heap_.begin(), heap_.end(), before);
      heap_.back() = std::move(v);
      std::push_heap(heap_.begin(), heap_.end(), before);
    }
  }

  /// The ids of ranks [offset, offset+limit), best first.
  std::vector<std::string> ids(uint64_t offset, uint64_t limit) {
    std::sort(heap_.begin(), heap_.end(),
              [&](const auto& a, const auto& b) {
                return domain::sort_values_before(a, b, keys_);
              });
    std::vector<std::string> out;
    for (auto i = offset; i < heap_.size() && i - offset < limit; ++i)
      out.push_back(heap_[i].id);
    return out;
  }

private:
  size_t k_;
  const std::vector<sort_key>& keys_;
  std::vector<domain::sort_values> heap_;
};

// -- the run ------------------------------------------------------------------

class list_run {
public:
  list_run(db::read_txn& txn, const list_query& q,
           const domain::compiled_filters& filters, const reader_config& cfg,
           bool fast)
    : txn_(txn), q_(q), filters_(filters), cfg_(cfg), fast_(fast),
      layout_(cfg.layout ? *cfg.layout : no_indexes()),
      prefilter_(q.filters) {
    // nop
  }

  list_outcome run() {
    list_outcome out;
    if (!txn_.valid()) {
      out.error = read_failed("starting a read", txn_.error());
      return out;
    }
    try {
      auto page = answer();
      select_fields(page);
      out.page = std::move(page);
      record();
    } catch (const deadline_passed&) {
      record();
      out.error = caf::make_error(caf::sec::request_timeout);
    } catch (const shutting_down&) {
      record();
      out.error = caf::make_error(errc::unavailable,
                                  std::string{"the service is shutting "
                                              "down; retry"});
    } catch (const hand_over&) {
      out.hand_over = true;
    } catch (const refused& r) {
      out.error = caf::make_error(errc::invalid, r.message);
    } catch (const read_failure& failure) {
      record();
      out.error = read_failed(failure.what, failure.detail);
    }
    return out;
  }

private:
  static constexpr auto customers = db::table::customers;
  static constexpr auto index = db::table::customer_index;

  // -- metrics ----------------------------------------------------------------

  /// How the candidates of the query were found (the `path` label).
  enum class path { plain, id, index, scan };

  /// Counts the query and the customer rows it read under its path (not
  /// when the run hands the query over: the reader that takes it does).
  void record() {
    const auto& m = cfg_.metrics;
    auto [queries, rows] = [&] {
      switch (path_) {
        case path::plain:
          return std::pair{m.list_plain, m.rows_plain};
        case path::id:
          return std::pair{m.list_id, m.rows_id};
        case path::index:
          return std::pair{m.list_index, m.rows_index};
        default:
          return std::pair{m.list_scan, m.rows_scan};
      }
    }();
    count(queries);
    count(rows, static_cast<double>(rows_));
  }

  /// The path of the plan: no filter and no sort walks the customers in
  /// id order; a sort walks an index or reads every customer.
  path path_of(const list_plan& plan) const {
    switch (plan.kind) {
      case list_plan::all:
        if (q_.sort.empty())
          return path::plain;
        return plan.order == list_plan::top_k ? path::scan : path::index;
      case list_plan::ids:
        return path::id;
      case list_plan::index:
        return path::index;
      default:
        return path::scan;
    }
  }

  // -- checks -----------------------------------------------------------------

  /// Called in every loop: stops the run past the deadline or the stop
  /// time. Every 16th call reads the clock (tens of nanoseconds; a loop
  /// step reads LMDB and often parses a customer).
  void tick() {
    if (++ticks_ % 16 != 0)
      return;
    auto now = now_ns();
    auto stop = cfg_.stop_at ? cfg_.stop_at->load(std::memory_order_relaxed)
                             : 0;
    if (stop != 0 && now > stop)
      throw shutting_down{};
    if (q_.deadline_ns != 0 && now > q_.deadline_ns)
      throw deadline_passed{};
  }

  /// On the fast lane, refuses plans that read more than `handover`
  /// customers.
  void expect_reads(uint64_t n) {
    if (fast_ && !cfg_.overflow.empty() && n > cfg_.handover)
      throw hand_over{};
  }

  // -- planning ---------------------------------------------------------------

  bool ready(const domain::index_spec& spec) {
    auto i = ready_.find(spec.path);
    if (i != ready_.end())
      return i->second;
    auto res = txn_.get(db::table::meta, domain::index_marker_key(spec.path));
    check_read(res, "reading an index marker");
    bool ok = false;
    if (res.st == db::status::ok)
      if (auto m = domain::parse_marker(res.rec.json))
        ok = m->ready && m->layout == domain::index_layout_version
             && m->generation == spec.generation;
    ready_.emplace(spec.path, ok);
    return ok;
  }

  bool empty(const key_range& r) {
    bool found = false;
    auto res = txn_.scan(index, r.from, [&](const db::record_view& rec) {
      found = r.to.empty() || rec.key < r.to;
      return false;
    });
    check_read(res, "reading the index");
    return !found;
  }

  void read_cursor() {
    if (q_.cursor.empty())
      return;
    cursor_ = domain::decode_cursor(q_, q_.cursor);
    if (!cursor_)
      throw refused{"cursor: not a continuation token of this query (it "
                    "belongs to other filters or another sort, or was "
                    "changed)"};
  }

  list_page answer() {
    plan_ = domain::plan_list(
      q_, layout_, [this](const auto& spec) { return ready(spec); },
      [this](const key_range& r) { return empty(r); });
    path_ = path_of(plan_);
    read_cursor();
    switch (plan_.kind) {
      case list_plan::all:
        if (plan_.order == list_plan::walk)
          return walk_sorted(count_all(), false);
        if (plan_.order == list_plan::top_k)
          return scan_all();
        return walk_sorted(count_all(), false);
      case list_plan::ids:
        return id_page();
      case list_plan::index:
        return index_page();
      default:
        return scan_all();
    }
  }

  // -- reading ----------------------------------------------------------------

  uint64_t count_all() {
    auto total = txn_.count(customers);
    check_read(total, "counting customers");
    return total.entries;
  }

  /// The stored text of customer `id`, or nothing (an index entry or an
  /// `id=` value without a row).
  std::optional<std::string> fetch(std::string_view id) {
    auto rec = txn_.get(customers, id);
    if (rec.failed())
      throw read_failure{"reading customer " + std::string{id}, rec.error};
    if (rec.st != db::status::ok)
      return std::nullopt;
    ++rows_;
    return std::move(rec.rec.json);
  }

  /// The parsed text, or nothing when it does not parse (a corrupt row
  /// matches nothing).
  std::optional<json> parse(std::string_view text) {
    json doc;
    std::string error;
    if (!domain::parse_json(text, domain::max_stored_depth, doc, error))
      return std::nullopt;
    return doc;
  }

  /// The entries in `[from, to)` counted by index_counts, stopping once
  /// past `cap`.
  uint64_t count_ranges(const std::vector<key_range>& ranges,
                        uint64_t cap = UINT64_MAX) {
    uint64_t total = 0;
    for (const auto& r : ranges) {
      // A term T counts the entries `T \0 id`: in range when T\0 is.
      auto start = r.from;
      if (!start.empty() && start.back() == '\0')
        start.pop_back();
      auto res = txn_.scan(db::table::index_counts, start,
                           [&](const db::record_view& rec) {
                             tick();
                             auto group = std::string{rec.key} + '\0';
                             if (group < r.from)
                               return true;
                             if (!r.to.empty() && group >= r.to)
                               return false;
                             total += db::key_seq(rec.json);
                             return total <= cap;
                           });
      check_read(res, "counting index entries");
      if (total > cap)
        break;
    }
    return total;
  }

  /// Visits the entries of one value group `term` in id order, after
  /// `after` when set.
  bool walk_group(std::string_view term, const std::string& after,
                  const std::function<bool(std::string_view)>& visit) {
    auto group = std::string{term} + '\0';
    bool more = true;
    auto res = txn_.scan(index, after.empty() ? group : after + '\0',
                         [&](const db::record_view& rec) {
                           if (rec.key.substr(0, group.size()) != group)
                             return false;
                           tick();
                           more = visit(rec.key);
                           return more;
                         });
    check_read(res, "reading the index");
    return more;
  }

  /// The greatest index key below `upper` and at or above `from`.
  std::optional<std::string> last_below(const std::string& upper,
                                        const std::string& from) {
    std::optional<std::string> out;
    auto res = txn_.scan_back(index, upper, [&](const db::record_view& rec) {
      if (rec.key >= from)
        out = std::string{rec.key};
      return false;
    });
    check_read(res, "reading the index");
    return out;
  }

  /// Visits the entries of `ranges` in value order, descending by value
  /// when asked, ids ascending within a value; resumes after the key
  /// `after`. Returns false when `visit` stopped it.
  bool walk_ranges(const std::vector<key_range>& ranges, bool descending,
                   const std::string& after,
                   const std::function<bool(std::string_view)>& visit) {
    if (!descending) {
      for (const auto& r : ranges) {
        if (!after.empty() && !r.to.empty() && after >= r.to)
          continue;
        auto start = after.empty() ? r.from : std::max(r.from, after + '\0');
        bool more = true;
        auto res = txn_.scan(index, start, [&](const db::record_view& rec) {
          if (!r.to.empty() && rec.key >= r.to)
            return false;
          tick();
          more = visit(rec.key);
          return more;
        });
        check_read(res, "reading the index");
        if (!more)
          return false;
      }
      return true;
    }
    for (auto r = ranges.rbegin(); r != ranges.rend(); ++r) {
      auto upper = r->to;
      if (!after.empty()) {
        if (after < r->from)
          continue; // walked before the resume point
        if (r->to.empty() || after < r->to) {
          auto term = domain::index_key_term(after);
          if (!walk_group(term, after, visit))
            return false;
          upper = std::string{term} + '\0';
        }
      }
      while (auto last = last_below(upper, r->from)) {
        tick();
        auto term = domain::index_key_term(*last);
        if (!walk_group(term, {}, visit))
          return false;
        upper = std::string{term} + '\0';
      }
    }
    return true;
  }

  /// Visits customer ids in id order (descending when asked) after
  /// `after`.
  void walk_ids(bool descending, const std::string& after,
                const std::function<bool(std::string_view)>& visit) {
    auto each = [&](const db::record_view& rec) {
      tick();
      return visit(rec.key);
    };
    auto res = descending
                 ? txn_.scan_back(customers, after, each)
                 : txn_.scan(customers, after.empty() ? after : after + '\0',
                             each);
    check_read(res, "listing customers");
  }

  // -- pages ------------------------------------------------------------------

  /// Collects a page while a walk goes on: skips `offset` items unless a
  /// cursor set the start, keeps `limit`, notes the cursor after them.
  struct collector {
    uint64_t skip = 0;
    uint64_t limit = 0;
    std::vector<std::string> ids;
    std::optional<domain::cursor_position> next;

    /// Takes the item at `key`; false once the page is full.
    bool take(std::string_view id, char phase, std::string_view key) {
      if (skip > 0) {
        --skip;
        return true;
      }
      if (ids.size() >= limit)
        return false;
      ids.emplace_back(id);
      if (ids.size() == limit)
        next = domain::cursor_position{phase, std::string{key}};
      return ids.size() < limit;
    }
  };

  /// A collector for a walk: a cursor replaces the offset.
  collector start_collector() {
    collector c;
    c.limit = q_.limit;
    c.skip = cursor_ ? 0 : q_.offset;
    return c;
  }

  /// The resume key of the cursor when it is of `phase`.
  std::string resume_key(char phase) const {
    return cursor_ && cursor_->phase == phase ? cursor_->key : std::string{};
  }

  list_page finish(uint64_t total, const collector& c) {
    list_page page;
    page.total = total;
    for (const auto& id : c.ids) {
      tick();
      if (auto text = fetch(id))
        page.items.push_back(std::move(*text));
    }
    if (c.next && c.ids.size() == q_.limit && q_.limit > 0)
      page.next_cursor = domain::encode_cursor(q_, *c.next);
    return page;
  }

  /// True when customer `id` satisfies every filter (read and parsed).
  bool matches(std::string_view id) {
    auto text = fetch(id);
    if (!text || !prefilter_.may_match(*text))
      return false;
    auto doc = parse(*text);
    return doc && filters_.matches(*doc);
  }

  /// The query's order by walking an index (or the id order): `total` is
  /// known; with `verify` each customer is checked against the filters.
  /// Customers without a value for the sort attribute have an `absent`
  /// entry after all values: they come last, in id order, either way.
  list_page walk_sorted(uint64_t total, bool verify) {
    const auto* spec = plan_.sort_spec;
    bool descending = plan_.descending && plan_.order == list_plan::walk;
    auto c = start_collector();
    auto take = [&](std::string_view id, std::string_view key) {
      if (verify && !matches(id))
        return true;
      return c.take(id, 'w', key);
    };
    auto after = resume_key('w');
    if (spec == nullptr) {
      walk_ids(descending, after,
               [&](std::string_view id) { return take(id, id); });
      return finish(total, c);
    }
    auto p = spec->prefix();
    auto absent = p + static_cast<char>(domain::index_tag::absent);
    std::vector<key_range> values{{p, absent, true}};
    std::vector<key_range> missing{{absent, domain::prefix_end(absent), true}};
    auto visit = [&](std::string_view key) {
      return take(domain::index_key_id(key), key);
    };
    bool in_missing = !after.empty() && after >= absent;
    if (!in_missing && !walk_ranges(values, descending, after, visit))
      return finish(total, c);
    walk_ranges(missing, false, in_missing ? after : std::string{}, visit);
    return finish(total, c);
  }

  /// An index decides the only filter: count from index_counts, read the
  /// page from the index in its order.
  list_page decided_page() {
    const auto& f = plan_.filter;
    auto total = count_ranges(f.ranges);
    bool descending = plan_.order == list_plan::walk && plan_.descending;
    auto c = start_collector();
    walk_ranges(f.ranges, descending, resume_key('w'),
                [&](std::string_view key) {
                  return c.take(domain::index_key_id(key), 'w', key);
                });
    return finish(total, c);
  }

  list_page index_page() {
    const auto& f = plan_.filter;
    if (f.decided && plan_.order != list_plan::top_k)
      return decided_page();
    if (f.decided && plan_.can_walk) {
      auto matches = count_ranges(f.ranges);
      auto all = count_all();
      // A walk in sort order reads about (offset+limit) * all / matches
      // customers; reading every match costs `matches`.
      auto wanted = static_cast<long double>(q_.offset + q_.limit);
      if (wanted * all <= static_cast<long double>(matches) * matches) {
        expect_reads(static_cast<uint64_t>(wanted * all / (matches + 1)));
        plan_.order = list_plan::walk;
        return walk_sorted(matches, true);
      }
    }
    expect_reads(count_ranges(f.ranges, cfg_.handover));
    return candidate_page();
  }

  /// Reads every candidate of the filter's index, checks it, and keeps the
  /// page (or the best offset+limit when sorting).
  list_page candidate_page() {
    const auto& f = plan_.filter;
    matched m{*this};
    walk_ranges(f.ranges, false, {}, [&](std::string_view key) {
      auto id = domain::index_key_id(key);
      auto text = fetch(id);
      if (!text)
        return true;
      auto doc = parse(*text);
      if (doc && filters_.matches(*doc) && first_in_ranges(*doc, key))
        m.add(*doc, id);
      return true;
    });
    return m.page();
  }

  /// For an attribute with several values, a customer counts at the first
  /// of its entries in the ranges only.
  bool first_in_ranges(const json& doc, std::string_view key) {
    const auto& f = plan_.filter;
    if (!f.spec->info.multi)
      return true;
    auto id = domain::index_key_id(key);
    for (auto& term : domain::index_layout::terms(*f.spec, doc)) {
      auto k = domain::index_key(term, id);
      if (domain::in_ranges(k, f.ranges))
        return k == key;
    }
    return true;
  }

  /// The matches of a run that reads candidates one by one.
  struct matched {
    list_run& run;
    uint64_t total = 0;
    std::vector<std::string> ids;
    std::optional<best_k> best;

    explicit matched(list_run& r) : run(r) {
      if (r.q_.sort.empty())
        return;
      auto window = r.q_.offset + r.q_.limit;
      if (window > r.cfg_.max_sort_window || window < r.q_.offset)
        throw refused{"sort: offset+limit may be at most "
                      + std::to_string(r.cfg_.max_sort_window)
                      + " (max-sort-window) when the sort attribute has "
                        "no index to walk"};
      best.emplace(window, r.q_.sort);
    }

    void add(const json& doc, std::string_view id) {
      auto pos = total++;
      if (best)
        best->add(domain::extract_sort_values(doc, run.q_.sort));
      else if (pos >= run.q_.offset && pos - run.q_.offset < run.q_.limit)
        ids.emplace_back(id);
    }

    list_page page() {
      collector c;
      c.limit = run.q_.limit;
      c.ids = best ? best->ids(run.q_.offset, run.q_.limit) : std::move(ids);
      return run.finish(total, c);
    }
  };

  /// Reads every customer once (a full scan), in id order.
  list_page scan_all() {
    expect_reads(cfg_.handover + 1);
    matched m{*this};
    auto res = txn_.scan(customers, {}, [&](const db::record_view& rec) {
      tick();
      ++rows_;
      if (!prefilter_.may_match(rec.json))
        return true; // cannot match: skip the parse
      auto doc = parse(rec.json);
      if (doc && filters_.matches(*doc))
        m.add(*doc, rec.key);
      return true;
    });
    check_read(res, "scanning customers");
    return m.page();
  }

  /// `id=` filters: key lookups, then the other filters and the sort.
  list_page id_page() {
    std::vector<std::string> ids;
    for (const auto& t : q_.filters)
      if (t.path == "id" && t.op == filter_op::eq) {
        ids = t.values;
        break;
      }
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    matched m{*this};
    for (const auto& id : ids) {
      tick();
      auto text = fetch(id);
      auto doc = text ? parse(*text) : std::nullopt;
      if (doc && filters_.matches(*doc))
        m.add(*doc, id);
    }
    return m.page();
  }

  /// Reduces every item of `page` to the query's `fields`.
  void select_fields(list_page& page) {
    if (q_.fields.empty())
      return;
    for (auto& item : page.items) {
      tick();
      item = domain::select_fields_text(item, q_.fields);
    }
  }

  db::read_txn& txn_;
  const list_query& q_;
  const domain::compiled_filters& filters_;
  const reader_config& cfg_;
  bool fast_;
  const domain::index_layout& layout_;
  domain::text_prefilter prefilter_;
  list_plan plan_;
  std::optional<domain::cursor_position> cursor_;
  std::map<std::string, bool> ready_;
  uint64_t ticks_ = 0;
  path path_ = path::scan;
  uint64_t rows_ = 0; ///< stored customer rows read
};

} // namespace

list_outcome run_list(db::read_txn& txn, const list_query& q,
                      const domain::compiled_filters& filters,
                      const reader_config& cfg, bool fast) {
  return list_run{txn, q, filters, cfg, fast}.run();
}

} // namespace tmf
