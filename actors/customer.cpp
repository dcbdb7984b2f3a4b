#include "actors/customer.hpp"

#include <algorithm>
#include <optional>

#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/local_actor.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_fields.hpp"
#include "domain/customer_id.hpp"
#include "domain/events.hpp"
#include "domain/customer_index.hpp"
#include "domain/customer_rules.hpp"
#include "domain/etag.hpp"
#include "domain/json_body.hpp"
#include "domain/stored_text.hpp"

namespace tmf {

struct customer_state {
  static constexpr const char* name = "customer";
  std::string id;
  customer_env env;
  bool exists = false;
  uint64_t version = 0;
  std::string text;         ///< stored JSON (no href)
  nlohmann::json doc;       ///< parsed `text`, valid when `parsed`
  bool parsed = false;
  std::string pending_text; ///< the text of the write in flight
  bool writing = false;     ///< a write is in flight: never passivate
  uint64_t handled = 0;     ///< requests handled (for passivation)
  caf::error load_error;    ///< the load failed: every request gets it

  customer_doc current() const {
    return customer_doc{id, version, text};
  }
};

namespace {

using self_ptr = customer_actor::stateful_pointer<customer_state>;

/// The index terms of `doc` in the service's indexes.
std::vector<std::string> index_terms(const customer_state& st,
                                     const nlohmann::json& doc) {
  return st.env.layout ? st.env.layout->terms(doc)
                       : std::vector<std::string>{};
}

/// The index terms of the stored text (parsed when it is not yet).
std::vector<std::string> terms_of_text(const customer_state& st) {
  if (!st.env.layout)
    return {};
  return st.parsed ? st.env.layout->terms(st.doc)
                   : st.env.layout->terms_of_text(st.text);
}

caf::error no_such_customer(const std::string& id) {
  return caf::make_error(errc::not_found, "no customer with id " + id);
}

/// Makes sure `st.doc` holds the parsed stored text; the error when it
/// cannot be parsed (corrupt, or nested deeper than any text this build
/// stores: such a customer can still be read whole and deleted).
std::optional<caf::error> ensure_parsed(customer_state& st) {
  if (st.parsed)
    return std::nullopt;
  std::string error;
  if (!domain::parse_json(st.text, domain::max_stored_depth, st.doc, error))
    return caf::make_error(errc::store_failed,
                           "stored customer " + st.id + " " + error
                             + "; it can be read whole or deleted");
  st.parsed = true;
  return std::nullopt;
}

/// The top-level members a merge patch touches, as they were before it:
/// enough to undo the patch on the document in place, without copying the
/// whole document first.
class undo_log {
public:
  undo_log(const nlohmann::json& doc, const nlohmann::json& patch) {
    for (auto& [key, value] : patch.items()) {
      auto i = doc.find(key);
      if (i == doc.end())
        before_.emplace_back(key, std::nullopt);
      else
        before_.emplace_back(key, *i);
    }
  }

  /// Puts the touched members back as they were.
  void restore(nlohmann::json& doc) {
    for (auto& [key, value] : before_) {
      if (value)
        doc[key] = std::move(*value);
      else
        doc.erase(key);
    }
  }

