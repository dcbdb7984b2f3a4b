#pragma once

// THE message vocabulary of the service: the type ID block, atoms, message
// structs and the typed interfaces of every actor. Messages carry value types
// only (strings, integers, small structs): never nlohmann::json, pointers or
// RESTinio handles, so that every message can cross nodes later.
//
// Flow: http/ --(router_actor)--> router --(customer_actor)--> customer
//       customer --(store_writer_actor)--> writer (group commit, LMDB)
//       customer/router --(store_reader_actor)--> readers (LMDB snapshots)

#include <cstdint>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include "domain/query.hpp"

namespace tmf {

// The list query types of the domain travel as messages.
using domain::filter_op;
using domain::filter_term;
using domain::list_query;
using domain::sort_key;

/// A customer as stored: `json` is the canonical JSON text of the resource
/// WITHOUT `href` (derived from the public URL and the id by http/), with `id`.
/// `version` starts at 1 and grows by one per committed change.
struct customer_doc {
  std::string id;
  uint64_t version = 0;
  std::string json;
};

/// One page of a list query: `total` matches after filtering, `items` the
/// stored JSON texts of the page, in order.
struct list_page {
  uint64_t total = 0;
  std::vector<std::string> items;
};

/// One durable write for the store writer: a customer row and the changes
/// to its secondary index entries, committed together or not at all.
struct store_write {
  enum kind_t : uint8_t { insert, replace, erase };
  uint8_t kind = insert;
  std::string id;
  std::string json;              ///< insert/replace: the new stored text
  uint64_t expected_version = 0; ///< replace/erase: must match (0: any)
  std::vector<std::string> index_add;    ///< index keys to store
  std::vector<std::string> index_remove; ///< index keys to remove
};

/// Error codes of the service (category "tmf"); http/ maps them to statuses.
enum class errc : uint8_t {
  invalid = 1,   ///< The request is malformed or violates the schema.
  not_found,     ///< No such customer.
  conflict,      ///< The stored version changed underneath (lost race).
  storage_full,  ///< No room (LMDB map, device, quota or file-size limit
                 ///< full); nothing was written.
  store_failed,  ///< LMDB or I/O failure; nothing was written or read.
  unavailable,   ///< The service is shutting down or overloaded, or its
                 ///< data folder was removed or replaced under it.
};

/// Returns the name of `x` ("invalid", "not_found", ...).
std::string to_string(errc x);

/// The message text carried by an error made with `make_error(errc, text)`,
/// or an empty string.
std::string error_text(const caf::error& err);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, customer_doc& x) {
  return f(caf::meta::type_name("tmf.customer_doc.v1"), x.id, x.version,
           x.json);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_page& x) {
  return f(caf::meta::type_name("tmf.list_page.v1"), x.total, x.items);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_write& x) {
  return f(caf::meta::type_name("tmf.store_write.v1"), x.kind, x.id, x.json,
           x.expected_version, x.index_add, x.index_remove);
}

} // namespace tmf

namespace tmf::domain {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, filter_term& x) {
  return f(caf::meta::type_name("tmf.filter_term.v1"), x.path, x.op, x.values);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sort_key& x) {
  return f(caf::meta::type_name("tmf.sort_key.v1"), x.path, x.descending);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, list_query& x) {
  return f(caf::meta::type_name("tmf.list_query.v1"), x.filters, x.sort,
           x.offset, x.limit, x.fields, x.deadline_ns);
}

} // namespace tmf::domain

CAF_ERROR_CODE_ENUM(tmf::errc, "tmf")

