#pragma once

// The service configuration: the `[tmf]` group of a CAF INI file
// (`--config-file=PATH`), every key overridable on the command line as
// `--tmf.KEY=VALUE`, `--help` listing them. Only main.cpp reads it; actors
// and http/ receive plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>
#include <caf/timespan.hpp>

#include "domain/cluster_map.hpp"
#include "actors/ops_config.hpp"

namespace tmf {

/// Validated settings, in the units the code uses.
struct settings {
  std::string address;     ///< listen address
  uint16_t port = 8080;    ///< listen port (0: any free port)
  std::string public_url;  ///< scheme://host[:port] for href ("" = Host)
  std::string base_path;   ///< e.g. /tmf-api/customerManagement/v4
  std::string data_dir;    ///< LMDB folder
  uint64_t map_size = 0;   ///< LMDB map size in bytes
  size_t io_threads = 1;   ///< RESTinio threads
  size_t readers = 2;      ///< store reader threads
  size_t max_batch = 1024; ///< writes per group commit at most
  size_t max_resident = 100000; ///< resident customer actors (soft cap)
  uint64_t max_body_size = 0;
  uint64_t default_limit = 100;
  uint64_t max_limit = 1000;
  size_t max_json_depth = 32;     ///< deeper request bodies: 400
  size_t max_url_size = 8192;     ///< longer request targets: 414
  size_t max_header_size = 8192;  ///< longer header names/values: 431
  size_t max_header_count = 100;  ///< more header fields: 431
  size_t max_connections = 1024;  ///< parallel HTTP connections
  uint64_t max_buffered_bytes = 0; ///< partly received requests, all
  size_t max_filters = 20;        ///< filter terms of a list query
  size_t max_filter_values = 100; ///< values of all filter terms
  size_t max_sort_keys = 8;       ///< sort keys of a list query
  size_t max_fields = 64;         ///< fields= names
  size_t max_regex_length = 256;  ///< bytes of one .regex pattern
  size_t hub_max_subscriptions = 100;
  size_t hub_max_callback_length = 2048;
  std::string hub_callback_allow; ///< comma list; empty: all not denied
  std::string hub_callback_deny;  ///< comma list
  caf::timespan hub_retry_budget{};
  caf::timespan hub_first_retry{};
  caf::timespan hub_max_retry{};
  caf::timespan hub_connect_timeout{};
  caf::timespan hub_delivery_timeout{};
  size_t hub_window = 64;
  caf::timespan hub_stats_interval{};
  size_t listener_log_size = 1000;
  caf::timespan request_timeout{};
  caf::timespan idle_timeout{};
  caf::timespan shutdown_timeout{};
  int log_level = 1;         ///< tmf::log::level
  int request_log_level = 1; ///< level of the per-request lines
  bool batch_scheduling = true; ///< threads run SCHED_BATCH (cpu-scheduling)
  /// A paged list that is a strict subset answers 206 (else 200).
  bool partial_content = true;
  /// Every indexed attribute path: the built-in ones, then `indexes`.
  std::vector<std::string> index_paths;
  /// Most offset+limit of a sort no index gives in order.
  uint64_t max_sort_window = 100000;
  /// The `[cluster]` group; nothing for a single node.
  std::optional<domain::membership> cluster;
  std::string cluster_address;      ///< CAF bind address (default: self's)
  uint64_t cluster_max_window = 1000;
  caf::timespan cluster_retry_period{};
  caf::timespan cluster_request_timeout{};
  bool cluster_tls = false;
  ops_settings ops; ///< health, metrics, logs, auth, rate limits, TLS
};

/// The CAF configuration with the `[tmf]` options registered and this
/// service's scheduler defaults (one worker, `sharing` policy).
struct config : caf::actor_system_config {
  std::string address = "127.0.0.1";
  int64_t port = 8080;
  std::string public_url;
  std::string base_path = "/tmf-api/customerManagement/v4";
  std::string data_dir = "data";
  std::string map_size = "1GiB";
  int64_t io_threads = 1;
  int64_t readers = 2;
  int64_t max_batch = 1024;
  int64_t max_resident = 100000;
  std::string max_body_size = "1MiB";
  int64_t default_limit = 100;
  int64_t max_limit = 1000;
  int64_t max_json_depth = 32;
  std::string max_url_size = "8KiB";
  std::string max_header_size = "8KiB";
  int64_t max_header_count = 100;
  int64_t max_connections = 1024;
  std::string max_buffered_bytes = "64MiB";
  int64_t max_filters = 20;
  int64_t max_filter_values = 100;
  int64_t max_sort_keys = 8;
  int64_t max_fields = 64;
  int64_t max_regex_length = 256;
  int64_t hub_max_subscriptions = 100;
  int64_t hub_max_callback_length = 2048;
  std::string hub_callback_allow;
  std::string hub_callback_deny = "169.254.0.0/16,fe80::/10";
  caf::timespan hub_retry_budget = std::chrono::hours(24);
  caf::timespan hub_first_retry = std::chrono::seconds(1);
  caf::timespan hub_max_retry = std::chrono::minutes(5);
  caf::timespan hub_connect_timeout = std::chrono::seconds(2);
  caf::timespan hub_delivery_timeout = std::chrono::seconds(10);
  int64_t hub_window = 64;
  caf::timespan hub_stats_interval = std::chrono::seconds(60);
  int64_t listener_log_size = 1000;
  caf::timespan request_timeout = std::chrono::seconds(5);
  caf::timespan idle_timeout = std::chrono::seconds(60);
  caf::timespan shutdown_timeout = std::chrono::seconds(5);
  std::string log_level = "info";
  std::string request_log_level = "info";
  std::string cpu_scheduling = "batch";
  std::string partial_content = "true";
  std::string indexes;
  int64_t max_sort_window = 100000;
  std::string cluster_self;
  int64_t cluster_epoch = 0;
  std::vector<std::string> cluster_members;
  std::string cluster_address;
  int64_t cluster_max_window = 1000;
  caf::timespan cluster_retry_period = std::chrono::milliseconds(500);
  caf::timespan cluster_request_timeout{}; ///< 0: tmf.request-timeout
  bool cluster_tls = false;
  ops_keys ops; ///< the operations keys (actors/ops_config.hpp)

  config();

  /// Every registered option (for --help).
  const caf::config_option_set& options() const {
    return custom_options_;
  }

  /// Checks every value; on success fills `out` and returns an empty string,
  /// else returns one line naming the bad key and why.
  std::string validate(settings& out) const;

private:
  /// The caps on what a client controls (max-json-depth ... max-regex-
  /// length); part of `validate`.
  std::string validate_caps(settings& out) const;

  /// The event hub's keys (hub-...); part of `validate`.
  std::string validate_hub(settings& out) const;

  /// The query keys (indexes, max-sort-window); part of `validate`.
  std::string validate_queries(settings& out) const;
  /// The `[cluster]` group; part of `validate`.
  std::string validate_cluster(settings& out) const;
};

/// Parses a byte size: a positive integer with an optional unit (B, KiB,
/// MiB, GiB, TiB, or K, M, G, T as powers of 1024). Returns false on error.
bool parse_byte_size(const std::string& text, uint64_t& out);

/// A one-line summary of the effective settings for the start-up log.
std::string describe(const settings& s);

} // namespace tmf
