#include "actors/config.hpp"

#include <algorithm>
#include <cctype>
#include <tuple>
#include <limits>

#include <caf/atom.hpp>
#include <caf/config_option_adder.hpp>
#include <caf/make_config_option.hpp>
#include <caf/timespan.hpp>

#include "actors/log.hpp"
#include "domain/customer_index.hpp"
#include "domain/hub.hpp"

namespace tmf {

namespace {

// CAF keeps the metadata of an option type (check, store, get, parse and
// the type's name) in a function-local static of the inline template
// `caf::detail::option_meta_state_instance<T>()`. libcaf_core and this
// program each define that static for the types both use, and the dynamic
// linker binds libcaf_core's references to the program's copy. When two
// compilers built the two sides (Debian's gcc for libcaf_core, clang for the
// sanitizer build) they initialise it differently: gcc fills the function
// pointers at link time and constructs only the name on the first call;
// clang constructs everything on the first call. Whoever calls first sets
// the shared guard, so when libcaf_core's base configuration declared its
// `std::vector<std::string>` options first, the program's copy kept null
// function pointers, and the first check of such an option jumped to
// address 0 (`middleman.app-identifiers` below, then `cluster.members`).
// Making this program's own copies first, before main() and so before any
// configuration exists, initialises them completely whichever compiler built
// either side.
template <class... Ts>
bool init_option_metadata() {
  (caf::detail::option_meta_state_instance<Ts>(), ...);
  return true;
}

[[maybe_unused]] const bool option_metadata_ready
  = init_option_metadata<bool, std::string, std::vector<std::string>,
                         caf::timespan>();

} // namespace

config::config() {
  opt_group{custom_options_, "tmf"}
    .add(address, "address", "listen address (IPv4 or IPv6 literal)")
    .add(port, "port", "listen port, 0 picks a free port")
    .add(public_url, "public-url",
         "scheme://host[:port] used to build href (empty: Host header)")
    .add(base_path, "base-path", "API base path")
    .add(data_dir, "data-dir", "LMDB data folder (created when missing)")
    .add(map_size, "map-size", "LMDB map size, e.g. 1GiB")
    .add(io_threads, "io-threads", "HTTP I/O threads")
    .add(readers, "readers", "store reader threads for list queries (customer loads have their "
         "own)")
    .add(max_batch, "max-batch", "writes per group commit at most")
    .add(max_resident, "max-resident",
         "customer actors kept in memory before the least recently used "
         "are passivated")
    .add(max_body_size, "max-body-size", "largest request body, e.g. 1MiB")
    .add(default_limit, "default-limit", "page size when limit is absent")
    .add(max_limit, "max-limit", "largest accepted limit")
    .add(max_json_depth, "max-json-depth",
         "deepest nesting of arrays and objects in a request body (1..256)")
    .add(max_url_size, "max-url-size",
         "longest request target (path and query), e.g. 8KiB; longer: 414")
    .add(max_header_size, "max-header-size",
         "longest header field name or value, e.g. 8KiB; longer: 431")
    .add(max_header_count, "max-header-count",
         "most header fields of a request; more: 431")
    .add(max_connections, "max-connections",
         "parallel HTTP connections; more wait in the listen backlog")
    .add(max_buffered_bytes, "max-buffered-bytes",
         "bytes of partly received requests over all connections, e.g. "
         "64MiB; past it a connection is answered 503")
    .add(max_filters, "max-filters", "filter terms of a list query")
    .add(max_filter_values, "max-filter-values",
         "values of all filter terms of a list query together")
    .add(max_sort_keys, "max-sort-keys", "sort keys of a list query")
    .add(max_fields, "max-fields", "names in fields=")
    .add(max_regex_length, "max-regex-length",
         "bytes of one .regex pattern")
    .add(hub_max_subscriptions, "hub-max-subscriptions",
         "hub subscriptions at most")
    .add(hub_max_callback_length, "hub-max-callback-length",
         "characters of a callback URL at most")
    .add(hub_callback_allow, "hub-callback-allow",
         "callback hosts, addresses or CIDR ranges allowed (comma list; "
         "empty: every one not denied)")
    .add(hub_callback_deny, "hub-callback-deny",
         "callback hosts, addresses or CIDR ranges refused (comma list)")
    .add(hub_retry_budget, "hub-retry-budget",
         "how long an event is retried before it is parked")
    .add(hub_first_retry, "hub-first-retry",
         "delay before the first retry (doubles up to hub-max-retry)")
    .add(hub_max_retry, "hub-max-retry", "longest delay between retries")
    .add(hub_connect_timeout, "hub-connect-timeout",
         "connect timeout of a delivery")
    .add(hub_delivery_timeout, "hub-delivery-timeout",
         "total timeout of a delivery")
    .add(hub_window, "hub-window",
         "events of one subscription in flight or waiting at most")
    .add(hub_stats_interval, "hub-stats-interval",
         "how often delivery statistics are logged (when there were any)")
    .add(listener_log_size, "listener-log-size",
         "events the /listener endpoints keep (GET /listener)")
    .add(request_timeout, "request-timeout",
         "answer 504 when an actor has not answered by then")
    .add(idle_timeout, "idle-timeout",
         "passivate a customer actor after this idle time")
    .add(shutdown_timeout, "shutdown-timeout",
         "on SIGTERM, wait this long for in-flight requests")
    .add(log_level, "log-level", "debug, info, warning, error or off")
    .add(request_log_level, "request-log-level",
         "level of the one line logged per request")
    .add(cpu_scheduling, "cpu-scheduling",
         "batch (threads woken by another do not preempt it: fewer context "
         "switches under load) or normal")
    .add(partial_content, "partial-content",
         "true: a paged list that returns a strict subset answers 206; "
         "false: 200, as the swagger declares")
    .add(indexes, "indexes",
         "attribute paths to index besides name, status, engagedParty.id "
         "and validFor.startDateTime (comma list, e.g. "
         "creditProfile.creditScore); a new one is built at start-up")
    .add(max_sort_window, "max-sort-window",
         "most offset+limit of a sort on an attribute without an index to "
         "walk (its entries are kept in memory); larger: 400");
  opt_group{custom_options_, "cluster"}
    .add(cluster_self, "self", "this node's member name (empty: no cluster)")
    .add(cluster_epoch, "epoch",
         "the membership's epoch; bump it with every change of members")
    .add(cluster_members, "members",
         "every member as \"name=caf-host:port=http-url\" (a list)")
    .add(cluster_address, "address",
         "address the CAF port binds to (default: self's host)")
    .add(cluster_max_window, "max-window",
         "largest offset + limit of a list query in a cluster")
    .add(cluster_retry_period, "retry-period",
         "how often a down link is dialed again")
    .add(cluster_request_timeout, "request-timeout",
         "timeout of a forwarded request (0: tmf.request-timeout)")
    .add(cluster_tls, "tls",
         "TLS between nodes (caf_openssl: openssl.certificate, openssl.key, "
         "openssl.cafile; peers verified on both sides)");
  // CAF's remoting, used by a cluster: versioned peers only, and a hung or
  // cut-off peer detected within the connection timeout.
  set("middleman.app-identifiers",
      std::vector<std::string>{"tmf629-proto-3"});
  set("middleman.heartbeat-interval", caf::timespan{std::chrono::seconds(1)});
  set("middleman.connection-timeout", caf::timespan{std::chrono::seconds(5)});
  ops.add_to(custom_options_);
  // One scheduler worker with the `sharing` policy: on small machines
  // CAF's default (work stealing, one worker per core and spinning idle
  // workers) takes the core away from the HTTP thread. See
  // docs/performance.md in the shared material.
  set("scheduler.max-threads", 1);
  set("scheduler.policy", caf::atom("sharing"));
}

bool parse_byte_size(const std::string& text, uint64_t& out) {
  size_t i = 0;
  uint64_t value = 0;
  if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0])))
    return false;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]));
       ++i) {
    auto digit = static_cast<uint64_t>(text[i] - '0');
    if (value > (std::numeric_limits<uint64_t>::max() - digit) / 10)
      return false;
    value = value * 10 + digit;
  }
  auto unit = text.substr(i);
  while (!unit.empty() && unit.front() == ' ')
    unit.erase(0, 1);
  uint64_t mult = 1;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "K" || unit == "KiB" || unit == "k")
    mult = 1ull << 10;
  else if (unit == "M" || unit == "MiB")
    mult = 1ull << 20;
  else if (unit == "G" || unit == "GiB")
    mult = 1ull << 30;
  else if (unit == "T" || unit == "TiB")
    mult = 1ull << 40;
  else
    return false;
  if (value > std::numeric_limits<uint64_t>::max() / mult)
    return false;
  out = value * mult;
  return true;
}

