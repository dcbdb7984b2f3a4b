#include "persistence/lmdb_store.hpp"

#include <cerrno>
#include <cstring>

#include <array>
#include <filesystem>
#include <mutex>
#include <set>
#include <utility>

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <lmdb.h>

// Storage format:
// - `customers`: value = 8-byte big-endian version, then the JSON bytes.
// - `meta`: value = raw bytes. Meta entries have no version: reads report 0,
//   writes report 0 as the version now stored, and an `expected_version`
//   other than 0 on a meta replace/erase gives `conflict`.
//
// Errors: every LMDB call goes through `lmdb_checker::check(origin, rc)`,
// which throws a `store_error` naming the call. The exception never leaves
// this file: every public function catches it and returns a status and a
// message instead.
//
// Lifetime: a `read_txn` must not outlive the `environment` it came from
// (nothing enforces this; the env would be closed under a live txn).

namespace tmf::persistence {

namespace {

// -- constants ----------------------------------------------------------------

constexpr size_t table_count = 9;

constexpr std::array<const char*, table_count> table_names = {
  "customers", "meta",    "index",        "outbox",
  "hubs",      "cursors", "parked",       "index_counts",
  "hub_deleted",
};

/// Tables from `outbox` on came with the event hub: a folder written by an
/// older build lacks them until its first read-write open creates them,
/// and a read-only open reads them as empty.
constexpr size_t first_optional_table = 3;

constexpr size_t version_size = 8;

constexpr const char* schema_key = "schema-version";

constexpr const char* schema_version = "2";

constexpr const char* data_file_name = "data.mdb";

constexpr mode_t folder_mode = 0750;

constexpr mdb_mode_t file_mode = 0640;

// -- errors -------------------------------------------------------------------

/// A failed call inside this file; caught by every public function.
struct store_error {
  status st = status::failed;
  int rc = 0;       ///< The LMDB code or errno, 0 when there is none.
  std::string text; ///< "mdb_get: Input/output error", ...
};

/// The status of a transaction that failed with `rc`: `full` when there is
/// no room (the map, the device, a quota, the file-size limit).
status status_of(int rc) noexcept {
  switch (rc) {
    case MDB_MAP_FULL:
    case ENOSPC:
    case EDQUOT:
    case EFBIG:
      return status::full;
    default:
      return status::failed;
  }
}

/// Throws the store_error of `origin` failing with `rc`.
[[noreturn]] void throw_error(const char* origin, int rc) {
  std::string text = origin;
  text += ": ";
  text += mdb_strerror(rc);
  throw store_error{status_of(rc), rc, std::move(text)};
}

/// Checks the return codes of LMDB calls (and of the few system calls of
/// this file), passing them through the fault hook first when one is set.
class lmdb_checker {
public:
  /// Uses `hook` unless it is empty; `hook` must outlive the checker.
  explicit lmdb_checker(const fault_hook* hook = nullptr) noexcept
    : hook_(hook != nullptr && *hook ? hook : nullptr) {
    // nop
  }

  /// Returns `rc` when it is 0 or `allowed` (e.g. MDB_NOTFOUND); throws a
  /// store_error naming `origin` otherwise.
  int check(const char* origin, int rc, int allowed = 0) const {
    if (__builtin_expect(hook_ != nullptr, 0))
      rc = (*hook_)(origin, rc);
    if (rc != 0 && rc != allowed)
      throw_error(origin, rc);
    return rc;
  }

