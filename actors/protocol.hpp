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
/// stored JSON texts of the page, in order, and where the next page
/// starts (a continuation token; empty when the walk has none).
struct list_page {
  uint64_t total = 0;
  std::vector<std::string> items;
  std::string next_cursor;
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
  /// Outbox texts of the events of this write (domain/events.hpp), stored
  /// in the same transaction when a hub subscription exists.
  std::vector<std::string> events;
};

/// One step of maintaining the secondary indexes outside customer writes
/// (the index builder's work, committed by the store writer in a
/// transaction of its own).
struct index_write {
  enum kind_t : uint8_t {
    row,         ///< store `keys` for customer `key` if it still has
                 ///< `version` (else its own writes keep its entries)
    erase_range, ///< remove index entries and counts from `key` up to
                 ///< `value` (empty: the end), at most `version` of each
    set_meta,    ///< meta `key` = `value`
    erase_meta,  ///< remove meta `key`
  };
  uint8_t kind = row;
  std::string key;
  std::string value;
  uint64_t version = 0;
  std::vector<std::string> keys;
};

/// A PATCH of one customer as http/ received it.
struct patch_request {
  enum kind_t : uint8_t {
    merge_patch, ///< RFC 7386 (application/merge-patch+json, application/json)
    json_patch,  ///< RFC 6902 (application/json-patch+json)
  };
  uint8_t kind = merge_patch;
  std::string body;        ///< the patch document's JSON text
  std::string if_match;    ///< the If-Match header; empty: unconditional
  std::string correlation; ///< X-Correlation-ID; empty: none
};

/// A hub subscription (TMF630 EventSubscription).
struct hub_record {
  std::string id;
  std::string callback;
  std::string query; ///< TMF630 query over the events; empty: all
};

/// An event a subscription could not take: parked after the retry budget
/// or a refusal, kept until replayed or the subscription is deleted.
struct parked_event {
  uint64_t seq = 0;      ///< position in the outbox
  std::string event_id;
  std::string reason;    ///< the last attempt's outcome
  uint32_t attempts = 0;
  std::string event;     ///< the outbox text
};

/// What two nodes tell each other before their link is up. Nodes link only
/// when `epoch`, `digest` (domain::membership_digest) and `proto` agree.
struct cluster_hello {
  std::string member;       ///< the sender's name
  uint64_t incarnation = 0; ///< random per process start
  uint64_t epoch = 0;
  uint64_t digest = 0;
  uint32_t proto = 0;
};

/// A piece of one shard on its way to a node that now owns it (growing
/// the cluster): rows in key order from the node that held them.
struct shard_chunk {
  uint16_t shard = 0;
  std::vector<customer_doc> rows;
  /// The key to ask for next; empty: this was the shard's last chunk.
  std::string next;
  /// With the last chunk: the pending outbox values
  /// (domain::outbox_value) of the shard's customers, in outbox order.
  std::vector<std::string> events;
};

/// The hub subscriptions a node knows of (replicated to every node of a
/// cluster): the live ones and the ids of deleted ones (tombstones, so a
/// node that missed a delete does not bring the subscription back).
struct hub_sync {
  std::vector<hub_record> live;
  std::vector<std::string> deleted;
};

/// How one delivery of an event to a callback ended (from the notifier's
/// HTTP client thread to the notifier; local only).
struct delivery_result {
  uint64_t tag = 0;            ///< the notifier's reference
  int status = 0;              ///< HTTP status; 0: no response (see error)
  std::string error;           ///< why there was no response
  int64_t retry_after_ms = -1; ///< from a Retry-After header, -1: none
  int64_t latency_us = 0;      ///< from submit to the end
};