namespace {

bool valid_public_url(const std::string& url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return false;
  auto scheme = url.substr(0, scheme_end);
  if (scheme != "http" && scheme != "https")
    return false;
  if (url.size() == scheme_end + 3)
    return false;
  for (auto c : url)
    if (c <= ' ' || c == '"' || c == '\\' || c == '?' || c == '#'
        || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return url.back() != '/';
}

} // namespace

namespace {

/// Checks `value` in [lo, hi] for key `name`; sets `out` when it is.
template <class T>
std::string in_range(const char* name, int64_t value, int64_t lo, int64_t hi,
                     T& out) {
  if (value < lo || value > hi)
    return std::string{"tmf."} + name + ": must be between "
           + std::to_string(lo) + " and " + std::to_string(hi);
  out = static_cast<T>(value);
  return {};
}

/// Checks a byte size `text` in [lo, hi] for key `name`.
template <class T>
std::string size_in_range(const char* name, const std::string& text,
                          uint64_t lo, uint64_t hi, T& out) {
  uint64_t value = 0;
  if (!parse_byte_size(text, value) || value < lo || value > hi)
    return std::string{"tmf."} + name + ": '" + text
           + "' must be a size between " + std::to_string(lo) + " and "
           + std::to_string(hi) + " bytes, e.g. 8KiB";
  out = static_cast<T>(value);
  return {};
}

} // namespace

std::string config::validate_caps(settings& out) const {
  for (auto msg :
       {in_range("max-json-depth", max_json_depth, 1, 256, out.max_json_depth),
        size_in_range("max-url-size", max_url_size, 256, 1 << 20,
                      out.max_url_size),
        size_in_range("max-header-size", max_header_size, 256, 64 << 10,
                      out.max_header_size),
        in_range("max-header-count", max_header_count, 4, 1000,
                 out.max_header_count),
        in_range("max-connections", max_connections, 1, 1 << 20,
                 out.max_connections),
        size_in_range("max-buffered-bytes", max_buffered_bytes, 1 << 20,
                      uint64_t{1} << 40, out.max_buffered_bytes),
        in_range("max-filters", max_filters, 1, 1000, out.max_filters),
        in_range("max-filter-values", max_filter_values, 1, 10000,
                 out.max_filter_values),
        in_range("max-sort-keys", max_sort_keys, 1, 100, out.max_sort_keys),
        in_range("max-fields", max_fields, 1, 1000, out.max_fields),
        in_range("max-regex-length", max_regex_length, 1, 4096,
                 out.max_regex_length)})
    if (!msg.empty())
      return msg;
  if (out.max_buffered_bytes < out.max_body_size)
    return "tmf.max-buffered-bytes: must be at least tmf.max-body-size";
  return {};
}

std::string config::validate_queries(settings& out) const {
  out.index_paths = domain::builtin_index_paths();
  std::string_view rest = indexes;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    auto item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{}
                                           : rest.substr(comma + 1);
    while (!item.empty() && item.front() == ' ')
      item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ')
      item.remove_suffix(1);
    if (item.empty())
      continue;
    if (auto msg = domain::check_index_path(item))
      return "tmf.indexes: " + *msg;
    if (std::find(out.index_paths.begin(), out.index_paths.end(), item)
        == out.index_paths.end())
      out.index_paths.emplace_back(item);
  }
  if (out.index_paths.size() > 32)
    return "tmf.indexes: at most 32 indexes";
  if (max_sort_window < 1 || max_sort_window > 10000000)
    return "tmf.max-sort-window: must be between 1 and 10000000";
  out.max_sort_window = static_cast<uint64_t>(max_sort_window);
  return {};
}

