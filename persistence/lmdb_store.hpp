#pragma once

// The LMDB store: one environment per process, named tables, group-commit
// write batches and short read transactions. Bytes, keys and versions only:
// no JSON rules, no CAF, and no <lmdb.h> in this header.
//
// Contract (read this before calling anything):
// - `environment::open` creates the data folder if needed, opens the env with
//   MDB_NOTLS and default (fully durable) sync, opens every table, and checks
//   the schema version stored in the `meta` table. With `read_only` it
//   creates nothing and writes nothing (LMDB's lock file aside) and fails
//   when the folder or its data file does not exist.
// - `environment::apply` runs a whole batch in ONE write transaction and
//   commits it durably (fsync) before returning. It must be called from one
//   thread at a time (the store writer actor is its only caller). Each op is
//   checked on its own (insert on an existing key gives `exists`, a version
//   mismatch gives `conflict`, ...) and a failed op writes nothing but does
//   not fail the others. When the transaction as a whole fails, no op is
//   written and every op reports that status: `full` (map full, no space
//   left on the device, quota or file-size limit reached), `gone` (the data
//   file was removed or replaced under the running process: checked before
//   every commit) or `failed` (any other error).
// - `read_txn` is a read-only snapshot, usable from any one thread at a time
//   (MDB_NOTLS), and must be short-lived: never keep one across requests.
//   Every read says found, not found or failed: a failed LMDB call is never
//   reported as "not found", as an empty scan or as a count of 0.
// - Every error message names the LMDB function (or system call) that
//   failed, e.g. "mdb_cursor_get: Input/output error".

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tmf::persistence {

/// Outcome of one store operation. `ok` is zero, like MDB_SUCCESS.
enum class status : uint8_t {
  ok = 0,
  not_found, ///< The key does not exist.
  exists,    ///< Insert of a key that already exists.
  conflict,  ///< The stored version differs from the expected one.
  full,      ///< No room: the LMDB map is full (MDB_MAP_FULL), or the
             ///< device (ENOSPC), a quota (EDQUOT) or the file-size limit
             ///< (EFBIG) stops the file from growing; nothing was written.
  failed,    ///< Any other LMDB or I/O error; nothing was written.
  gone,      ///< The data file was removed or replaced under the running
             ///< process; nothing was written.
};

/// The 8-byte big-endian key of position `seq` (sorts like the number).
std::string seq_key(uint64_t seq);

/// The position of a `seq_key` (0 when `key` is not 8 bytes).
uint64_t key_seq(std::string_view key) noexcept;

/// Returns "ok", "not_found", ... for logs and messages.
const char* to_string(status st) noexcept;

/// The named tables (LMDB DBIs) of one environment.
enum class table : uint8_t {
  customers, ///< key: customer id; value: version + customer JSON.
  meta,      ///< key: setting name; value: raw bytes (schema version, ...).
  customer_index, ///< key: attribute \0 value \0 id; value: empty.
  outbox,  ///< key: seq_key(position); value: the event of a write.
  hubs,    ///< key: subscription id; value: the subscription.
  cursors, ///< key: subscription id; value: seq_key(handled up to).
  parked,  ///< key: subscription id \0 seq_key(position); value: event.
  index_counts, ///< key: a prefix of customer_index keys; value: 8-byte
                ///< big-endian number of index entries under it.
  hub_deleted, ///< key: id of a deleted subscription; value: when (ms).
};

/// A stored value together with its version (1 for a fresh insert, +1 per
/// replace).
struct record {
  uint64_t version = 0;
  std::string json;
};

/// A record seen during a scan; views are valid only inside the callback.
struct record_view {
  std::string_view key;
  uint64_t version = 0;
  std::string_view json;
};

/// A test seam: receives the name of an LMDB function (or system call) and
/// the code it returned, and returns the code the store goes on with.
using fault_hook = std::function<int(std::string_view origin, int rc)>;

/// How to open the environment.
struct env_options {
  std::string path;               ///< Data folder; created when missing.
  uint64_t map_size = 1ull << 30; ///< LMDB map size in bytes (> 0).
  unsigned max_readers = 126;     ///< LMDB reader slots.
  /// Opens with MDB_RDONLY: creates no folder, writes no meta, and fails
  /// when the folder or its data file does not exist; `apply` then fails.
  bool read_only = false;
  /// For tests only: when set, every checked LMDB call (open, begin, get,
  /// cursor, stat, put, del, commit) passes its return code through it, so
  /// a test can make any of them fail. It runs after the call: a commit
  /// it fails has still happened. Unset, it costs one branch per call.
  fault_hook fault = {};
};

/// One write in a batch.
struct write_op {
  enum kind_t : uint8_t {
    insert,  ///< Key must not exist; stored with version 1.
    replace, ///< Key must exist; version becomes stored + 1.
    erase,   ///< Key must exist; removed.
    put,     ///< Stored whether or not the key exists (unversioned tables).
    discard, ///< Removed if it exists.
    erase_below,  ///< Removes every key less than `key`.
    erase_prefix, ///< Removes every key that starts with `key`.
    /// Removes the keys from `key` (inclusive; empty: the first) up to
    /// `value` (exclusive; empty: past the last), at most `limit` of them
    /// (0: all); the result's `version` is how many it removed.
    erase_range,
    /// Writes nothing: `key` must exist in a versioned table with
    /// `expected_version` (else not_found or conflict). Dependent ops that
    /// follow it are written only when it holds.
    check,
    /// An entry of a counted table (customer_index): stores `key` with an
    /// empty value unless it exists; when it was new, adds one to the count
    /// under `value` in index_counts.
    index_put,
    /// Removes the entry `key` if it exists and then takes one from the
    /// count under `value` (the count is removed at zero).
    index_discard,
    /// Stored with version `expected_version` (> 0) whether or not the key
    /// exists: a row moving from another node keeps its version.
    restore,
  };
  kind_t kind = insert;
  table tbl = table::customers;
  std::string key;
  std::string value;             ///< Bytes to store (insert/replace).
  uint64_t expected_version = 0; ///< replace/erase: 0 = do not check;
                                 ///< restore: the version to store.
  /// A dependent op (an index entry of a customer row) is applied only when
  /// the nearest preceding op that is not dependent succeeded; otherwise it
  /// is skipped and reports that op's status.
  bool dependent = false;
  uint64_t limit = 0; ///< erase_range: most keys to remove (0: all)
};

/// The outcome of one write op; `version` is the version now stored
/// (0 after an erase or a failure).
struct write_result {
  status st = status::ok;
  uint64_t version = 0;
};

/// What every read reports besides its value: `ok`, `not_found` (`get`
/// only) or `failed` with `error` naming the LMDB call, e.g.
/// "mdb_get: Input/output error". No read result converts to bool: a caller
/// has to say which of the outcomes it handles.
struct read_outcome {
  status st = status::ok;
  std::string error; ///< Empty unless `st` is `failed`.

  /// True when the read failed (neither found nor not found).
  bool failed() const noexcept {
    return st == status::failed;
  }
};

/// The outcome of `read_txn::get`: `rec` is set when `st` is `ok`.
struct [[nodiscard]] get_result : read_outcome {
  record rec;
};

/// The outcome of `read_txn::count`: `entries` is set when `st` is `ok`.
struct [[nodiscard]] count_result : read_outcome {
  uint64_t entries = 0;
};

/// The outcome of `read_txn::scan`: `ok` when it visited every entry asked
/// for (or the visitor stopped it), `failed` when a cursor call failed or a
/// row was corrupt; entries visited before a failure are not to be trusted
/// as complete.
struct [[nodiscard]] scan_result : read_outcome {};

class read_txn;

/// One LMDB environment (one per process).
class environment {
public:
  /// Opens or creates the store. On failure returns nullptr and sets `error`
  /// to one line naming the cause (folder cannot be created, map size 0,
  /// schema version mismatch, ...).
  static std::unique_ptr<environment> open(const env_options& opts,
                                           std::string& error);

  ~environment();
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;

  /// Applies `ops` in one durable write transaction (group commit); see the
  /// contract at the top of this file. `results` gets one entry per op, in
  /// order. Returns the status of the transaction as a whole (`ok` when it
  /// committed, also if single ops failed their checks; else `full`, `gone`
  /// or `failed`); `error` then names the failed call and its message.
  status apply(const std::vector<write_op>& ops,
               std::vector<write_result>& results, std::string& error);

  /// Starts a read-only snapshot; when LMDB cannot begin one, the snapshot
  /// is invalid and every read of it fails.
  read_txn read();

  /// Bytes used by the data file and the configured map size; with
  /// `count_free`, also the pages on LMDB's free list (reusable without
  /// growing the file; reading them walks the free list in a snapshot).
  struct usage_info {
    uint64_t used_bytes = 0;
    uint64_t map_size = 0;
    uint64_t page_size = 0;
    uint64_t free_pages = 0;
  };
  usage_info usage(bool count_free = false);

  /// Checks that a write could commit now: the store is not read-only, a
  /// write transaction begins (and is aborted at once) and the data file is
  /// still the one open. Returns `ok`, else the status of the failure with
  /// `error` naming it. Call it from the thread that calls `apply`.
  status probe_write(std::string& error);

  /// Implementation detail: the env and table handles.
  struct impl;

private:
  explicit environment(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
  friend class read_txn;
};

/// A read-only snapshot (RAII: aborted on destruction). Must not outlive the
/// environment that created it (not enforced).
class read_txn {
public:
  read_txn(read_txn&&) noexcept;
  read_txn& operator=(read_txn&&) noexcept;
  ~read_txn();

  /// False when the transaction could not begin (`error()` says why); every
  /// read then fails with that message.
  bool valid() const noexcept;

  /// Why the transaction could not begin, or an empty string.
  const std::string& error() const noexcept;

  /// The record under `key`: `ok`, `not_found` (also for a key that no
  /// table can hold: empty or longer than LMDB's key limit), or `failed`
  /// (an LMDB error, or a row too short to hold its version).
  get_result get(table tbl, std::string_view key);

  /// The number of entries in `tbl`, or `failed`.
  count_result count(table tbl);

  /// Visits entries in key order starting at the first key >= `from`
  /// (empty: the first key) until `visit` returns false; see `scan_result`.
  scan_result scan(table tbl, std::string_view from,
                   const std::function<bool(const record_view&)>& visit);

  /// Visits entries in descending key order starting at the greatest key
  /// < `before` (empty: the last key) until `visit` returns false.
  scan_result scan_back(table tbl, std::string_view before,
                        const std::function<bool(const record_view&)>& visit);

  struct impl;

private:
  friend class environment;
  explicit read_txn(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

} // namespace tmf::persistence