/// A durable change of the notifier's own tables, committed by the store
/// writer like customer writes.
struct notifier_write {
  enum kind_t : uint8_t {
    subscribe,   ///< store subscription `sub` (`text`: its record)
    unsubscribe, ///< drop `sub`, its cursor and its parked events; keep
                 ///< a tombstone (`text`: when, ms since the epoch)
    advance,     ///< `sub` has handled every event up to `seq`
    park,        ///< park event `seq` for `sub` (`text`: parked record)
    unpark,      ///< drop parked event `seq` of `sub`
    trim,        ///< drop outbox events up to `seq`
    forget,      ///< drop the tombstone of deleted subscription `sub`
  };
  uint8_t kind = subscribe;
  std::string sub;
  uint64_t seq = 0;
  std::string text;
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
  precondition_failed, ///< If-Match names another version.
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
  return f(caf::meta::type_name("tmf.list_page.v2"), x.total, x.items,
           x.next_cursor);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, store_write& x) {
  return f(caf::meta::type_name("tmf.store_write.v1"), x.kind, x.id, x.json,
           x.expected_version, x.index_add, x.index_remove, x.events);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, index_write& x) {
  return f(caf::meta::type_name("tmf.index_write.v1"), x.kind, x.key,
           x.value, x.version, x.keys);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, patch_request& x) {
  return f(caf::meta::type_name("tmf.patch_request.v1"), x.kind, x.body,
           x.if_match, x.correlation);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hub_record& x) {
  return f(caf::meta::type_name("tmf.hub_record.v1"), x.id, x.callback,
           x.query);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parked_event& x) {
  return f(caf::meta::type_name("tmf.parked_event.v1"), x.seq, x.event_id,
           x.reason, x.attempts, x.event);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_hello& x) {
  return f(caf::meta::type_name("tmf.cluster_hello.v1"), x.member,
           x.incarnation, x.epoch, x.digest, x.proto);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, shard_chunk& x) {
  return f(caf::meta::type_name("tmf.shard_chunk.v1"), x.shard, x.rows,
           x.next, x.events);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hub_sync& x) {
  return f(caf::meta::type_name("tmf.hub_sync.v1"), x.live, x.deleted);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery_result& x) {
  return f(caf::meta::type_name("tmf.delivery_result.v1"), x.tag, x.status,
           x.error, x.retry_after_ms, x.latency_us);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, notifier_write& x) {
  return f(caf::meta::type_name("tmf.notifier_write.v1"), x.kind, x.sub,
           x.seq, x.text);
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
  return f(caf::meta::type_name("tmf.list_query.v2"), x.filters, x.sort,
           x.offset, x.limit, x.fields, x.deadline_ns, x.cursor);
}

} // namespace tmf::domain

CAF_ERROR_CODE_ENUM(tmf::errc, "tmf")

CAF_BEGIN_TYPE_ID_BLOCK(tmf, caf::first_custom_type_id)
  CAF_ADD_TYPE_ID(tmf, (tmf::customer_doc))
  CAF_ADD_TYPE_ID(tmf, (tmf::list_page))
  CAF_ADD_TYPE_ID(tmf, (tmf::store_write))
  CAF_ADD_TYPE_ID(tmf, (tmf::patch_request))
  CAF_ADD_TYPE_ID(tmf, (tmf::index_write))
  CAF_ADD_TYPE_ID(tmf, (std::vector<tmf::index_write>))
  CAF_ADD_TYPE_ID(tmf, (std::vector<uint64_t>))
  CAF_ADD_TYPE_ID(tmf, (tmf::domain::list_query))
  CAF_ADD_TYPE_ID(tmf, (tmf::hub_record))
  CAF_ADD_TYPE_ID(tmf, (std::vector<tmf::hub_record>))
  CAF_ADD_TYPE_ID(tmf, (tmf::parked_event))
  CAF_ADD_TYPE_ID(tmf, (std::vector<tmf::parked_event>))
  CAF_ADD_TYPE_ID(tmf, (tmf::delivery_result))
  CAF_ADD_TYPE_ID(tmf, (tmf::cluster_hello))
  CAF_ADD_TYPE_ID(tmf, (tmf::notifier_write))
  CAF_ADD_TYPE_ID(tmf, (std::vector<tmf::notifier_write>))
  CAF_ADD_TYPE_ID(tmf, (tmf::shard_chunk))
  CAF_ADD_TYPE_ID(tmf, (tmf::hub_sync))
  CAF_ADD_TYPE_ID(tmf, (std::vector<tmf::customer_doc>))
  CAF_ADD_TYPE_ID(tmf, (std::vector<uint16_t>))
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
  CAF_ADD_ATOM(tmf, tmf, subscribe_atom, "subscribe")
  CAF_ADD_ATOM(tmf, tmf, unsubscribe_atom, "unsubscrib")
  CAF_ADD_ATOM(tmf, tmf, hub_atom, "hub")
  CAF_ADD_ATOM(tmf, tmf, parked_atom, "parked")
  CAF_ADD_ATOM(tmf, tmf, replay_atom, "replay")
  CAF_ADD_ATOM(tmf, tmf, outbox_atom, "outbox")
  CAF_ADD_ATOM(tmf, tmf, delivered_atom, "delivered")
  CAF_ADD_ATOM(tmf, tmf, retry_atom, "retry")
  CAF_ADD_ATOM(tmf, tmf, start_atom, "start")
  CAF_ADD_ATOM(tmf, tmf, index_atom, "index")
  CAF_ADD_ATOM(tmf, tmf, hello_atom, "hello")
  CAF_ADD_ATOM(tmf, tmf, local_atom, "local")
  CAF_ADD_ATOM(tmf, tmf, probe_atom, "probe")
  CAF_ADD_ATOM(tmf, tmf, export_atom, "export")
  CAF_ADD_ATOM(tmf, tmf, import_atom, "import")
  CAF_ADD_ATOM(tmf, tmf, release_atom, "release")
  CAF_ADD_ATOM(tmf, tmf, held_atom, "held")
  CAF_ADD_ATOM(tmf, tmf, sync_atom, "sync")
