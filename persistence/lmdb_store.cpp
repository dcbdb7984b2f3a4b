#include "persistence/lmdb_store.hpp"

#include <cerrno>
#include <cstring>

#include <array>
#include <mutex>
#include <set>
#include <utility>

#include <sys/stat.h>
#include <sys/types.h>

#include <lmdb.h>

// Storage format:
// - `customers`: value = 8-byte big-endian version, then the JSON bytes.
// - `meta`: value = raw bytes. Meta entries have no version: reads report 0,
//   writes report 0 as the version now stored, and an `expected_version`
//   other than 0 on a meta replace/erase gives `conflict`.
//
// Lifetime: a `read_txn` must not outlive the `environment` it came from
// (nothing enforces this; the env would be closed under a live txn).

namespace tmf::persistence {

namespace {

// -- constants ----------------------------------------------------------------

constexpr size_t table_count = 7;

constexpr std::array<const char*, table_count> table_names = {
  "customers", "meta", "index", "outbox", "hubs", "cursors", "parked",
};

constexpr size_t version_size = 8;

constexpr const char* schema_key = "schema-version";

constexpr const char* schema_version = "2";

constexpr mode_t folder_mode = 0750;

constexpr mdb_mode_t file_mode = 0640;

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

std::string lmdb_error(const std::string& path, int rc) {
  std::string result = "data-dir ";
  result += path;
  result += ": LMDB: ";
  result += mdb_strerror(rc);
  return result;
}

/// Like `lmdb_error`, but explains MDB_MAP_FULL during open: a fresh env
/// needs five pages before its first commit succeeds.
std::string open_error(const env_options& opts, int rc) {
  auto result = lmdb_error(opts.path, rc);
  if (rc == MDB_MAP_FULL) {
    result += " (map size ";
    result += std::to_string(opts.map_size);
    result += " is too small)";
  }
  return result;
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

/// Owns an MDB_env until released.
struct env_guard {
  MDB_env* env = nullptr;

  env_guard() = default;
  env_guard(const env_guard&) = delete;
  env_guard& operator=(const env_guard&) = delete;

  ~env_guard() {
    if (env != nullptr)
      mdb_env_close(env);
  }

  MDB_env* release() noexcept {
    return std::exchange(env, nullptr);
  }
};

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
  }
  return "unknown";
}

// -- environment --------------------------------------------------------------

struct environment::impl {
  MDB_env* env = nullptr;
  std::array<MDB_dbi, table_count> dbis{};
  folder_id folder{};
  bool registered = false; ///< `folder` is in the open-folder registry.

  impl() = default;
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
  std::string error;

  impl() = default;
  impl(const impl&) = delete;
  impl& operator=(const impl&) = delete;

  ~impl() {
    if (txn != nullptr)
      mdb_txn_abort(txn);
  }