  /// Like `check` for a system call that returns -1 and sets errno.
  void check_sys(const char* origin, int result) const {
    check(origin, result == 0 ? 0 : errno);
  }

private:
  const fault_hook* hook_;
};

// -- small helpers ------------------------------------------------------------

/// Returns the index of `tbl`, or `table_count` when out of range.
size_t index_of(table tbl) noexcept {
  auto i = static_cast<size_t>(tbl);
  return i < table_count ? i : table_count;
}

bool is_versioned(table tbl) noexcept {
  return tbl == table::customers;
}

void put_version(char* out, uint64_t version) noexcept {
  for (size_t i = 0; i < version_size; ++i)
    out[i] = static_cast<char>((version >> (8 * (version_size - 1 - i)))
                               & 0xFF);
}

uint64_t get_version(const char* in) noexcept {
  uint64_t result = 0;
  for (size_t i = 0; i < version_size; ++i)
    result = (result << 8) | static_cast<unsigned char>(in[i]);
  return result;
}

MDB_val to_val(std::string_view str) noexcept {
  // LMDB does not write through key pointers; the cast only drops const.
  return MDB_val{str.size(), const_cast<char*>(str.data())};
}

std::string_view to_view(const MDB_val& val) noexcept {
  return {static_cast<const char*>(val.mv_data), val.mv_size};
}

/// A stored value split into version and payload.
struct decoded {
  bool ok = false;
  uint64_t version = 0;
  std::string_view json;
};

/// Splits a stored value of `tbl`; `ok` is false for a corrupt customer row
/// (shorter than the version prefix).
decoded decode(table tbl, const MDB_val& val) noexcept {
  auto bytes = to_view(val);
  if (!is_versioned(tbl))
    return {true, 0, bytes};
  if (bytes.size() < version_size)
    return {};
  return {true, get_version(bytes.data()), bytes.substr(version_size)};
}

/// Renders stored bytes for an error message: printable, at most 32 chars.
std::string printable(std::string_view bytes) {
  std::string result;
  for (auto ch : bytes.substr(0, 32))
    result += (ch >= 0x20 && ch < 0x7F) ? ch : '?';
  if (bytes.size() > 32)
    result += "...";
  return result;
}

/// Like `decode`, but a corrupt row is a failed read.
decoded decode_or_throw(table tbl, const MDB_val& key, const MDB_val& val) {
  auto rec = decode(tbl, val);
  if (!rec.ok)
    throw store_error{status::failed, 0,
                      std::string{table_names[index_of(tbl)]} + " row \""
                        + printable(to_view(key))
                        + "\" is shorter than its version"};
  return rec;
}

/// Creates `path` and its missing parents (mkdir -p). Returns 0 or an errno.
int make_folders(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0)
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  // Create every prefix ending before a '/', then the full path.
  for (size_t pos = path.find('/', 1); pos != std::string::npos;
       pos = path.find('/', pos + 1)) {
    auto prefix = path.substr(0, pos);
    if (prefix.empty() || prefix.back() == '/')
      continue;
    if (::mkdir(prefix.c_str(), folder_mode) != 0 && errno != EEXIST)
      return errno;
  }
  if (::mkdir(path.c_str(), folder_mode) != 0) {
    auto err = errno;
    if (err != EEXIST)
      return err;
    if (::stat(path.c_str(), &st) != 0)
      return errno;
    if (!S_ISDIR(st.st_mode))
      return ENOTDIR;
  }
  return 0;
}

/// The data file of the folder `path`, as an absolute path (a later change
/// of the working directory must not change what it names).
std::string data_file_of(const std::string& path) {
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec);
  auto dir = ec ? std::filesystem::path{path} : abs;
  return (dir / data_file_name).string();
}

// -- open-folder registry -----------------------------------------------------

// LMDB must not open the same env twice in one process (closing either one
// drops the other's POSIX locks). We remember the open folders by device and
// inode and refuse a second open.
using folder_id = std::pair<dev_t, ino_t>;

std::mutex registry_mtx;

std::set<folder_id>& registry() {
  static std::set<folder_id> open_folders;
  return open_folders;
}

// -- RAII over LMDB handles ---------------------------------------------------

/// Owns an MDB_txn: aborted on destruction unless committed.
struct txn_guard {
  MDB_txn* txn = nullptr;

  txn_guard() = default;
  txn_guard(const txn_guard&) = delete;
  txn_guard& operator=(const txn_guard&) = delete;

  ~txn_guard() {
    if (txn != nullptr)
      mdb_txn_abort(txn);
  }

  /// Commits; the handle is gone afterwards whatever the outcome (LMDB frees
  /// a transaction on a failed commit as well).
  int commit() noexcept {
    return mdb_txn_commit(std::exchange(txn, nullptr));
  }
};

/// Owns an MDB_cursor.
struct cursor_guard {
  MDB_cursor* cur = nullptr;

  cursor_guard() = default;
  cursor_guard(const cursor_guard&) = delete;
  cursor_guard& operator=(const cursor_guard&) = delete;

  ~cursor_guard() {
    if (cur != nullptr)
      mdb_cursor_close(cur);
  }
};

} // namespace

// -- status -------------------------------------------------------------------

std::string seq_key(uint64_t seq) {
  std::string key(version_size, '\0');
  put_version(key.data(), seq);
  return key;
}

uint64_t key_seq(std::string_view key) noexcept {
  return key.size() == version_size ? get_version(key.data()) : 0;
}

const char* to_string(status st) noexcept {
  switch (st) {
    case status::ok:
      return "ok";
    case status::not_found:
      return "not_found";
    case status::exists:
      return "exists";
    case status::conflict:
      return "conflict";
    case status::full:
      return "full";
    case status::failed:
      return "failed";
    case status::gone:
      return "gone";
  }
  return "unknown";
}