CAF_END_TYPE_ID_BLOCK(tmf)

static_assert(caf::has_type_id<tmf::customer_doc>::value, "type ID block");
static_assert(caf::has_type_id<tmf::list_page>::value, "type ID block");
static_assert(caf::has_type_id<tmf::store_write>::value, "type ID block");
static_assert(caf::has_type_id<tmf::patch_request>::value, "type ID block");
static_assert(caf::has_type_id<tmf::hub_record>::value, "type ID block");
static_assert(caf::has_type_id<tmf::parked_event>::value, "type ID block");
static_assert(caf::has_type_id<tmf::notifier_write>::value, "type ID block");
static_assert(caf::has_type_id<tmf::delivery_result>::value,
              "type ID block");
static_assert(caf::has_type_id<tmf::cluster_hello>::value, "type ID block");
static_assert(caf::has_type_id<tmf::shard_chunk>::value, "type ID block");
static_assert(caf::has_type_id<tmf::hub_sync>::value, "type ID block");
static_assert(caf::has_type_id<tmf::domain::list_query>::value, "type ID block");

namespace tmf {

/// What one node asks another (cluster): a node's links forward these to
/// the peer's gateway, which answers them.
/// - the single-customer messages of the router, for customers of shards
///   the answering node owns (errc::unavailable "misrouted" otherwise),
///   answered by the customer actor directly.
/// - `list_atom, local_atom, query` -> the answering node's part of a list.
/// - `export_atom, shard, from` -> a chunk of its rows of `shard` from key
///   `from` (empty: the first), for the shard's new owner.
/// - `held_atom, shards` -> those of `shards` it holds (has taken over
///   completely).
/// - `release_atom, shard` -> how many rows it dropped: the asking node
///   now holds `shard` (errc::invalid if the answering node owns it).
/// - `sync_atom, hub_sync`: the hub subscriptions of the sender, to merge.
using peer_interface = caf::typed_actor<
  caf::replies_to<retrieve_atom, std::string>::with<customer_doc>,
  caf::replies_to<retrieve_atom, std::string,
                  std::vector<std::string>>::with<customer_doc>,
  caf::replies_to<patch_atom, std::string, patch_request>::with<customer_doc>,
  caf::replies_to<erase_atom, std::string, std::string,
                  std::string>::with<bool>,
  caf::replies_to<list_atom, local_atom, list_query>::with<list_page>,
  caf::replies_to<export_atom, uint16_t, std::string>::with<shard_chunk>,
  caf::replies_to<held_atom, std::vector<uint16_t>>::with<
    std::vector<uint16_t>>,
  caf::replies_to<release_atom, uint16_t>::with<uint64_t>,
  caf::reacts_to<sync_atom, hub_sync>>;

/// A node's published gateway: answers the peer interface, and
/// - `hello_atom, hello, dialer_gateway` -> this node's hello, when the
///   membership agrees (errc::invalid otherwise); the dialer's gateway
///   (its published actor, as `caf::actor`) becomes the way to reach it.
using gateway_actor = peer_interface::extend<
  caf::replies_to<hello_atom, cluster_hello, caf::actor>::with<cluster_hello>>;

/// This node's link to one peer (cluster): forwards the peer interface to
/// the peer's gateway, failing every pending request with
/// errc::unavailable as soon as the peer is down (and refusing new ones
/// while it is); keeps reconnecting. `sync_atom, hub_sync` is dropped
/// while down: the link sends the whole hub when it comes up.
/// - `start_atom, own_gateway`: begin (the lower-named member dials).
/// - `hello_atom, hello, peer_gateway`: from this node's gateway, when the
///   peer dialed us and its hello agreed.
/// - `retry_atom`, `probe_atom, reachable`: internal (reconnecting).
using link_actor = peer_interface::extend<
  caf::reacts_to<start_atom, caf::actor>,
  caf::reacts_to<hello_atom, cluster_hello, caf::actor>,
  caf::reacts_to<retry_atom>,
  caf::reacts_to<probe_atom, bool>>;

/// The notifier: keeps the hub subscriptions and delivers the events of
/// the outbox to them (actors/notifier.hpp).
/// - `subscribe_atom, callback, query` -> the new subscription, once stored
///   (errc::invalid: the query does not compile or too many subscriptions).
/// - `hub_atom` -> every subscription; `hub_atom, id` -> one (not_found).
/// - `unsubscribe_atom, id` -> true once deleted (not_found).
/// - `parked_atom, id` -> the subscription's parked events (not_found).
/// - `replay_atom, id` -> how many parked events were sent again.
/// - `start_atom, href_base`: from main once HTTP listens; deliveries
///   begin, with `href_base` + id as the customers' href.
/// - `outbox_atom, seq`: from the writer: events up to `seq` committed.
/// - `delivered_atom, result`: from the notifier's HTTP client thread.
/// - `retry_atom, tag`, `flush_atom`, `sweep_atom`: internal timers (a
///   retry, storing positions, the periodic statistics line).
/// Cluster: every node holds every subscription.
/// - `start_atom, links`: the links to the peers, told of every
///   subscription stored or deleted here.
/// - `sync_atom` -> every subscription and tombstone (for a peer whose
///   link just came up).
/// - `sync_atom, hub_sync`: a peer's subscriptions: the unknown ones are
///   stored (starting after this node's last committed event), the
///   deleted ones deleted.
/// - `probe_atom` -> the backlog: events the furthest-behind subscription
///   has yet to handle (readiness, http/health.cpp).
using notifier_actor = caf::typed_actor<
  caf::replies_to<subscribe_atom, std::string, std::string>::with<hub_record>,
  caf::replies_to<hub_atom>::with<std::vector<hub_record>>,
  caf::replies_to<hub_atom, std::string>::with<hub_record>,
  caf::replies_to<unsubscribe_atom, std::string>::with<bool>,
  caf::replies_to<parked_atom, std::string>::with<std::vector<parked_event>>,
  caf::replies_to<replay_atom, std::string>::with<uint64_t>,
  caf::reacts_to<start_atom, std::string>,
  caf::reacts_to<outbox_atom, uint64_t>,
  caf::reacts_to<delivered_atom, delivery_result>,
  caf::reacts_to<retry_atom, uint64_t>,
  caf::reacts_to<flush_atom>,
  caf::reacts_to<sweep_atom>,
  caf::reacts_to<start_atom, std::vector<link_actor>>,
  caf::replies_to<sync_atom>::with<hub_sync>,
  caf::reacts_to<sync_atom, hub_sync>,
  caf::replies_to<probe_atom>::with<uint64_t>>;

} // namespace tmf