std::string config::validate_hub(settings& out) const {
  for (auto msg :
       {in_range("hub-max-subscriptions", hub_max_subscriptions, 0, 100000,
                 out.hub_max_subscriptions),
        in_range("hub-max-callback-length", hub_max_callback_length, 16,
                 65536, out.hub_max_callback_length),
        in_range("hub-window", hub_window, 1, 10000, out.hub_window),
        in_range("listener-log-size", listener_log_size, 0, 1000000,
                 out.listener_log_size)})
    if (!msg.empty())
      return msg;
  domain::callback_policy policy;
  std::string error;
  if (!policy.parse(hub_callback_allow, hub_callback_deny, error))
    return "tmf.hub-callback-allow/deny: " + error;
  out.hub_callback_allow = hub_callback_allow;
  out.hub_callback_deny = hub_callback_deny;
  auto positive = [](caf::timespan x) { return x.count() > 0; };
  for (auto [name, value, target] :
       {std::tuple{"hub-retry-budget", hub_retry_budget,
                   &out.hub_retry_budget},
        std::tuple{"hub-first-retry", hub_first_retry, &out.hub_first_retry},
        std::tuple{"hub-max-retry", hub_max_retry, &out.hub_max_retry},
        std::tuple{"hub-connect-timeout", hub_connect_timeout,
                   &out.hub_connect_timeout},
        std::tuple{"hub-delivery-timeout", hub_delivery_timeout,
                   &out.hub_delivery_timeout},
        std::tuple{"hub-stats-interval", hub_stats_interval,
                   &out.hub_stats_interval}}) {
    if (!positive(value))
      return std::string{"tmf."} + name + ": must be positive";
    *target = value;
  }
  if (hub_first_retry > hub_max_retry)
    return "tmf.hub-first-retry: must not exceed tmf.hub-max-retry";
  return {};
}