// -- environment --------------------------------------------------------------

struct environment::impl {
  MDB_env* env = nullptr;
  std::array<MDB_dbi, table_count> dbis{};
  std::array<bool, table_count> present{}; ///< false: missing, read as empty
  env_options opts;
  lmdb_checker lmdb;     ///< Uses `opts.fault`.
  std::string data_file; ///< Absolute path of the data file.
  int fd = -1;           ///< The data file as LMDB has it open.
  size_t max_key = 0;    ///< LMDB's largest key size.
  folder_id folder{};
  bool registered = false; ///< `folder` is in the open-folder registry.

  explicit impl(env_options options)
    : opts(std::move(options)),
      lmdb(&opts.fault),
      data_file(data_file_of(opts.path)) {
    // nop
  }

  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  ~impl() {
    if (env != nullptr) {
      for (auto dbi : dbis)
        mdb_dbi_close(env, dbi);
      mdb_env_close(env);
    }
    if (registered) {
      std::lock_guard<std::mutex> guard{registry_mtx};
      registry().erase(folder);
    }
  }
};

struct read_txn::impl {
  MDB_txn* txn = nullptr;
  std::array<MDB_dbi, table_count> dbis{};
  std::array<bool, table_count> present{};
  lmdb_checker lmdb;
  size_t max_key = 0;
  std::string error;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  ~impl() {
    if (txn != nullptr)
      mdb_txn_abort(txn);
  }

  /// Returns the DBI of `tbl`; throws when the txn or the table is unusable.
  MDB_dbi dbi_of(table tbl) const {
    if (txn == nullptr)
      throw store_error{status::failed, 0, error};
    auto index = index_of(tbl);
    if (index == table_count)
      throw store_error{status::failed, 0, "unknown table"};
    return dbis[index];
  }

  /// False for a table this (read-only) env does not have: it is empty.
  bool has(table tbl) const noexcept {
    auto index = index_of(tbl);
    return index < table_count && present[index];
  }
};