// Handles that travel in messages need type IDs of their own, after the
// atoms their interfaces use.
CAF_BEGIN_TYPE_ID_BLOCK(tmf_handles, caf::id_block::tmf::end)
  CAF_ADD_TYPE_ID(tmf_handles, (tmf::notifier_actor))
  CAF_ADD_TYPE_ID(tmf_handles, (std::vector<tmf::link_actor>))
CAF_END_TYPE_ID_BLOCK(tmf_handles)

static_assert(caf::has_type_id<tmf::notifier_actor>::value, "type ID block");

namespace tmf {

/// Registers every message type of the service with `cfg`.
template <class Config>
void add_message_types(Config& cfg) {
  cfg.template add_message_types<caf::id_block::tmf>();
  cfg.template add_message_types<caf::id_block::tmf_handles>();
}

/// The store writer: the only actor that writes LMDB (detached, one thread).
/// - `write_atom, store_write` -> new version (0 after erase), once the write
///   is durably committed. Writes arriving together share one transaction.
///   Errors: errc::not_found, conflict, storage_full, store_failed, and
///   unavailable when the data folder was removed or replaced (nothing is
///   written until a restart). Only customer actors send it, and they wait
///   for the answer. The write's events go to the outbox in the same
///   transaction while a subscription exists; after the commit the
///   notifier hears of them.
/// - `subscribe_atom, id, record` -> the outbox position the new
///   subscription starts after (it receives every event committed later).
/// - `write_atom, notifier_writes` -> true once committed (the notifier's
///   cursors, parked events, unsubscriptions, outbox trimming).
/// - `start_atom, notifier`: the notifier to tell about committed events.
/// - `index_atom, index_writes` -> one number per write (row: 1 when
///   stored, 0 when the customer changed or went meanwhile; erase_range:
///   the index entries removed, their counts go along), in a transaction
///   of their own after the pending batch.
/// - `flush_atom`: internal (commits the pending batch); sent to itself.
/// Shards moving between nodes (cluster):
/// - `import_atom, chunk` -> rows stored: the chunk's rows with their
///   versions, and the entries and counts this node's indexes give them
///   (idempotent: a row stored already first loses its old entries).
/// - `held_atom, shard, events` -> true once this node holds `shard`
///   (stored mark) and `events` (outbox values) are in its outbox.
/// - `release_atom, shard` -> rows dropped: the shard's rows, their index
///   entries (counts decremented) and outbox events, and its held mark
///   (the mark with the last of one or more transactions).
/// - `held_atom, shards` -> true once `shards` are marked held (the first
///   start of a node in a cluster).
/// - `probe_atom` -> "" when a write could commit now (a write transaction
///   begins and the data file is still in place), else why not
///   (readiness, http/health.cpp). Answered after the writes before it.
using store_writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, store_write>::with<uint64_t>,
  caf::replies_to<index_atom, std::vector<index_write>>::with<
    std::vector<uint64_t>>,
  caf::replies_to<subscribe_atom, std::string, std::string>::with<uint64_t>,
  caf::replies_to<write_atom, std::vector<notifier_write>>::with<bool>,
  caf::reacts_to<start_atom, notifier_actor>,
  caf::reacts_to<flush_atom>,
  caf::replies_to<import_atom, shard_chunk>::with<uint64_t>,
  caf::replies_to<held_atom, uint16_t, std::vector<std::string>>::with<bool>,
  caf::replies_to<release_atom, uint16_t>::with<uint64_t>,
  caf::replies_to<held_atom, std::vector<uint16_t>>::with<bool>,
  caf::replies_to<probe_atom>::with<std::string>>;

/// A store reader: answers from short LMDB read snapshots on its own thread.
/// - `load_atom, id` -> the stored customer; errc::not_found if absent,
///   errc::store_failed (naming the LMDB call) when the read failed.
/// - `list_atom, query` -> one page and the total match count;
///   errc::store_failed when any read of the query failed (never a short
///   page), sec::request_timeout once nobody waits for the answer.
/// - `export_atom, shard, from` -> the next chunk of the shard's rows (at
///   most about 1 MiB), with its pending outbox events when it is the last.
using store_reader_actor = caf::typed_actor<
  caf::replies_to<load_atom, std::string>::with<customer_doc>,
  caf::replies_to<list_atom, list_query>::with<list_page>,
  caf::replies_to<export_atom, uint16_t, std::string>::with<shard_chunk>>;

/// One customer (a "virtual actor" spawned by the router on first use). It
/// serialises every operation on its customer and answers only after the
/// store has committed.
/// - `create_atom, json, index_terms, correlation_id`: json is the
///   validated body without id, index_terms its `domain::index_terms`;
///   replies the stored document (version 1).
/// - `retrieve_atom` -> the current document; errc::not_found if absent.
/// - `retrieve_atom, fields` -> the same reduced to `fields` (TMF630
///   selection, see customer_fields.hpp), still starting with the id.
/// - `patch_atom, patch_request` -> the patched, re-validated, committed
///   document: a merge patch or a JSON Patch (all operations or none);
///   errc::invalid with a message when the patch is malformed or the result
///   breaks the schema, errc::conflict when a JSON Patch does not apply (a
///   failed `test`, a missing path), errc::precondition_failed when the
///   request's If-Match does not name the current version (compared in
///   the actor, so no other change can come between).
/// - `erase_atom, correlation_id, if_match` -> true once the delete is
///   committed; errc::not_found, errc::precondition_failed.
/// Writes carry the request's X-Correlation-ID (empty: none) into the
/// events they emit (domain/events.hpp).
/// - `passivate_atom`: from the router, when the customer has been idle for
///   the idle timeout or memory is to be reclaimed; the customer answers
///   with an idle report unless a write is in flight.
using customer_actor = caf::typed_actor<
  caf::replies_to<create_atom, std::string, std::vector<std::string>,
                  std::string>::with<customer_doc>,
  caf::replies_to<retrieve_atom>::with<customer_doc>,
  caf::replies_to<retrieve_atom, std::vector<std::string>>::with<customer_doc>,
  caf::replies_to<patch_atom, patch_request>::with<customer_doc>,
  caf::replies_to<erase_atom, std::string, std::string>::with<bool>,
  caf::reacts_to<passivate_atom>>;

/// The router: the only place that maps an id to its owner. It holds no
/// business logic and never waits; requests are delegated, so the owner
/// answers the original sender directly.
/// - `create_atom, json, index_terms, correlation_id` -> the new
///   customer's document (see customer_actor).
/// - `retrieve_atom, id[, fields]`, `patch_atom, id, patch_request`,
///   `erase_atom, id, correlation_id, if_match`: as the customer_actor
///   messages, for customer `id`.
/// - `list_atom, query` -> a page: from one of the store readers, or in a
///   cluster merged from every node's part (offset + limit capped).
/// - `list_atom, local_atom, query` -> the page of this node's shards only.
/// - `idle_atom, id, handled`: a customer asked to passivate reports that it
///   has handled `handled` messages; the router passivates it when nothing
///   was forwarded to it since (no message in flight).
/// - `sweep_atom`: internal timer; asks customers idle for the idle timeout
///   to passivate.
/// - `index_atom, paths`: from the index builder: these indexes are built;
///   list queries they answer take the fast lane from now on.
/// - `held_atom, waiting, leaving` (cluster, from the shard mover): the
///   shards this node owns but has not taken over yet (their requests
///   answer 503) and how many shards it still holds for other owners
///   (while either is not empty, its part of a list answers 503).
/// - `probe_atom` -> the number of resident customer actors (readiness:
///   the router and the scheduler answer).
using router_actor = caf::typed_actor<
  caf::replies_to<create_atom, std::string, std::vector<std::string>,
                  std::string>::with<customer_doc>,
  caf::replies_to<retrieve_atom, std::string>::with<customer_doc>,
  caf::replies_to<retrieve_atom, std::string,
                  std::vector<std::string>>::with<customer_doc>,
  caf::replies_to<patch_atom, std::string, patch_request>::with<customer_doc>,
  caf::replies_to<erase_atom, std::string, std::string,
                  std::string>::with<bool>,
  caf::replies_to<list_atom, list_query>::with<list_page>,
  caf::replies_to<list_atom, local_atom, list_query>::with<list_page>,
  caf::reacts_to<idle_atom, std::string, uint64_t>,
  caf::reacts_to<sweep_atom>,
  caf::reacts_to<index_atom, std::vector<std::string>>,
  caf::reacts_to<held_atom, std::vector<uint16_t>, uint64_t>,
  caf::replies_to<probe_atom>::with<uint64_t>>;

/// The index builder (actors/index_builder.hpp): cleans out index entries
/// of dropped or rebuilt indexes and builds new ones in batches through
/// the store writer, logging its progress.
/// - `index_atom`: do the next step (sent to itself, so that an exit
///   message is handled between batches).
using index_builder_actor = caf::typed_actor<caf::reacts_to<index_atom>>;

} // namespace tmf

namespace tmf {

/// The shard mover of a cluster node (actors/shard_mover.hpp): takes over
/// the shards this node owns but does not hold yet, and hands over those
/// it holds for other owners.
/// - `held_atom, shards` -> those of `shards` this node holds.
/// - `release_atom, shard` -> rows dropped: a peer holds `shard` now.
/// - `retry_atom`: internal timer.
using shard_mover_actor = caf::typed_actor<
  caf::replies_to<held_atom, std::vector<uint16_t>>::with<
    std::vector<uint16_t>>,
  caf::replies_to<release_atom, uint16_t>::with<uint64_t>,
  caf::reacts_to<retry_atom>>;

} // namespace tmf