std::string config::validate_cluster(settings& out) const {
  if (cluster_self.empty() && cluster_members.empty())
    return {};
  if (cluster_self.empty())
    return "cluster.self: must name this node among cluster.members";
  if (cluster_epoch < 1)
    return "cluster.epoch: must be at least 1";
  domain::membership m;
  if (auto msg = domain::make_membership(cluster_self,
                                         static_cast<uint64_t>(cluster_epoch),
                                         cluster_members, m))
    return "cluster.members: " + *msg;
  if (m.members.size() < 2)
    return "cluster.members: a cluster has at least two members";
  if (cluster_max_window < 1 || cluster_max_window > 100000)
    return "cluster.max-window: must be between 1 and 100000";
  if (cluster_retry_period.count() <= 0)
    return "cluster.retry-period: must be positive";
  out.cluster = std::move(m);
  out.cluster_address = cluster_address;
  out.cluster_max_window = static_cast<uint64_t>(cluster_max_window);
  out.cluster_retry_period = cluster_retry_period;
  out.cluster_request_timeout = cluster_request_timeout.count() > 0
                                  ? cluster_request_timeout
                                  : request_timeout;
  // Without certificates caf_openssl falls back to anonymous ciphers.
  if (cluster_tls
      && (openssl_certificate.empty() || openssl_key.empty()
          || (openssl_cafile.empty() && openssl_capath.empty())))
    return "cluster.tls: needs openssl.certificate, openssl.key and "
           "openssl.cafile (or openssl.capath): without them the nodes "
           "would talk over unauthenticated ciphers";
  out.cluster_tls = cluster_tls;
  return {};
}