environment::environment(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

environment::~environment() {
  // nop (impl closes the DBIs and the env)
}

namespace {

using env_impl = environment::impl;

/// Creates the env handle, sets its limits and opens the folder.
void open_handle(env_impl& self) {
  const auto& opts = self.opts;
  const auto& lmdb = self.lmdb;
  lmdb.check("mdb_env_create", mdb_env_create(&self.env));
  lmdb.check("mdb_env_set_mapsize",
             mdb_env_set_mapsize(self.env, opts.map_size));
  lmdb.check("mdb_env_set_maxreaders",
             mdb_env_set_maxreaders(self.env, opts.max_readers));
  lmdb.check("mdb_env_set_maxdbs", mdb_env_set_maxdbs(self.env, table_count));
  auto flags = static_cast<unsigned>(MDB_NOTLS | MDB_NORDAHEAD);
  if (opts.read_only)
    flags |= MDB_RDONLY;
  lmdb.check("mdb_env_open",
             mdb_env_open(self.env, opts.path.c_str(), flags, file_mode));
  lmdb.check("mdb_env_get_fd", mdb_env_get_fd(self.env, &self.fd));
  self.max_key = static_cast<size_t>(mdb_env_get_maxkeysize(self.env));
}

/// Opens every table; a read-write open creates the missing ones.
void open_tables(env_impl& self, MDB_txn* txn) {
  auto create = self.opts.read_only ? 0u : static_cast<unsigned>(MDB_CREATE);
  for (size_t i = 0; i < table_count; ++i) {
    auto rc = self.lmdb.check("mdb_dbi_open",
                              mdb_dbi_open(txn, table_names[i], create,
                                           &self.dbis[i]),
                              MDB_NOTFOUND);
    self.present[i] = rc != MDB_NOTFOUND;
    if (rc == MDB_NOTFOUND && i < first_optional_table)
      throw store_error{status::failed, 0,
                        std::string{"table "} + table_names[i]
                          + " is missing"};
  }
}

/// Checks the schema version in `meta`; a fresh read-write env gets it.
void check_schema(env_impl& self, MDB_txn* txn) {
  auto meta = self.dbis[static_cast<size_t>(table::meta)];
  auto key = to_val(schema_key);
  MDB_val val;
  auto rc = self.lmdb.check("mdb_get", mdb_get(txn, meta, &key, &val),
                            MDB_NOTFOUND);
  if (rc == 0 && to_view(val) == schema_version)
    return;
  if (rc == 0 || self.opts.read_only) {
    auto found = rc == 0 ? "\"" + printable(to_view(val)) + "\"" : "none";
    throw store_error{status::failed, 0,
                      "schema version " + found + " found, expected \""
                        + schema_version + "\""};
  }
  val = to_val(schema_version);
  self.lmdb.check("mdb_put", mdb_put(txn, meta, &key, &val, 0));
}

/// Opens the env, opens the tables and checks the schema version; throws a
/// store_error on failure.
void open_env(env_impl& self) {
  open_handle(self);
  txn_guard txn;
  auto flags = self.opts.read_only ? static_cast<unsigned>(MDB_RDONLY) : 0u;
  self.lmdb.check("mdb_txn_begin",
                  mdb_txn_begin(self.env, nullptr, flags, &txn.txn));
  open_tables(self, txn.txn);
  check_schema(self, txn.txn);
  // Also for a read-only txn: the commit keeps the table handles.
  self.lmdb.check("mdb_txn_commit", txn.commit());
}

/// The one-line message for a failed open.
std::string open_error(const env_options& opts, const store_error& err) {
  auto result = "data-dir " + opts.path + ": ";
  if (err.rc != 0)
    result += "LMDB: ";
  result += err.text;
  if (err.rc == MDB_MAP_FULL)
    result += " (map size " + std::to_string(opts.map_size)
              + " is too small)";
  return result;
}

/// Checks the options of `open`; returns an error message or nothing.
std::string check_options(const env_options& opts) {
  if (opts.path.empty())
    return "data-dir: path is empty";
  if (opts.map_size == 0)
    return "map size must be > 0";
  if (opts.max_readers == 0)
    return "max readers must be > 0";
  return {};
}

/// A read-write open creates the folder; a read-only one needs the folder
/// and its data file. Returns an error message or nothing.
std::string prepare_folder(const env_options& opts) {
  const auto& path = opts.path;
  if (!opts.read_only) {
    if (auto err = make_folders(path); err != 0)
      return "data-dir " + path + ": cannot create folder: "
             + std::strerror(err);
    return {};
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return "data-dir " + path + ": cannot open read-only: "
           + std::strerror(errno);
  if (!S_ISDIR(st.st_mode))
    return "data-dir " + path + ": cannot open read-only: not a folder";
  if (::stat(data_file_of(path).c_str(), &st) != 0)
    return "data-dir " + path + ": cannot open read-only: " + data_file_name
           + ": " + std::strerror(errno);
  return {};
}

/// Enters the folder of `self` into the open-folder registry. Returns an
/// error message or nothing.
std::string register_folder(env_impl& self) {
  const auto& path = self.opts.path;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return "data-dir " + path + ": " + std::strerror(errno);
  self.folder = folder_id{st.st_dev, st.st_ino};
  std::lock_guard<std::mutex> guard{registry_mtx};
  self.registered = registry().insert(self.folder).second;
  if (!self.registered)
    return "data-dir " + path + ": already open in this process";
  return {};
}

} // namespace

std::unique_ptr<environment> environment::open(const env_options& opts,
                                               std::string& error) {
  error.clear();
  try {
    error = check_options(opts);
    if (error.empty())
      error = prepare_folder(opts);
    if (!error.empty())
      return nullptr;
    auto ptr = std::make_unique<impl>(opts);
    error = register_folder(*ptr);
    if (!error.empty())
      return nullptr;
    open_env(*ptr);
    // The constructor is private, so make_unique cannot reach it.
    return std::unique_ptr<environment>{new environment(std::move(ptr))};
  } catch (const store_error& err) {
    error = open_error(opts, err);
    return nullptr;
  } catch (const std::exception& ex) {
    error = "data-dir " + opts.path + ": " + ex.what();
    return nullptr;
  }
}

namespace {

/// One write transaction of `apply`.
struct batch {
  const env_impl& self;
  MDB_txn* txn;

  MDB_dbi dbi(table tbl) const {
    return self.dbis[index_of(tbl)];
  }

  /// Stores `value` under `key` with `version` (customers) or raw (meta).
  /// Returns 0, or MDB_KEYEXIST for MDB_NOOVERWRITE on an existing key.
  int store(table tbl, MDB_val& key, std::string_view value,
            uint64_t version, unsigned flags) const {
    auto prefix = is_versioned(tbl) ? version_size : 0;
    MDB_val data{prefix + value.size(), nullptr};
    auto rc = self.lmdb.check("mdb_put",
                              mdb_put(txn, dbi(tbl), &key, &data,
                                      flags | MDB_RESERVE),
                              MDB_KEYEXIST);
    if (rc != 0)
      return rc;
    auto out = static_cast<char*>(data.mv_data);
    if (prefix != 0)
      put_version(out, version);
    if (!value.empty())
      std::memcpy(out + prefix, value.data(), value.size());
    return 0;
  }

  /// Removes `key`; returns 0 or MDB_NOTFOUND.
  int erase(table tbl, MDB_val& key) const {
    return self.lmdb.check("mdb_del", mdb_del(txn, dbi(tbl), &key, nullptr),
                           MDB_NOTFOUND);
  }

  write_result insert(const write_op& op, MDB_val& key) const {
    if (store(op.tbl, key, op.value, 1, MDB_NOOVERWRITE) == MDB_KEYEXIST)
      return {status::exists, 0};
    return {status::ok, is_versioned(op.tbl) ? uint64_t{1} : 0};
  }

  write_result put(const write_op& op, MDB_val& key) const {
    if (is_versioned(op.tbl))
      return {status::failed, 0};
    store(op.tbl, key, op.value, 0, 0);
    return {status::ok, 0};
  }

  write_result restore(const write_op& op, MDB_val& key) const {
    if (!is_versioned(op.tbl) || op.expected_version == 0)
      return {status::failed, 0};
    store(op.tbl, key, op.value, op.expected_version, 0);
    return {status::ok, op.expected_version};
  }

  write_result discard(const write_op& op, MDB_val& key) const {
    erase(op.tbl, key);
    return {status::ok, 0};
  }

  /// erase_below, erase_prefix and erase_range: removes every key the op
  /// names, seeking afresh after each delete (no reliance on where LMDB
  /// leaves a cursor after mdb_cursor_del). Reports how many it removed.
  write_result erase_keys(const write_op& op) const {
    const auto& lmdb = self.lmdb;
    if (!self.present[index_of(op.tbl)])
      return {status::ok, 0};
    cursor_guard cur;
    lmdb.check("mdb_cursor_open", mdb_cursor_open(txn, dbi(op.tbl), &cur.cur));
    bool from_first = op.kind == write_op::erase_below
                      || (op.kind == write_op::erase_range && op.key.empty());
    uint64_t removed = 0;
    while (op.limit == 0 || removed < op.limit) {
      MDB_val key = to_val(op.key);
      MDB_val val;
      auto rc = lmdb.check("mdb_cursor_get",
                           mdb_cursor_get(cur.cur, &key, &val,
                                          from_first ? MDB_FIRST
                                                     : MDB_SET_RANGE),
                           MDB_NOTFOUND);
      if (rc == MDB_NOTFOUND || !in_erase_range(op, to_view(key)))
        break;
      lmdb.check("mdb_cursor_del", mdb_cursor_del(cur.cur, 0));
      ++removed;
    }
    return {status::ok, removed};
  }

  static bool in_erase_range(const write_op& op, std::string_view k) {
    switch (op.kind) {
      case write_op::erase_below:
        return k < op.key;
      case write_op::erase_prefix:
        return k.substr(0, op.key.size()) == op.key;
      default:
        return op.value.empty() || k < op.value;
    }
  }

  /// check: the key exists with the expected version.
  write_result check_version(const write_op& op, MDB_val& key) const {
    MDB_val old;
    auto rc = self.lmdb.check("mdb_get", mdb_get(txn, dbi(op.tbl), &key,
                                                 &old),
                              MDB_NOTFOUND);
    if (rc == MDB_NOTFOUND)
      return {status::not_found, 0};
    auto current = decode(op.tbl, old);
    if (!current.ok)
      return {status::failed, 0};
    if (op.expected_version != 0 && op.expected_version != current.version)
      return {status::conflict, 0};
    return {status::ok, current.version};
  }

  /// Adds `delta` to the count under `counter` in index_counts.
  void bump(std::string_view counter, int delta) const {
    auto tbl = table::index_counts;
    if (counter.empty() || counter.size() > self.max_key)
      return;
    auto key = to_val(counter);
    MDB_val old;
    uint64_t count = 0;
    if (self.lmdb.check("mdb_get", mdb_get(txn, dbi(tbl), &key, &old),
                        MDB_NOTFOUND)
          == 0
        && old.mv_size == version_size)
      count = get_version(static_cast<const char*>(old.mv_data));
    count = delta < 0 ? (count > 0 ? count - 1 : 0) : count + 1;
    if (count == 0) {
      erase(tbl, key);
      return;
    }
    char bytes[version_size];
    put_version(bytes, count);
    store(tbl, key, std::string_view{bytes, version_size}, 0, 0);
  }

  /// index_put and index_discard: an entry and its count change together.
  write_result counted(const write_op& op, MDB_val& key) const {
    if (op.kind == write_op::index_put) {
      if (store(op.tbl, key, {}, 0, MDB_NOOVERWRITE) == 0)
        bump(op.value, +1);
    } else if (erase(op.tbl, key) == 0) {
      bump(op.value, -1);
    }
    return {status::ok, 0};
  }

  /// replace and erase: the key must exist with the expected version.
  write_result change(const write_op& op, MDB_val& key) const {
    auto checked = check_version(op, key);
    if (checked.st != status::ok)
      return checked;
    if (op.kind == write_op::erase) {
      erase(op.tbl, key);
      return {status::ok, 0};
    }
    auto next = is_versioned(op.tbl) ? checked.version + 1 : 0;
    store(op.tbl, key, op.value, next, 0);
    return {status::ok, next};
  }

  /// Applies one op; throws a store_error when the txn as a whole fails.
  write_result apply(const write_op& op) const {
    if (index_of(op.tbl) == table_count)
      return {status::failed, 0};
    if (op.kind == write_op::erase_range)
      return erase_keys(op);
    if (op.key.empty() || op.key.size() > self.max_key)
      return {status::failed, 0};
    auto key = to_val(op.key);
    switch (op.kind) {
      case write_op::insert:
        return insert(op, key);
      case write_op::put:
        return put(op, key);
      case write_op::restore:
        return restore(op, key);
      case write_op::discard:
        return discard(op, key);
      case write_op::erase_below:
      case write_op::erase_prefix:
        return erase_keys(op);
      case write_op::check:
        return check_version(op, key);
      case write_op::index_put:
      case write_op::index_discard:
        return counted(op, key);
      case write_op::erase_range:
        return erase_keys(op);
      case write_op::replace:
      case write_op::erase:
        return change(op, key);
    }
    return {status::failed, 0};
  }
};

/// Throws `gone` unless the data file LMDB has open is still the one at
/// `<data-dir>/data.mdb`: a commit into a removed file would be lost.
void check_data_file(const env_impl& self) {
  struct stat open_file;
  self.lmdb.check_sys("fstat", ::fstat(self.fd, &open_file));
  if (open_file.st_nlink == 0)
    throw store_error{status::gone, 0,
                      self.data_file + " was removed under the running "
                                       "service"};
  struct stat named;
  if (::stat(self.data_file.c_str(), &named) != 0) {
    if (errno != ENOENT && errno != ENOTDIR)
      self.lmdb.check("stat", errno);
    throw store_error{status::gone, 0,
                      self.data_file + " no longer exists (its folder was "
                                       "removed or replaced)"};
  }
  if (named.st_dev != open_file.st_dev || named.st_ino != open_file.st_ino)
    throw store_error{status::gone, 0,
                      self.data_file + " was replaced by another file"};
}

/// LMDB reports a short write as EIO ("short write, filesystem full?"):
/// the kernel writes up to the file-size limit or until the device is full
/// and returns a short count. Turns `err` into `full` when the data file
/// has reached the process's file-size limit or the file system has
/// (almost) no free block left.
void explain_short_write(const env_impl& self, store_error& err) {
  // Less free space than one LMDB write of up to 64 pages.
  constexpr uint64_t low_space = 64 * 4096;
  struct stat st;
  struct rlimit lim;
  if (::fstat(self.fd, &st) == 0 && ::getrlimit(RLIMIT_FSIZE, &lim) == 0
      && lim.rlim_cur != RLIM_INFINITY
      && static_cast<uint64_t>(st.st_size) >= lim.rlim_cur) {
    err.st = status::full;
    err.text += " after a short write: the data file reached the file-size "
                "limit";
    return;
  }
  struct statvfs fs;
  if (::fstatvfs(self.fd, &fs) == 0) {
    auto blocks = ::geteuid() == 0 ? fs.f_bfree : fs.f_bavail;
    if (static_cast<uint64_t>(blocks) * fs.f_frsize < low_space) {
      err.st = status::full;
      err.text += " after a short write: no space left on the device";
    }
  }
}

/// Applies `ops` in one write transaction and commits it; throws a
/// store_error when the transaction as a whole fails.
void write_batch(const env_impl& self, const std::vector<write_op>& ops,
                 std::vector<write_result>& results) {
  txn_guard txn;
  self.lmdb.check("mdb_txn_begin",
                  mdb_txn_begin(self.env, nullptr, 0, &txn.txn));
  batch b{self, txn.txn};
  auto primary = status::ok;
  for (const auto& op : ops) {
    if (op.dependent && primary != status::ok) {
      results.push_back(write_result{primary, 0});
      continue;
    }
    results.push_back(b.apply(op));
    if (!op.dependent)
      primary = results.back().st;
  }
  check_data_file(self);
  self.lmdb.check("mdb_txn_commit", txn.commit());
}

/// Fills `results` with `st` for every op.
status fail_all(status st, size_t n, std::vector<write_result>& results,
                std::string& error, std::string msg) {
  results.assign(n, write_result{st, 0});
  error = std::move(msg);
  return st;
}

} // namespace

status environment::apply(const std::vector<write_op>& ops,
                          std::vector<write_result>& results,
                          std::string& error) {
  error.clear();
  results.clear();
  if (ops.empty())
    return status::ok;
  try {
    if (impl_->opts.read_only)
      return fail_all(status::failed, ops.size(), results, error,
                      "the store is open read-only");
    results.reserve(ops.size());
    write_batch(*impl_, ops, results);
    return status::ok;
  } catch (store_error& err) {
    if (err.rc == EIO)
      explain_short_write(*impl_, err);
    return fail_all(err.st, ops.size(), results, error, std::move(err.text));
  } catch (const std::exception& ex) {
    // Only allocation can throw here; the txn_guard has aborted by now.
    try {
      return fail_all(status::failed, ops.size(), results, error, ex.what());
    } catch (...) {
      results.clear();
      return status::failed;
    }
  }
}

read_txn environment::read() {
  auto ptr = std::make_unique<read_txn::impl>();
  read_txn result{std::move(ptr)};
  auto& txn = *result.impl_;
  txn.dbis = impl_->dbis;
  txn.present = impl_->present;
  txn.lmdb = impl_->lmdb;
  txn.max_key = impl_->max_key;
  try {
    txn.lmdb.check("mdb_txn_begin",
                   mdb_txn_begin(impl_->env, nullptr, MDB_RDONLY, &txn.txn));
  } catch (store_error& err) {
    // A real failure leaves the handle unset; a failure reported by the
    // fault hook after the call went through must not leak the reader.
    if (txn.txn != nullptr)
      mdb_txn_abort(std::exchange(txn.txn, nullptr));
    txn.error = std::move(err.text);
  }
  return result;
}

environment::usage_info environment::usage(bool count_free) {
  usage_info result;
  MDB_envinfo info;
  MDB_stat st;
  if (mdb_env_info(impl_->env, &info) != 0
      || mdb_env_stat(impl_->env, &st) != 0)
    return result;
  result.used_bytes = (static_cast<uint64_t>(info.me_last_pgno) + 1)
                      * st.ms_psize;
  result.map_size = info.me_mapsize;
  result.page_size = st.ms_psize;
  if (!count_free)
    return result;
  // The free list (DBI 0) maps a transaction id to the pages it freed:
  // each value is an ID list whose first element is its length (as
  // mdb_stat -f counts them).
  txn_guard txn;
  if (mdb_txn_begin(impl_->env, nullptr, MDB_RDONLY, &txn.txn) != 0)
    return result;
  MDB_cursor* cursor = nullptr;
  if (mdb_cursor_open(txn.txn, 0, &cursor) != 0)
    return result;
  MDB_val key;
  MDB_val data;
  while (mdb_cursor_get(cursor, &key, &data, MDB_NEXT) == 0)
    if (data.mv_size >= sizeof(size_t))
      result.free_pages += *static_cast<const size_t*>(data.mv_data);
  mdb_cursor_close(cursor);
  return result;
}

status environment::probe_write(std::string& error) {
  error.clear();
  if (impl_->opts.read_only) {
    error = "the store is open read-only";
    return status::failed;
  }
  try {
    txn_guard txn;
    impl_->lmdb.check("mdb_txn_begin",
                      mdb_txn_begin(impl_->env, nullptr, 0, &txn.txn));
    check_data_file(*impl_);
    return status::ok;
  } catch (store_error& err) {
    error = std::move(err.text);
    return err.st == status::ok ? status::failed : err.st;
  }
}

// -- read_txn -----------------------------------------------------------------

namespace {

/// Runs `f(out)` on a fresh `Result`; a store_error makes it `failed`.
template <class Result, class F>
Result guarded(F&& f) {
  Result out;
  try {
    f(out);
  } catch (store_error& err) {
    out.st = status::failed;
    out.error = std::move(err.text);
  }
  return out;
}

/// The message of every read on a moved-from read_txn.
const std::string& moved_from() {
  static const std::string text = "read_txn was moved from";
  return text;
}

} // namespace

read_txn::read_txn(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

read_txn::read_txn(read_txn&&) noexcept = default;

read_txn& read_txn::operator=(read_txn&&) noexcept = default;

read_txn::~read_txn() {
  // nop (impl aborts the txn)
}

bool read_txn::valid() const noexcept {
  return impl_ != nullptr && impl_->txn != nullptr;
}

const std::string& read_txn::error() const noexcept {
  return impl_ != nullptr ? impl_->error : moved_from();
}

get_result read_txn::get(table tbl, std::string_view key) {
  return guarded<get_result>([&](get_result& out) {
    if (impl_ == nullptr)
      throw store_error{status::failed, 0, moved_from()};
    auto dbi = impl_->dbi_of(tbl);
    out.st = status::not_found;
    if (key.empty() || key.size() > impl_->max_key || !impl_->has(tbl))
      return; // no table can hold such a key, or the table is missing
    auto k = to_val(key);
    MDB_val val;
    if (impl_->lmdb.check("mdb_get", mdb_get(impl_->txn, dbi, &k, &val),
                          MDB_NOTFOUND)
        == MDB_NOTFOUND)
      return;
    auto rec = decode_or_throw(tbl, k, val);
    out.rec = record{rec.version, std::string{rec.json}};
    out.st = status::ok;
  });
}

count_result read_txn::count(table tbl) {
  return guarded<count_result>([&](count_result& out) {
    if (impl_ == nullptr)
      throw store_error{status::failed, 0, moved_from()};
    auto dbi = impl_->dbi_of(tbl);
    if (!impl_->has(tbl))
      return; // a missing table is empty
    MDB_stat st;
    impl_->lmdb.check("mdb_stat", mdb_stat(impl_->txn, dbi, &st));
    out.entries = st.ms_entries;
  });
}

scan_result read_txn::scan(table tbl, std::string_view from,
                           const std::function<bool(const record_view&)>&
                             visit) {
  return guarded<scan_result>([&](scan_result&) {
    if (impl_ == nullptr)
      throw store_error{status::failed, 0, moved_from()};
    auto dbi = impl_->dbi_of(tbl);
    if (!visit || !impl_->has(tbl))
      return;
    const auto& lmdb = impl_->lmdb;
    cursor_guard cur;
    lmdb.check("mdb_cursor_open", mdb_cursor_open(impl_->txn, dbi, &cur.cur));
    MDB_val key = to_val(from);
    MDB_val val;
    auto op = from.empty() ? MDB_FIRST : MDB_SET_RANGE;
    while (lmdb.check("mdb_cursor_get",
                      mdb_cursor_get(cur.cur, &key, &val, op), MDB_NOTFOUND)
           == 0) {
      op = MDB_NEXT;
      auto rec = decode_or_throw(tbl, key, val);
      if (!visit(record_view{to_view(key), rec.version, rec.json}))
        return;
    }
  });
}

scan_result read_txn::scan_back(table tbl, std::string_view before,
                                const std::function<bool(const record_view&)>&
                                  visit) {
  return guarded<scan_result>([&](scan_result&) {
    if (impl_ == nullptr)
      throw store_error{status::failed, 0, moved_from()};
    auto dbi = impl_->dbi_of(tbl);
    if (!visit || !impl_->has(tbl))
      return;
    const auto& lmdb = impl_->lmdb;
    cursor_guard cur;
    lmdb.check("mdb_cursor_open", mdb_cursor_open(impl_->txn, dbi, &cur.cur));
    MDB_val key = to_val(before);
    MDB_val val;
    int rc;
    if (before.empty()) {
      rc = lmdb.check("mdb_cursor_get",
                      mdb_cursor_get(cur.cur, &key, &val, MDB_LAST),
                      MDB_NOTFOUND);
    } else {
      // The first key >= `before`, then one back; past the end: the last.
      rc = lmdb.check("mdb_cursor_get",
                      mdb_cursor_get(cur.cur, &key, &val, MDB_SET_RANGE),
                      MDB_NOTFOUND);
      rc = lmdb.check("mdb_cursor_get",
                      mdb_cursor_get(cur.cur, &key, &val,
                                     rc == MDB_NOTFOUND ? MDB_LAST
                                                        : MDB_PREV),
                      MDB_NOTFOUND);
    }
    while (rc == 0) {
      auto rec = decode_or_throw(tbl, key, val);
      if (!visit(record_view{to_view(key), rec.version, rec.json}))
        return;
      rc = lmdb.check("mdb_cursor_get",
                      mdb_cursor_get(cur.cur, &key, &val, MDB_PREV),
                      MDB_NOTFOUND);
    }
  });
}

} // namespace tmf::persistence
