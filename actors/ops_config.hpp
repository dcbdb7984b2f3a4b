#pragma once

// The `[tmf]` keys of production operations: readiness, metrics, log
// format, authentication, rate limits and TLS. Registered and validated
// here so that actors/config.cpp only hooks them in (`ops` members).

#include <chrono>
#include <cstdint>
#include <string>

#include <caf/config_option_set.hpp>
#include <caf/timespan.hpp>

namespace tmf {

/// Validated operations settings.
struct ops_settings {
  caf::timespan ready_timeout = std::chrono::seconds(1);
  uint64_t ready_max_backlog = 100000;
  caf::timespan unready_delay{};
  bool metrics = true;
  bool metrics_auth = false;
  bool json_logs = false;
  bool auth = false;
  std::string auth_api_keys_file;
  std::string auth_jwt_secret_file;
  std::string auth_jwt_public_key_file;
  std::string auth_jwt_jwks_file;
  std::string auth_jwt_issuer;
  std::string auth_jwt_audience;
  caf::timespan auth_jwt_leeway = std::chrono::seconds(30);
  std::string auth_read_scope;
  std::string auth_write_scope;
  double rate_limit = 0; ///< requests per second per client; 0: off
  double rate_limit_burst = 0;
  size_t rate_limit_clients = 10000;
  bool tls = false;
  uint16_t tls_port = 8443;
  std::string tls_cert_file;
  std::string tls_key_file;
  bool tls13_only = false; ///< tls-min-version=1.3
};

/// The raw values as the options set fills them.
struct ops_keys {
  caf::timespan ready_timeout = std::chrono::seconds(1);
  int64_t ready_max_backlog = 100000;
  caf::timespan unready_delay = std::chrono::seconds(0);
  std::string metrics = "on";
  std::string metrics_auth = "off";
  std::string log_format = "text";
  std::string auth = "off";
  std::string auth_api_keys_file;
  std::string auth_jwt_secret_file;
  std::string auth_jwt_public_key_file;
  std::string auth_jwt_jwks_file;
  std::string auth_jwt_issuer;
  std::string auth_jwt_audience;
  caf::timespan auth_jwt_leeway = std::chrono::seconds(30);
  std::string auth_read_scope = "customer.read";
  std::string auth_write_scope = "customer.write";
  int64_t rate_limit = 0;
  int64_t rate_limit_burst = 0;
  int64_t rate_limit_clients = 10000;
  std::string tls = "off";
  int64_t tls_port = 8443;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_min_version = "1.2";

  /// Registers every key in the `tmf` group of `opts`.
  void add_to(caf::config_option_set& opts);

  /// Checks every value; fills `out` and returns "" or one line naming the
  /// bad key and why. Files are checked for presence only here; http/
  /// reads them at start-up.
  std::string validate(ops_settings& out) const;
};

/// The operations part of the start-up line (no secrets: file names only).
std::string describe(const ops_settings& s);

} // namespace tmf