std::string config::validate(settings& out) const {
  auto positive = [](caf::timespan x) { return x.count() > 0; };
  if (address.empty())
    return "tmf.address: must not be empty";
  out.address = address;
  if (port < 0 || port > 65535)
    return "tmf.port: " + std::to_string(port)
           + " is not a TCP port (0..65535)";
  out.port = static_cast<uint16_t>(port);
  if (!public_url.empty() && !valid_public_url(public_url))
    return "tmf.public-url: '" + public_url
           + "' must look like http://host[:port] (no path, no trailing /)";
  out.public_url = public_url;
  if (base_path.empty() || base_path.front() != '/' || base_path.back() == '/'
      || base_path.find_first_of(" ?#\"\\") != std::string::npos)
    return "tmf.base-path: '" + base_path
           + "' must start with / and not end with /";
  out.base_path = base_path;
  if (data_dir.empty())
    return "tmf.data-dir: must not be empty";
  out.data_dir = data_dir;
  if (!parse_byte_size(map_size, out.map_size) || out.map_size == 0)
    return "tmf.map-size: '" + map_size
           + "' must be a positive size such as 1GiB or 268435456";
  if (out.map_size < (1ull << 20))
    return "tmf.map-size: '" + map_size + "' is below the 1MiB minimum";
  if (io_threads < 1 || io_threads > 64)
    return "tmf.io-threads: must be between 1 and 64";
  out.io_threads = static_cast<size_t>(io_threads);
  if (readers < 1 || readers > 64)
    return "tmf.readers: must be between 1 and 64";
  out.readers = static_cast<size_t>(readers);
  if (max_batch < 1 || max_batch > 65536)
    return "tmf.max-batch: must be between 1 and 65536";
  out.max_batch = static_cast<size_t>(max_batch);
  if (max_resident < 1)
    return "tmf.max-resident: must be at least 1";
  out.max_resident = static_cast<size_t>(max_resident);
  if (!parse_byte_size(max_body_size, out.max_body_size)
      || out.max_body_size == 0)
    return "tmf.max-body-size: '" + max_body_size
           + "' must be a positive size such as 1MiB";
  if (out.max_body_size > (64ull << 20))
    return "tmf.max-body-size: at most 64MiB";
  if (max_limit < 1)
    return "tmf.max-limit: must be at least 1";
  out.max_limit = static_cast<uint64_t>(max_limit);
  if (default_limit < 1 || default_limit > max_limit)
    return "tmf.default-limit: must be between 1 and tmf.max-limit";
  out.default_limit = static_cast<uint64_t>(default_limit);
  if (auto msg = validate_caps(out); !msg.empty())
    return msg;
  if (auto msg = validate_hub(out); !msg.empty())
    return msg;
  if (auto msg = validate_queries(out); !msg.empty())
    return msg;
  if (auto msg = validate_cluster(out); !msg.empty())
    return msg;
  if (!positive(request_timeout))
    return "tmf.request-timeout: must be positive";
  if (request_timeout > std::chrono::minutes(5))
    return "tmf.request-timeout: at most 5min";
  out.request_timeout = request_timeout;
  if (!positive(idle_timeout))
    return "tmf.idle-timeout: must be positive";
  out.idle_timeout = idle_timeout;
  if (!positive(shutdown_timeout))
    return "tmf.shutdown-timeout: must be positive";
  out.shutdown_timeout = shutdown_timeout;
  log::level lvl;
  if (!log::parse_level(log_level, lvl))
    return "tmf.log-level: '" + log_level
           + "' is not one of debug, info, warning, error, off";
  out.log_level = static_cast<int>(lvl);
  if (!log::parse_level(request_log_level, lvl))
    return "tmf.request-log-level: '" + request_log_level
           + "' is not one of debug, info, warning, error, off";
  out.request_log_level = static_cast<int>(lvl);
  if (cpu_scheduling != "batch" && cpu_scheduling != "normal")
    return "tmf.cpu-scheduling: '" + cpu_scheduling
           + "' is not one of batch, normal";
  out.batch_scheduling = cpu_scheduling == "batch";
  if (partial_content != "true" && partial_content != "false")
    return "tmf.partial-content: '" + partial_content
           + "' is not one of true, false";
  out.partial_content = partial_content == "true";
  return ops.validate(out.ops);
}