  /// Returns the DBI of `tbl` or nothing when unusable.
  std::optional<MDB_dbi> dbi_of(table tbl) const noexcept {
    auto index = index_of(tbl);
    if (txn == nullptr || index == table_count)
      return std::nullopt;
    return dbis[index];
  }
};

environment::environment(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

environment::~environment() {
  // nop (impl closes the DBIs and the env)
}

namespace {

/// Opens the env, opens the tables and checks the schema version. Fills
/// `out.env` and `out.dbis` on success; returns an error message otherwise.
std::string open_env(const env_options& opts, environment::impl& out) {
  const auto& path = opts.path;
  std::array<MDB_dbi, table_count> dbis{};
  env_guard env;
  if (auto rc = mdb_env_create(&env.env); rc != 0)
    return open_error(opts, rc);
  if (auto rc = mdb_env_set_mapsize(env.env, opts.map_size); rc != 0)
    return open_error(opts, rc);
  if (auto rc = mdb_env_set_maxreaders(env.env, opts.max_readers); rc != 0)
    return open_error(opts, rc);
  if (auto rc = mdb_env_set_maxdbs(env.env, table_count); rc != 0)
    return open_error(opts, rc);
  auto flags = static_cast<unsigned>(MDB_NOTLS | MDB_NORDAHEAD);
  if (auto rc = mdb_env_open(env.env, path.c_str(), flags, file_mode);
      rc != 0)
    return open_error(opts, rc);
  txn_guard txn;
  if (auto rc = mdb_txn_begin(env.env, nullptr, 0, &txn.txn); rc != 0)
    return open_error(opts, rc);
  for (size_t i = 0; i < table_count; ++i)
    if (auto rc = mdb_dbi_open(txn.txn, table_names[i], MDB_CREATE, &dbis[i]);
        rc != 0)
      return open_error(opts, rc);
  auto meta = dbis[static_cast<size_t>(table::meta)];
  auto key = to_val(schema_key);
  MDB_val val;
  switch (auto rc = mdb_get(txn.txn, meta, &key, &val)) {
    case 0:
      if (to_view(val) != schema_version)
        return "data-dir " + path + ": schema version \""
               + printable(to_view(val)) + "\" found, expected \""
               + schema_version + "\"";
      break;
    case MDB_NOTFOUND:
      val = to_val(schema_version);
      if (auto rc2 = mdb_put(txn.txn, meta, &key, &val, 0); rc2 != 0)
        return open_error(opts, rc2);
      break;
    default:
      return open_error(opts, rc);
  }
  if (auto rc = txn.commit(); rc != 0)
    return open_error(opts, rc);
  out.dbis = dbis;
  out.env = env.release();
  return {};
}

} // namespace

std::unique_ptr<environment> environment::open(const env_options& opts,
                                               std::string& error) {
  try {
    error.clear();
    if (opts.path.empty()) {
      error = "data-dir: path is empty";
      return nullptr;
    }
    if (opts.map_size == 0) {
      error = "map size must be > 0";
      return nullptr;
    }
    if (opts.max_readers == 0) {
      error = "max readers must be > 0";
      return nullptr;
    }
    if (auto err = make_folders(opts.path); err != 0) {
      error = "data-dir " + opts.path
              + ": cannot create folder: " + std::strerror(err);
      return nullptr;
    }
    struct stat st;
    if (::stat(opts.path.c_str(), &st) != 0) {
      error = "data-dir " + opts.path + ": " + std::strerror(errno);
      return nullptr;
    }
    auto ptr = std::make_unique<impl>();
    ptr->folder = folder_id{st.st_dev, st.st_ino};
    {
      std::lock_guard<std::mutex> guard{registry_mtx};
      ptr->registered = registry().insert(ptr->folder).second;
    }
    if (!ptr->registered) {
      error = "data-dir " + opts.path + ": already open in this process";
      return nullptr;
    }
    error = open_env(opts, *ptr);
    if (!error.empty())
      return nullptr;
    // The constructor is private, so make_unique cannot reach it.
    return std::unique_ptr<environment>{new environment(std::move(ptr))};
  } catch (const std::exception& ex) {
    error = "data-dir " + opts.path + ": " + ex.what();
    return nullptr;
  }
}

namespace {

/// Outcome of one op inside the write txn: `rc` != 0 fails the whole txn.
struct op_outcome {
  int rc = 0;
  write_result res;
};

/// Stores `value` under `key` with `version` (customers) or raw (meta).
int store(MDB_txn* txn, MDB_dbi dbi, table tbl, MDB_val& key,
          std::string_view value, uint64_t version, unsigned flags) {
  auto prefix = is_versioned(tbl) ? version_size : 0;
  MDB_val data{prefix + value.size(), nullptr};
  if (auto rc = mdb_put(txn, dbi, &key, &data, flags | MDB_RESERVE); rc != 0)
    return rc;
  auto out = static_cast<char*>(data.mv_data);
  if (prefix != 0)
    put_version(out, version);
  if (!value.empty())
    std::memcpy(out + prefix, value.data(), value.size());
  return 0;
}

/// Deletes the keys `op` names: below `op.key`, or starting with it.
int erase_range(MDB_txn* txn, MDB_dbi dbi, const write_op& op) {
  cursor_guard cur;
  if (auto rc = mdb_cursor_open(txn, dbi, &cur.cur); rc != 0)
    return rc;
  bool below = op.kind == write_op::erase_below;
  for (;;) {
    // Seek afresh after each delete: no reliance on where LMDB leaves the
    // cursor after mdb_cursor_del.
    MDB_val key = to_val(op.key);
    MDB_val val;
    auto rc = mdb_cursor_get(cur.cur, &key, &val,
                             below ? MDB_FIRST : MDB_SET_RANGE);
    if (rc == MDB_NOTFOUND)
      return 0;
    if (rc != 0)
      return rc;
    auto k = to_view(key);
    if (below ? k >= op.key : k.substr(0, op.key.size()) != op.key)
      return 0;
    if (auto del = mdb_cursor_del(cur.cur, 0); del != 0)
      return del;
  }
}

op_outcome apply_op(MDB_txn* txn, const std::array<MDB_dbi, table_count>& dbis,
                    size_t max_key, const write_op& op) {
  auto failed = op_outcome{0, {status::failed, 0}};
  auto index = index_of(op.tbl);
  if (index == table_count || op.key.empty() || op.key.size() > max_key)
    return failed;
  auto dbi = dbis[index];
  auto key = to_val(op.key);
  auto versioned = is_versioned(op.tbl);
  if (op.kind == write_op::insert) {
    auto rc = store(txn, dbi, op.tbl, key, op.value, 1, MDB_NOOVERWRITE);
    if (rc == MDB_KEYEXIST)
      return {0, {status::exists, 0}};
    if (rc != 0)
      return {rc, {}};
    return {0, {status::ok, versioned ? uint64_t{1} : 0}};
  }
  if (op.kind == write_op::put) {
    if (versioned)
      return failed;
    if (auto rc = store(txn, dbi, op.tbl, key, op.value, 0, 0); rc != 0)
      return {rc, {}};
    return {0, {status::ok, 0}};
  }
  if (op.kind == write_op::discard) {
    auto rc = mdb_del(txn, dbi, &key, nullptr);
    if (rc != 0 && rc != MDB_NOTFOUND)
      return {rc, {}};
    return {0, {status::ok, 0}};
  }
  if (op.kind == write_op::erase_below || op.kind == write_op::erase_prefix)
    return {erase_range(txn, dbi, op), {status::ok, 0}};
  if (op.kind != write_op::replace && op.kind != write_op::erase)
    return failed;
  MDB_val old;
  auto rc = mdb_get(txn, dbi, &key, &old);
  if (rc == MDB_NOTFOUND)
    return {0, {status::not_found, 0}};
  if (rc != 0)
    return {rc, {}};
  auto current = decode(op.tbl, old);
  if (!current.ok)
    return failed;
  if (op.expected_version != 0 && op.expected_version != current.version)
    return {0, {status::conflict, 0}};
  if (op.kind == write_op::erase) {
    if (auto rc2 = mdb_del(txn, dbi, &key, nullptr); rc2 != 0)
      return {rc2, {}};
    return {0, {status::ok, 0}};
  }
  auto next = versioned ? current.version + 1 : 0;
  if (auto rc2 = store(txn, dbi, op.tbl, key, op.value, next, 0); rc2 != 0)
    return {rc2, {}};
  return {0, {status::ok, next}};
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
    auto to_status = [](int rc) {
      return rc == MDB_MAP_FULL ? status::full : status::failed;
    };
    results.reserve(ops.size());
    auto max_key = static_cast<size_t>(mdb_env_get_maxkeysize(impl_->env));
    txn_guard txn;
    if (auto rc = mdb_txn_begin(impl_->env, nullptr, 0, &txn.txn); rc != 0)
      return fail_all(to_status(rc), ops.size(), results, error,
                      mdb_strerror(rc));
    auto primary = status::ok;
    for (const auto& op : ops) {
      if (op.dependent && primary != status::ok) {
        results.push_back(write_result{primary, 0});
        continue;
      }
      auto out = apply_op(txn.txn, impl_->dbis, max_key, op);
      if (!op.dependent)
        primary = out.res.st;
      if (out.rc != 0)
        return fail_all(to_status(out.rc), ops.size(), results, error,
                        mdb_strerror(out.rc));
      results.push_back(out.res);
    }
    if (auto rc = txn.commit(); rc != 0)
      return fail_all(to_status(rc), ops.size(), results, error,
                      mdb_strerror(rc));
    return status::ok;
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
  auto& self = *result.impl_;
  self.dbis = impl_->dbis;
  auto rc = mdb_txn_begin(impl_->env, nullptr, MDB_RDONLY, &self.txn);
  if (rc != 0) {
    self.txn = nullptr;
    self.error = mdb_strerror(rc);
  }
  return result;
}

environment::usage_info environment::usage() {
  usage_info result;
  MDB_envinfo info;
  MDB_stat st;
  if (mdb_env_info(impl_->env, &info) != 0
      || mdb_env_stat(impl_->env, &st) != 0)
    return result;
  result.used_bytes = (static_cast<uint64_t>(info.me_last_pgno) + 1)
                      * st.ms_psize;
  result.map_size = info.me_mapsize;
  return result;
}

// -- read_txn -----------------------------------------------------------------

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
  static const std::string moved_from = "read_txn was moved from";
  return impl_ != nullptr ? impl_->error : moved_from;
}

std::optional<record> read_txn::get(table tbl, std::string_view key) {
  if (impl_ == nullptr || key.empty())
    return std::nullopt;
  auto dbi = impl_->dbi_of(tbl);
  if (!dbi)
    return std::nullopt;
  auto k = to_val(key);
  MDB_val val;
  if (mdb_get(impl_->txn, *dbi, &k, &val) != 0)
    return std::nullopt;
  auto rec = decode(tbl, val);
  if (!rec.ok)
    return std::nullopt;
  return record{rec.version, std::string{rec.json}};
}

uint64_t read_txn::count(table tbl) {
  if (impl_ == nullptr)
    return 0;
  auto dbi = impl_->dbi_of(tbl);
  if (!dbi)
    return 0;
  MDB_stat st;
  if (mdb_stat(impl_->txn, *dbi, &st) != 0)
    return 0;
  return st.ms_entries;
}

void read_txn::scan(table tbl, std::string_view from,
                    const std::function<bool(const record_view&)>& visit) {
  if (impl_ == nullptr || !visit)
    return;
  auto dbi = impl_->dbi_of(tbl);
  if (!dbi)
    return;
  cursor_guard cur;
  if (auto rc = mdb_cursor_open(impl_->txn, *dbi, &cur.cur); rc != 0) {
    impl_->error = mdb_strerror(rc);
    return;
  }
  MDB_val key = to_val(from);
  MDB_val val;
  auto op = from.empty() ? MDB_FIRST : MDB_SET_RANGE;
  for (;;) {
    auto rc = mdb_cursor_get(cur.cur, &key, &val, op);
    if (rc != 0) {
      // A failed scan has no return channel; keep the reason for error().
      if (rc != MDB_NOTFOUND)
        impl_->error = mdb_strerror(rc);
      return;
    }
    op = MDB_NEXT;
    auto rec = decode(tbl, val);
    if (!rec.ok)
      continue; // Skip a corrupt row rather than hand out garbage.
    if (!visit(record_view{to_view(key), rec.version, rec.json}))
      return;
  }
}

} // namespace tmf::persistence
