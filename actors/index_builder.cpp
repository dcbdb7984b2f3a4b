#include "actors/index_builder.hpp"

#include <algorithm>
#include <chrono>
#include <charconv>
#include <map>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "domain/customer_index.hpp"
#include "domain/customer_rules.hpp"
#include "domain/json_body.hpp"
#include "persistence/lmdb_store.hpp"

namespace tmf {

namespace {

namespace db = persistence;

/// Most index entries (and counts) one transaction erases.
constexpr uint64_t erase_batch = 20000;

/// The markers and the last generation stored in `meta`.
struct stored_markers {
  std::map<std::string, domain::index_marker> markers;
  uint64_t generation = 0;
};

bool read_markers(db::environment& env, stored_markers& out,
                  std::string& error) {
  auto txn = env.read();
  auto gen = txn.get(db::table::meta, domain::index_generation_key);
  if (gen.failed()) {
    error = gen.error;
    return false;
  }
  if (gen.st == db::status::ok) {
    const auto& text = gen.rec.json;
    std::from_chars(text.data(), text.data() + text.size(), out.generation);
  }
  auto prefix = std::string{domain::index_marker_prefix};
  auto res = txn.scan(db::table::meta, prefix, [&](const db::record_view& r) {
    if (r.key.substr(0, prefix.size()) != prefix)
      return false;
    if (auto m = domain::parse_marker(r.json))
      out.markers.emplace(std::string{r.key.substr(prefix.size())}, *m);
    return true;
  });
  if (res.failed()) {
    error = res.error;
    return false;
  }
  return true;
}

db::write_op meta_put(std::string key, std::string value) {
  return db::write_op{db::write_op::put, db::table::meta, std::move(key),
                      std::move(value), 0};
}

} // namespace

bool prepare_indexes(db::environment& env,
                     const std::vector<std::string>& paths, index_setup& out,
                     std::string& error) {
  stored_markers stored;
  if (!read_markers(env, stored, error))
    return false;
  // Nothing is written before this returns: an index of an empty store is
  // complete as it is.
  auto rows = env.read().count(db::table::customers);
  if (rows.failed()) {
    error = rows.error;
    return false;
  }
  bool empty = rows.entries == 0;
  auto gen = stored.generation;
  std::vector<domain::index_spec> specs;
  std::vector<db::write_op> ops;
  for (const auto& path : paths) {
    domain::index_spec spec{path, 0, domain::customer_attribute(path)};
    auto m = stored.markers.find(path);
    if (m != stored.markers.end()
        && m->second.layout == domain::index_layout_version) {
      spec.generation = m->second.generation;
      (m->second.ready ? out.ready : out.to_build).push_back(path);
    } else {
      spec.generation = ++gen;
      (empty ? out.ready : out.to_build).push_back(path);
      ops.push_back(meta_put(domain::index_marker_key(path),
                             domain::render_marker(
                               {empty, domain::index_layout_version,
                                spec.generation})));
    }
    specs.push_back(std::move(spec));
  }
  for (const auto& [path, marker] : stored.markers)
    if (std::find(paths.begin(), paths.end(), path) == paths.end())
      ops.push_back(db::write_op{db::write_op::discard, db::table::meta,
                                 domain::index_marker_key(path), {}, 0});
  if (gen != stored.generation)
    ops.push_back(meta_put(std::string{domain::index_generation_key},
                           std::to_string(gen)));
  std::vector<db::write_result> results;
  if (env.apply(ops, results, error) != db::status::ok)
    return false;
  out.layout = std::make_shared<const domain::index_layout>(std::move(specs));
  return true;
}

namespace {

struct builder_state {
  static constexpr const char* name = "index_builder";
  builder_config cfg;
  /// The key ranges outside every live index, still to erase.
  std::vector<std::pair<std::string, std::string>> stale;
  uint64_t erased = 0;
  size_t building = 0;   ///< position in cfg.setup.to_build
  std::string after;     ///< the last customer id indexed
  uint64_t done = 0;     ///< customers of the current index read
  uint64_t total = 0;    ///< customers when its build began
  int reported = 0;      ///< progress logged, in tenths
  std::chrono::steady_clock::time_point began;
};

using builder_ptr = index_builder_actor::stateful_pointer<builder_state>;

/// The ranges of index keys outside the live prefixes.
std::vector<std::pair<std::string, std::string>>
stale_ranges(const domain::index_layout& layout) {
  std::vector<std::string> prefixes;
  for (const auto& spec : layout.specs())
    prefixes.push_back(spec.prefix());
  std::sort(prefixes.begin(), prefixes.end());
  std::vector<std::pair<std::string, std::string>> out;
  std::string from;
  for (const auto& p : prefixes) {
    out.emplace_back(from, p);
    from = domain::prefix_end(p);
  }
  out.emplace_back(from, std::string{});
  return out;
}

void next_step(builder_ptr self) {
  self->send(self, index_atom_v);
}

/// Sends `writes` to the writer and waits; `then` gets the results.
template <class F>
void write(builder_ptr self, std::vector<index_write> writes, F then) {
  self->request(self->state.cfg.writer, caf::infinite, index_atom_v,
                std::move(writes))
    .await([=](std::vector<uint64_t>& results) { then(results); },
           [=](caf::error& err) {
             // The writer has logged why; indexes not built yet stay
             // unused (queries scan) until the next start.
             auto code = err.category() == caf::atom("tmf")
                           ? to_string(static_cast<errc>(err.code()))
                           : std::string{"error"};
             log::error("index builder: stopped, the store refused a write ("
                        + code + ")");
             self->quit();
           });
}

/// Erases one batch of the first stale range.
void clean(builder_ptr self) {
  auto& st = self->state;
  auto range = st.stale.front();
  index_write w{index_write::erase_range, range.first, range.second,
                erase_batch, {}};
  write(self, {w}, [=](std::vector<uint64_t>& results) {
    auto& st = self->state;
    st.erased += results.front();
    if (results.front() == 0)
      st.stale.erase(st.stale.begin());
    if (st.stale.empty() && st.erased > 0)
      log::info("index builder: removed " + std::to_string(st.erased)
                + " entries of dropped or rebuilt indexes");
    next_step(self);
  });
}

const domain::index_spec& current_spec(const builder_state& st) {
  return *st.cfg.setup.layout->find(st.cfg.setup.to_build[st.building]);
}

/// Reads the next batch of customers and their entries in the index
/// being built.
std::vector<index_write> read_batch(builder_state& st) {
  std::vector<index_write> rows;
  const auto& spec = current_spec(st);
  auto txn = st.cfg.env->read();
  if (st.done == 0 && st.after.empty()) {
    auto n = txn.count(db::table::customers);
    st.total = n.failed() ? 0 : n.entries;
  }
  auto from = st.after.empty() ? st.after : st.after + '\0';
  auto res = txn.scan(db::table::customers, from,
                      [&](const db::record_view& rec) {
                        nlohmann::json doc;
                        std::string error;
                        index_write row{index_write::row,
                                        std::string{rec.key}, {}, rec.version,
                                        {}};
                        if (domain::parse_json(rec.json,
                                               domain::max_stored_depth, doc,
                                               error))
                          row.keys = domain::index_keys(
                            domain::index_layout::terms(spec, doc), rec.key);
                        rows.push_back(std::move(row));
                        return rows.size() < st.cfg.batch;
                      });
  if (res.failed())
    log::error("index builder: reading customers failed: " + res.error);
  return rows;
}

void report(builder_state& st) {
  if (st.total == 0)
    return;
  auto tenths = static_cast<int>(std::min<uint64_t>(st.done * 10 / st.total,
                                                    10));
  if (tenths <= st.reported || tenths == 10)
    return;
  st.reported = tenths;
  log::info("index builder: " + current_spec(st).path + ": "
            + std::to_string(st.done) + " of about "
            + std::to_string(st.total) + " customers ("
            + std::to_string(tenths * 10) + "%)");
}

/// Marks the current index ready and tells the router.
void finish_index(builder_ptr self) {
  auto& st = self->state;
  const auto& spec = current_spec(st);
  auto marker = domain::render_marker({true, domain::index_layout_version,
                                       spec.generation});
  index_write w{index_write::set_meta, domain::index_marker_key(spec.path),
                marker, 0, {}};
  write(self, {w}, [=](std::vector<uint64_t>&) {
    auto& st = self->state;
    auto path = st.cfg.setup.to_build[st.building];
    auto secs = std::chrono::duration_cast<std::chrono::milliseconds>(
                  std::chrono::steady_clock::now() - st.began)
                  .count()
                / 1000.0;
    log::info("index builder: " + path + " is ready: "
              + std::to_string(st.done) + " customers in "
              + std::to_string(secs) + " s");
    st.cfg.setup.ready.push_back(path);
    self->send(st.cfg.router, index_atom_v, st.cfg.setup.ready);
    ++st.building;
    st.after.clear();
    st.done = 0;
    st.reported = 0;
    st.began = std::chrono::steady_clock::now();
    next_step(self);
  });
}

/// Indexes one batch of customers of the current index.
void build(builder_ptr self) {
  auto& st = self->state;
  auto rows = read_batch(st);
  if (rows.empty())
    return finish_index(self);
  if (st.done == 0)
    log::info("index builder: building " + current_spec(st).path + " over "
              + std::to_string(st.total) + " customers");
  st.after = rows.back().key;
  st.done += rows.size();
  write(self, std::move(rows), [=](std::vector<uint64_t>&) {
    report(self->state);
    next_step(self);
  });
}

/// The stale ranges that hold entries (or counts) at all.
std::vector<std::pair<std::string, std::string>>
occupied(db::environment& env,
         std::vector<std::pair<std::string, std::string>> ranges) {
  auto txn = env.read();
  auto holds = [&](const std::pair<std::string, std::string>& r) {
    bool found = false;
    for (auto tbl : {db::table::customer_index, db::table::index_counts}) {
      auto res = txn.scan(tbl, r.first, [&](const db::record_view& rec) {
        found = found || r.second.empty() || rec.key < r.second;
        return false;
      });
      found = found || res.failed(); // erase what cannot be read
    }
    return found;
  };
  ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                              [&](const auto& r) { return !holds(r); }),
               ranges.end());
  return ranges;
}

index_builder_actor::behavior_type builder_impl(builder_ptr self,
                                                builder_config cfg) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.stale = occupied(*st.cfg.env, stale_ranges(*st.cfg.setup.layout));
  st.began = std::chrono::steady_clock::now();
  self->send(st.cfg.router, index_atom_v, st.cfg.setup.ready);
  next_step(self);
  return {
    [=](index_atom) {
      auto& st = self->state;
      if (!st.stale.empty())
        return clean(self);
      if (st.building < st.cfg.setup.to_build.size())
        return build(self);
      self->quit();
    },
  };
}

} // namespace

index_builder_actor spawn_index_builder(caf::actor_system& sys,
                                        builder_config cfg) {
  return sys.spawn<caf::detached>(builder_impl, std::move(cfg));
}

} // namespace tmf
