#include "actors/customer.hpp"

#include <algorithm>
#include <optional>

#include <caf/typed_event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/local_actor.hpp>
#include <nlohmann/json.hpp>

#include "domain/customer_fields.hpp"
#include "domain/customer_index.hpp"
#include "domain/customer_rules.hpp"
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

caf::error no_such_customer(const std::string& id) {
  return caf::make_error(errc::not_found, "no customer with id " + id);
}

/// Makes sure `st.doc` holds the parsed stored text.
bool ensure_parsed(customer_state& st) {
  if (!st.parsed) {
    st.doc = nlohmann::json::parse(st.text, nullptr, false);
    if (st.doc.is_discarded())
      return false;
    st.parsed = true;
  }
  return true;
}

caf::error corrupt(const std::string& id) {
  return caf::make_error(errc::store_failed,
                         "stored customer " + id + " is not valid JSON");
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

  /// True when `doc` differs from before in a touched member.
  bool changed(const nlohmann::json& doc) const {
    for (auto& [key, value] : before_) {
      auto i = doc.find(key);
      if (value ? (i == doc.end() || *i != *value) : i != doc.end())
        return true;
    }
    return false;
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


/// Adds to `w` the index entries that differ between `old_terms` and the
/// terms of `after`.
void diff_index(const std::vector<std::string>& old_terms,
                const nlohmann::json& after, const std::string& id,
                store_write& w) {
  auto new_terms = domain::index_terms(after);
  auto has = [](const std::vector<std::string>& xs, const std::string& x) {
    return std::find(xs.begin(), xs.end(), x) != xs.end();
  };
  for (auto& t : new_terms)
    if (!has(old_terms, t))
      w.index_add.emplace_back(domain::index_key(t, id));
  for (auto& t : old_terms)
    if (!has(new_terms, t))
      w.index_remove.emplace_back(domain::index_key(t, id));
}

/// Offers the router to passivate this actor (when it asks); the router
/// agrees only when it has forwarded no message that this actor has not
/// handled yet.
void report_idle(self_ptr self) {
  auto& st = self->state;
  if (!st.writing)
    self->send(st.env.router, idle_atom_v, st.id, st.handled);
}

/// Counts a request (the router compares counts before passivating) and
/// returns the error to answer it with: the failed load's (the actor then
/// offers to passivate, so that a later request loads again), or not found
/// when the customer does not exist.
std::optional<caf::error> accept(self_ptr self) {
  auto& st = self->state;
  ++st.handled;
  if (st.load_error) {
    report_idle(self);
    return st.load_error;
  }
  if (!st.exists)
    return no_such_customer(st.id);
  return std::nullopt;
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
            self->state.load_error = std::move(err);
        });
  }
  return {
    [=](create_atom, std::string& body,
        std::vector<std::string>& terms) -> caf::result<customer_doc> {
      auto& st = self->state;
      ++st.handled;
      if (st.exists)
        return caf::make_error(errc::conflict, "customer " + st.id
                                                 + " already exists");
      auto rp = self->make_response_promise<customer_doc>();
      st.pending_text = domain::with_id(st.id, body);
      write_then(self,
                 store_write{store_write::insert, st.id, st.pending_text, 0,
                             domain::index_keys(std::move(terms), st.id), {}},
                 rp, [=](uint64_t version) {
                   auto& st = self->state;
                   st.exists = true;
                   st.version = version;
                   st.text = std::move(st.pending_text);
                   st.parsed = false;
                   return st.current();
                 });
      return rp;
    },
    [=](retrieve_atom) -> caf::result<customer_doc> {
      auto& st = self->state;
      if (auto err = accept(self))
        return std::move(*err);
      return st.current();
    },
    [=](retrieve_atom, const std::vector<std::string>& fields)
      -> caf::result<customer_doc> {
      auto& st = self->state;
      if (auto err = accept(self))
        return std::move(*err);
      if (!ensure_parsed(st))
        return corrupt(st.id);
      return customer_doc{st.id, st.version,
                          domain::id_first_text(
                            domain::select_fields(st.doc, fields))};
    },
    [=](patch_atom, const std::string& patch_text)
      -> caf::result<customer_doc> {
      auto& st = self->state;
      if (auto err = accept(self))
        return std::move(*err);
      auto patch = nlohmann::json::parse(patch_text, nullptr, false);
      if (patch.is_discarded())
        return caf::make_error(errc::invalid,
                               std::string{"the patch is not valid JSON"});
      if (!ensure_parsed(st))
        return corrupt(st.id);
      // The patch is applied to the document in place; `undo` puts the
      // touched members back when it is refused or its write fails.
      auto old_terms = domain::index_terms(st.doc);
      auto undo = std::make_shared<undo_log>(st.doc, patch);
      auto refuse = [&](std::string msg) {
        undo->restore(st.doc);
        return caf::make_error(errc::invalid, std::move(msg));
      };
      if (auto msg = domain::apply_merge_patch(st.doc, patch))
        return refuse(std::move(*msg));
      auto id_it = st.doc.find("id");
      if (id_it == st.doc.end() || *id_it != st.id)
        return refuse("id: cannot be changed");
      if (auto msg = domain::check_customer(st.doc))
        return refuse(std::move(*msg));
      if (!undo->changed(st.doc))
        return st.current(); // nothing changed: no write, same version
      // Stored texts always start with the id (http/ reads it from there).
      store_write w{store_write::replace, st.id, domain::id_first_text(st.doc),
                    st.version, {}, {}};
      diff_index(old_terms, st.doc, st.id, w);
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
        [=] { undo->restore(self->state.doc); });
      return rp;
    },
    [=](erase_atom) -> caf::result<bool> {
      auto& st = self->state;
      if (auto err = accept(self))
        return std::move(*err);
      if (!ensure_parsed(st))
        return corrupt(st.id);
      auto rp = self->make_response_promise<bool>();
      write_then(self,
                 store_write{store_write::erase, st.id, {}, st.version, {},
                             domain::index_keys(domain::index_terms(st.doc), st.id)},
                 rp, [=](uint64_t) {
                   auto& st = self->state;
                   st.exists = false;
                   st.version = 0;
                   st.text.clear();
                   st.doc = nullptr;
                   st.parsed = false;
                   return true;
                 });
      return rp;
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