  /// The touched members whose value in `doc` differs from before.
  std::vector<std::string> changed(const nlohmann::json& doc) const {
    std::vector<std::string> out;
    for (auto& [key, value] : before_) {
      auto i = doc.find(key);
      if (value ? (i == doc.end() || *i != *value) : i != doc.end())
        out.push_back(key);
    }
    return out;
  }

private:
  std::vector<std::pair<std::string, std::optional<nlohmann::json>>> before_;
};

/// Sends `w` to the writer and suspends this actor until it answers; then
/// delivers `on_ok(version)` (which updates the state) or the error to `rp`,
/// after `on_fail()` (which rolls the state back).
template <class T, class OnOk, class OnFail>
void write_then(self_ptr self, store_write w,
                caf::typed_response_promise<T> rp, OnOk on_ok,
                OnFail on_fail) {
  self->state.writing = true;
  // The writer always answers (it is local and owned by us): waiting for
  // its definitive answer keeps memory and LMDB in step, even when the HTTP
  // side has long answered 504.
  self->request(self->state.env.writer, caf::infinite, write_atom_v,
                std::move(w))
    .await(
      [=](uint64_t version) mutable {
        self->state.writing = false;
        rp.deliver(on_ok(version));
      },
      [=](caf::error& err) mutable {
        self->state.writing = false;
        self->state.pending_text.clear();
        on_fail();
        rp.deliver(std::move(err));
      });
}

template <class T, class OnOk>
void write_then(self_ptr self, store_write w,
                caf::typed_response_promise<T> rp, OnOk on_ok) {
  write_then(self, std::move(w), std::move(rp), std::move(on_ok), [] {});
}


/// Adds to `w` the index entries of `after` and the removal of those of
/// `old_terms` it no longer has. Every entry of `after` is written, not
/// only the new ones: an index being built may lack them (its builder
/// skips a customer that changed after it was read), and writing an entry
/// that exists changes nothing.
void diff_index(const customer_state& st,
                const std::vector<std::string>& old_terms,
                const nlohmann::json& after, store_write& w) {
  const auto& id = st.id;
  auto new_terms = index_terms(st, after);
  auto has = [](const std::vector<std::string>& xs, const std::string& x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
  };
  for (auto& t : new_terms)
    w.index_add.emplace_back(domain::index_key(t, id));
  for (auto& t : old_terms)
    if (!has(new_terms, t))
      w.index_remove.emplace_back(domain::index_key(t, id));
}

/// Offers the router to passivate this actor (when it asks, or when the
/// customer does not exist); the router agrees only when it has forwarded
/// no message that this actor has not handled yet.
void report_idle(self_ptr self) {
  auto& st = self->state;
  if (!st.writing)
    self->send(st.env.router, idle_atom_v, st.id, st.handled);
}

/// Counts a request (the router compares counts before passivating) and
/// returns the error to answer it with: the failed load's, or not found
/// when the customer does not exist. Such an actor offers to passivate at
/// once, so that requests for unknown ids leave nothing resident and a
/// later request loads again.
std::optional<caf::error> accept(self_ptr self) {
  auto& st = self->state;
  ++st.handled;
  if (st.exists)
    return std::nullopt;
  report_idle(self);
  if (st.load_error)
    return st.load_error;
  return no_such_customer(st.id);
}

/// The outbox texts of the events `specs` of a write leaving the customer
/// as `text` (its last text for a delete).
std::vector<std::string> events_of(const std::vector<domain::event_spec>& specs,
                                   const std::string& correlation,
                                   const std::string& text) {
  std::vector<std::string> out;
  auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  for (const auto& spec : specs)
    out.push_back(domain::event_text(
      spec, {domain::make_random_id(), domain::rfc3339_utc(now), correlation},
      text));
  return out;
}

// -- handlers -----------------------------------------------------------------

caf::result<customer_doc> create(self_ptr self, const std::string& body,
                                 std::vector<std::string>& terms,
                                 const std::string& correlation) {
  auto& st = self->state;
  ++st.handled;
  if (st.exists)
    return caf::make_error(errc::conflict,
                           "customer " + st.id + " already exists");
  auto rp = self->make_response_promise<customer_doc>();
  st.pending_text = domain::with_id(st.id, body);
  write_then(
    self,
    store_write{store_write::insert, st.id, st.pending_text, 0,
                domain::index_keys(std::move(terms), st.id), {},
                events_of({{domain::event_type::create, {}}}, correlation,
                          st.pending_text)},
    rp,
    [=](uint64_t version) {
      auto& st = self->state;
      st.exists = true;
      st.version = version;
      st.text = std::move(st.pending_text);
      st.parsed = false;
      return st.current();
    },
    [=] { report_idle(self); });
  return rp;
}

caf::result<customer_doc> retrieve(self_ptr self) {
  if (auto err = accept(self))
    return std::move(*err);
  return self->state.current();
}

caf::result<customer_doc>
retrieve_fields(self_ptr self, const std::vector<std::string>& fields) {
  if (auto err = accept(self))
    return std::move(*err);
  auto& st = self->state;
  if (auto err = ensure_parsed(st))
    return std::move(*err);
  return customer_doc{
    st.id, st.version,
    domain::id_first_text(domain::select_fields(st.doc, fields))};
}

/// The error of a request whose If-Match does not name version `version`,
/// or nothing when it does (or has none).
std::optional<caf::error> check_if_match(const customer_state& st,
                                         const std::string& if_match) {
  if (if_match.empty() || domain::if_match(if_match, st.version))
    return std::nullopt;
  return caf::make_error(errc::precondition_failed,
                         "If-Match does not name the current version of "
                         "customer "
                           + st.id + " (ETag " + domain::etag_of(st.version)
                           + ")");
}

/// The top-level members whose values differ between `before` and
/// `after` (both objects).
std::vector<std::string> changed_members(const nlohmann::json& before,
                                         const nlohmann::json& after) {
  std::vector<std::string> out;
  for (auto& [key, value] : before.items()) {
    auto i = after.find(key);
    if (i == after.end() || *i != value)
      out.push_back(key);
  }
  for (auto& [key, value] : after.items())
    if (!before.contains(key))
      out.push_back(key);
  return out;
}

/// The merge patch `patch_text` of customer `id`, parsed, without `id` and
/// `href` (http/ has checked that `href`, if present, names this customer;
/// `id` may only repeat the customer's own).
caf::expected<nlohmann::json> read_patch(const std::string& id,
                                         const std::string& patch_text) {
  nlohmann::json patch;
  std::string error;
  if (!domain::parse_json(patch_text, domain::max_stored_depth, patch, error)
      || !patch.is_object())
    return caf::make_error(errc::invalid,
                           "the patch " + (error.empty()
                                             ? std::string{"is not a JSON "
                                                           "object"}
                                             : error));
  if (auto i = patch.find("id"); i != patch.end()) {
    if (*i != id)
      return caf::make_error(errc::invalid,
                             std::string{"id: cannot be changed"});
    patch.erase(i);
  }
  patch.erase("href");
  return patch;
}

/// Writes `w`, a change of the customer to `after` (valid, different from
/// the current document), and answers with the new document; `restore`
/// puts the parsed document back when the write fails.
template <class Restore>
caf::result<customer_doc> commit_change(self_ptr self, store_write w,
                                        std::vector<std::string> changed,
                                        const std::string& correlation,
                                        Restore restore) {
  auto& st = self->state;
  w.events = events_of(domain::patch_events(std::move(changed)), correlation,
                       w.json);
  auto rp = self->make_response_promise<customer_doc>();
  st.pending_text = w.json;
  write_then(
    self, std::move(w), rp,
    [=](uint64_t version) {
      auto& st = self->state;
      st.version = version;
      st.text = std::move(st.pending_text);
      return st.current();
    },
    std::move(restore));
  return rp;
}

caf::result<customer_doc> merge_patch(self_ptr self,
                                      const patch_request& req) {
  auto& st = self->state;
  auto patch = read_patch(st.id, req.body);
  if (!patch)
    return std::move(patch.error());
  // The patch is applied to the document in place; `undo` puts the
  // touched members back when it is refused or its write fails.
  auto old_terms = index_terms(st, st.doc);
  auto undo = std::make_shared<undo_log>(st.doc, *patch);
  auto refuse = [&](std::string msg) {
    undo->restore(st.doc);
    return caf::make_error(errc::invalid, std::move(msg));
  };
  if (auto msg = domain::apply_merge_patch(st.doc, *patch))
    return refuse(std::move(*msg));
  if (auto msg = domain::check_customer(st.doc))
    return refuse(std::move(*msg));
  auto changed = undo->changed(st.doc);
  if (changed.empty())
    return st.current(); // nothing changed: no write, same version
  store_write w{store_write::replace, st.id, domain::id_first_text(st.doc),
                st.version, {}, {}, {}};
  diff_index(st, old_terms, st.doc, w);
  return commit_change(self, std::move(w), std::move(changed),
                       req.correlation,
                       [=] { undo->restore(self->state.doc); });
}

/// Applies an RFC 6902 JSON Patch to a copy of the document: all
/// operations or none; the copy replaces the document once committed.
caf::result<customer_doc> json_patch(self_ptr self,
                                     const patch_request& req) {
  auto& st = self->state;
  nlohmann::json patch;
  std::string error;
  if (!domain::parse_json(req.body, domain::max_stored_depth, patch, error))
    return caf::make_error(errc::invalid, "the patch " + error);
  auto after = std::make_shared<nlohmann::json>();
  if (auto failure = domain::apply_json_patch(st.doc, patch, *after))
    return caf::make_error(failure->conflict ? errc::conflict : errc::invalid,
                           std::move(failure->message));
  if (auto msg = domain::check_customer(*after))
    return caf::make_error(errc::invalid, std::move(*msg));
  auto changed = changed_members(st.doc, *after);
  if (changed.empty())
    return st.current();
  store_write w{store_write::replace, st.id, domain::id_first_text(*after),
                st.version, {}, {}, {}};
  diff_index(st, index_terms(st, st.doc), *after, w);
  auto before = std::make_shared<nlohmann::json>(std::move(st.doc));
  st.doc = std::move(*after);
  return commit_change(self, std::move(w), std::move(changed),
                       req.correlation,
                       [=] { self->state.doc = std::move(*before); });
}

caf::result<customer_doc> patch(self_ptr self, const patch_request& req) {
  if (auto err = accept(self))
    return std::move(*err);
  auto& st = self->state;
  if (auto err = check_if_match(st, req.if_match))
    return std::move(*err);
  if (auto err = ensure_parsed(st))
    return std::move(*err);
  if (req.kind == patch_request::json_patch)
    return json_patch(self, req);
  return merge_patch(self, req);
}

caf::result<bool> erase(self_ptr self, const std::string& correlation,
                        const std::string& if_match) {
  if (auto err = accept(self))
    return std::move(*err);
  auto& st = self->state;
  if (auto err = check_if_match(st, if_match))
    return std::move(*err);
  // The index terms come from the text without parsing the document.
  auto terms = terms_of_text(st);
  auto rp = self->make_response_promise<bool>();
  write_then(self,
             store_write{store_write::erase, st.id, {}, st.version, {},
                         domain::index_keys(std::move(terms), st.id),
                         events_of({{domain::event_type::remove, {}}},
                                   correlation, st.text)},
             rp, [=](uint64_t) {
               auto& st = self->state;
               st.exists = false;
               st.version = 0;
               st.text.clear();
               st.doc = nullptr;
               st.parsed = false;
               report_idle(self);
               return true;
             });
  return rp;
}

customer_actor::behavior_type
customer_impl(self_ptr self, std::string id, bool fresh, customer_env env) {
  self->state.id = std::move(id);
  self->state.env = std::move(env);
  if (!fresh) {
    self->request(self->state.env.reader, self->state.env.load_timeout,
                  load_atom_v, self->state.id)
      .await(
        [=](customer_doc& d) {
          auto& st = self->state;
          st.exists = true;
          st.version = d.version;
          st.text = std::move(d.json);
        },
        [=](caf::error& err) {
          if (err != errc::not_found)
            self->state.load_error = std::move(err); // requests get it
        });
  }
  return {
    [=](create_atom, const std::string& body, std::vector<std::string>& terms,
        const std::string& correlation) {
      return create(self, body, terms, correlation);
    },
    [=](retrieve_atom) { return retrieve(self); },
    [=](retrieve_atom, const std::vector<std::string>& fields) {
      return retrieve_fields(self, fields);
    },
    [=](patch_atom, const patch_request& req) { return patch(self, req); },
    [=](erase_atom, const std::string& correlation,
        const std::string& if_match) {
      return erase(self, correlation, if_match);
    },
    [=](passivate_atom) { report_idle(self); },
  };
}

} // namespace

customer_actor spawn_customer(caf::local_actor* parent, std::string id,
                              bool fresh, customer_env env) {
  return parent->spawn(customer_impl, std::move(id), fresh, std::move(env));
}

} // namespace tmf