namespace {

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (const auto& x : xs)
    out += (out.empty() ? "" : ",") + x;
  return out;
}

} // namespace

std::string describe(const settings& s) {
  auto ms = [](caf::timespan x) {
    return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(x)
               .count())
           + "ms";
  };
  return "address=" + s.address + " port=" + std::to_string(s.port)
         + " public-url=" + (s.public_url.empty() ? "(Host header)"
                                                  : s.public_url)
         + " base-path=" + s.base_path + " data-dir=" + s.data_dir
         + " map-size=" + std::to_string(s.map_size)
         + " io-threads=" + std::to_string(s.io_threads)
         + " readers=" + std::to_string(s.readers)
         + " max-batch=" + std::to_string(s.max_batch)
         + " max-resident=" + std::to_string(s.max_resident)
         + " max-body-size=" + std::to_string(s.max_body_size)
         + " default-limit=" + std::to_string(s.default_limit)
         + " max-limit=" + std::to_string(s.max_limit)
         + " max-json-depth=" + std::to_string(s.max_json_depth)
         + " max-url-size=" + std::to_string(s.max_url_size)
         + " max-header-size=" + std::to_string(s.max_header_size)
         + " max-header-count=" + std::to_string(s.max_header_count)
         + " max-connections=" + std::to_string(s.max_connections)
         + " max-buffered-bytes=" + std::to_string(s.max_buffered_bytes)
         + " max-filters=" + std::to_string(s.max_filters)
         + " max-filter-values=" + std::to_string(s.max_filter_values)
         + " max-sort-keys=" + std::to_string(s.max_sort_keys)
         + " max-fields=" + std::to_string(s.max_fields)
         + " max-regex-length=" + std::to_string(s.max_regex_length)
         + " hub-max-subscriptions=" + std::to_string(s.hub_max_subscriptions)
         + " hub-callback-allow=" + s.hub_callback_allow
         + " hub-callback-deny=" + s.hub_callback_deny
         + " hub-retry-budget=" + ms(s.hub_retry_budget)
         + " hub-first-retry=" + ms(s.hub_first_retry)
         + " hub-max-retry=" + ms(s.hub_max_retry)
         + " hub-delivery-timeout=" + ms(s.hub_delivery_timeout)
         + " hub-window=" + std::to_string(s.hub_window)
         + " request-timeout=" + ms(s.request_timeout)
         + " idle-timeout=" + ms(s.idle_timeout)
         + " shutdown-timeout=" + ms(s.shutdown_timeout)
         + " log-level=" + log::to_string(static_cast<log::level>(s.log_level))
         + " request-log-level="
         + log::to_string(static_cast<log::level>(s.request_log_level))
         + " cpu-scheduling=" + (s.batch_scheduling ? "batch" : "normal")
         + " partial-content=" + (s.partial_content ? "true" : "false")
         + " indexes=" + join(s.index_paths)
         + " max-sort-window=" + std::to_string(s.max_sort_window)
         + (s.cluster ? " cluster.self=" + s.cluster->self + " cluster.epoch="
                          + std::to_string(s.cluster->epoch) + " members="
                          + std::to_string(s.cluster->members.size())
                          + " cluster.tls="
                          + (s.cluster_tls ? "true" : "false")
                      : std::string{" cluster=none"})
         + " " + describe(s.ops);
}

} // namespace tmf