CAF_BEGIN_TYPE_ID_BLOCK(tmf, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(tmf, (tmf::customer_doc))
  CAF_ADD_TYPE_ID(tmf, (tmf::list_page))
  CAF_ADD_TYPE_ID(tmf, (tmf::store_write))
  CAF_ADD_TYPE_ID(tmf, (tmf::domain::list_query))
  CAF_ADD_ATOM(tmf, tmf, create_atom, "create")
  CAF_ADD_ATOM(tmf, tmf, retrieve_atom, "retrieve")
  CAF_ADD_ATOM(tmf, tmf, patch_atom, "patch")
  CAF_ADD_ATOM(tmf, tmf, erase_atom, "erase")
  CAF_ADD_ATOM(tmf, tmf, list_atom, "list")
  CAF_ADD_ATOM(tmf, tmf, load_atom, "load")
  CAF_ADD_ATOM(tmf, tmf, write_atom, "write")
  CAF_ADD_ATOM(tmf, tmf, flush_atom, "flush")
  CAF_ADD_ATOM(tmf, tmf, idle_atom, "idle")
  CAF_ADD_ATOM(tmf, tmf, passivate_atom, "passivate")
  CAF_ADD_ATOM(tmf, tmf, sweep_atom, "sweep")
CAF_END_TYPE_ID_BLOCK(tmf)

static_assert(caf::has_type_id<tmf::customer_doc>::value, "type ID block");
static_assert(caf::has_type_id<tmf::list_page>::value, "type ID block");
static_assert(caf::has_type_id<tmf::store_write>::value, "type ID block");
static_assert(caf::has_type_id<tmf::domain::list_query>::value, "type ID block");

namespace tmf {

/// The store writer: the only actor that writes LMDB (detached, one thread).
/// - `write_atom, store_write` -> new version (0 after erase), once the write
///   is durably committed. Writes arriving together share one transaction.
///   Errors: errc::not_found, conflict, storage_full, store_failed, and
///   unavailable when the data folder was removed or replaced (nothing is
///   written until a restart). Only customer actors send it, and they wait
///   for the answer.
/// - `flush_atom`: internal (commits the pending batch); sent to itself.
using store_writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, store_write>::with<uint64_t>,
  caf::reacts_to<flush_atom>>;

/// A store reader: answers from short LMDB read snapshots on its own thread.
/// - `load_atom, id` -> the stored customer; errc::not_found if absent,
///   errc::store_failed (naming the LMDB call) when the read failed.
/// - `list_atom, query` -> one page and the total match count;
///   errc::store_failed when any read of the query failed (never a short
///   page), sec::request_timeout once nobody waits for the answer.
using store_reader_actor = caf::typed_actor<
  caf::replies_to<load_atom, std::string>::with<customer_doc>,
  caf::replies_to<list_atom, list_query>::with<list_page>>;

/// One customer (a "virtual actor" spawned by the router on first use). It
/// serialises every operation on its customer and answers only after the
/// store has committed.
/// - `create_atom, json, index_terms`: json is the validated body without
///   id, index_terms its `query::index_terms`; replies the stored document
///   (version 1).
/// - `retrieve_atom` -> the current document; errc::not_found if absent.
/// - `retrieve_atom, fields` -> the same reduced to `fields` (TMF630
///   selection, see customer_fields.hpp), still starting with the id.
/// - `patch_atom, merge_patch_json` -> the patched, re-validated, committed
///   document; errc::invalid with a message when the result breaks the schema.
/// - `erase_atom` -> true once the delete is committed; errc::not_found.
/// - `passivate_atom`: from the router, when the customer has been idle for
///   the idle timeout or memory is to be reclaimed; the customer answers
///   with an idle report unless a write is in flight.
using customer_actor = caf::typed_actor<
  caf::replies_to<create_atom, std::string, std::vector<std::string>>::with<
    customer_doc>,
  caf::replies_to<retrieve_atom>::with<customer_doc>,
  caf::replies_to<retrieve_atom, std::vector<std::string>>::with<customer_doc>,
  caf::replies_to<patch_atom, std::string>::with<customer_doc>,
  caf::replies_to<erase_atom>::with<bool>,
  caf::reacts_to<passivate_atom>>;

/// The router: the only place that maps an id to its owner. It holds no
/// business logic and never waits; requests are delegated, so the owner
/// answers the original sender directly.
/// - `create_atom, json, index_terms` -> the new customer's document (see
///   customer_actor).
/// - `retrieve_atom, id[, fields]`, `patch_atom, id, json`, `erase_atom, id`:
///   as the customer_actor messages, for customer `id`.
/// - `list_atom, query` -> a page from one of the store readers.
/// - `idle_atom, id, handled`: a customer asked to passivate reports that it
///   has handled `handled` messages; the router passivates it when nothing
///   was forwarded to it since (no message in flight).
/// - `sweep_atom`: internal timer; asks customers idle for the idle timeout
///   to passivate.
using router_actor = caf::typed_actor<
  caf::replies_to<create_atom, std::string, std::vector<std::string>>::with<
    customer_doc>,
  caf::replies_to<retrieve_atom, std::string>::with<customer_doc>,
  caf::replies_to<retrieve_atom, std::string,
                  std::vector<std::string>>::with<customer_doc>,
  caf::replies_to<patch_atom, std::string, std::string>::with<customer_doc>,
  caf::replies_to<erase_atom, std::string>::with<bool>,
  caf::replies_to<list_atom, list_query>::with<list_page>,
  caf::reacts_to<idle_atom, std::string, uint64_t>,
  caf::reacts_to<sweep_atom>>;

} // namespace tmf
