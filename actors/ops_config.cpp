#include "actors/ops_config.hpp"

#include <algorithm>
#include <cstdio>
#include <unistd.h>

#include <caf/config_option_adder.hpp>

namespace tmf {

void ops_keys::add_to(caf::config_option_set& opts) {
  caf::config_option_adder{opts, "tmf"}
    .add(ready_timeout, "ready-timeout",
         "GET /health/ready: how long the store, router and notifier may "
         "take to answer their probes")
    .add(ready_max_backlog, "ready-max-backlog",
         "GET /health/ready: not ready while the event backlog is larger")
    .add(unready_delay, "unready-delay",
         "on SIGTERM: answer /health/ready 503 this long while still "
         "serving, so a load balancer stops sending first")
    .add(metrics, "metrics",
         "on or off: record metrics and serve GET /metrics (Prometheus)")
    .add(metrics_auth, "metrics-auth",
         "on or off: with auth=on, GET /metrics needs the read scope")
    .add(log_format, "log-format", "text or json (one JSON object per line)")
    .add(auth, "auth", "off or on: API keys and JWT bearer tokens")
    .add(auth_api_keys_file, "auth-api-keys-file",
         "file of API keys, one per line: NAME SCOPES KEY (KEY may be "
         "sha256:HEX)")
    .add(auth_jwt_secret_file, "auth-jwt-secret-file",
         "file holding the HS256 secret of JWT bearer tokens")
    .add(auth_jwt_public_key_file, "auth-jwt-public-key-file",
         "PEM public key of JWT bearer tokens (RSA: RS256, EC P-256: ES256)")
    .add(auth_jwt_jwks_file, "auth-jwt-jwks-file",
         "JWKS file of JWT public keys (RSA, EC P-256; chosen by kid)")
    .add(auth_jwt_issuer, "auth-jwt-issuer",
         "required iss claim of JWTs (empty: not checked)")
    .add(auth_jwt_audience, "auth-jwt-audience",
         "required aud claim of JWTs (empty: not checked)")
    .add(auth_jwt_leeway, "auth-jwt-leeway",
         "clock skew allowed on exp and nbf")
    .add(auth_read_scope, "auth-read-scope", "scope that allows GET")
    .add(auth_write_scope, "auth-write-scope",
         "scope that allows POST, PATCH, DELETE and the hub")
    .add(rate_limit, "rate-limit",
         "requests per second per client (API key, token subject or "
         "address); 0: off")
    .add(rate_limit_burst, "rate-limit-burst",
         "requests a client may send at once (0: one second's worth)")
    .add(rate_limit_clients, "rate-limit-clients",
         "clients the rate limiter remembers (least recent forgotten)")
    .add(tls, "tls", "off or on: also listen for HTTPS on tls-port")
    .add(tls_port, "tls-port", "HTTPS port (0 picks a free port)")
    .add(tls_cert_file, "tls-cert-file",
         "PEM certificate chain of the HTTPS listener (reloaded on SIGHUP)")
    .add(tls_key_file, "tls-key-file",
         "PEM private key of the HTTPS listener (reloaded on SIGHUP)")
    .add(tls_min_version, "tls-min-version", "1.2 or 1.3");
}

namespace {

bool readable(const std::string& path) {
  return ::access(path.c_str(), R_OK) == 0;
}

/// "" when `path` is empty or readable, else the error for `key`.
std::string check_file(const char* key, const std::string& path) {
  if (path.empty() || readable(path))
    return {};
  return std::string{"tmf."} + key + ": cannot read '" + path + "'";
}

bool on_off(const std::string& text, bool& out) {
  if (text == "on" || text == "true") {
    out = true;
    return true;
  }
  if (text == "off" || text == "false") {
    out = false;
    return true;
  }
  return false;
}

bool valid_scope(const std::string& scope) {
  if (scope.empty() || scope.size() > 128)
    return false;
  for (auto c : scope)
    if (c <= ' ' || c == '"' || c == '\\' || static_cast<unsigned char>(c) >= 0x7f)
      return false;
  return true;
}

} // namespace

std::string ops_keys::validate(ops_settings& out) const {
  if (ready_timeout.count() <= 0 || ready_timeout > std::chrono::seconds(60))
    return "tmf.ready-timeout: must be positive and at most 60s";
  out.ready_timeout = ready_timeout;
  if (ready_max_backlog < 0)
    return "tmf.ready-max-backlog: must not be negative";
  out.ready_max_backlog = static_cast<uint64_t>(ready_max_backlog);
  if (unready_delay.count() < 0 || unready_delay > std::chrono::minutes(10))
    return "tmf.unready-delay: must be between 0s and 10min";
  out.unready_delay = unready_delay;
  if (!on_off(metrics, out.metrics))
    return "tmf.metrics: '" + metrics + "' is not one of on, off";
  if (!on_off(metrics_auth, out.metrics_auth))
    return "tmf.metrics-auth: '" + metrics_auth + "' is not one of on, off";
  if (log_format != "text" && log_format != "json")
    return "tmf.log-format: '" + log_format + "' is not one of text, json";
  out.json_logs = log_format == "json";
  if (!on_off(auth, out.auth))
    return "tmf.auth: '" + auth + "' is not one of off, on";
  for (auto msg :
       {check_file("auth-api-keys-file", auth_api_keys_file),
        check_file("auth-jwt-secret-file", auth_jwt_secret_file),
        check_file("auth-jwt-public-key-file", auth_jwt_public_key_file),
        check_file("auth-jwt-jwks-file", auth_jwt_jwks_file),
        check_file("tls-cert-file", tls_cert_file),
        check_file("tls-key-file", tls_key_file)})
    if (!msg.empty())
      return msg;
  out.auth_api_keys_file = auth_api_keys_file;
  out.auth_jwt_secret_file = auth_jwt_secret_file;
  out.auth_jwt_public_key_file = auth_jwt_public_key_file;
  out.auth_jwt_jwks_file = auth_jwt_jwks_file;
  if (!auth_jwt_secret_file.empty() + !auth_jwt_public_key_file.empty()
        + !auth_jwt_jwks_file.empty()
      > 1)
    return "tmf.auth-jwt-secret-file, auth-jwt-public-key-file, "
           "auth-jwt-jwks-file: set at most one";
  if (out.auth && auth_api_keys_file.empty() && auth_jwt_secret_file.empty()
      && auth_jwt_public_key_file.empty() && auth_jwt_jwks_file.empty())
    return "tmf.auth: on, but no tmf.auth-api-keys-file and no JWT key "
           "(auth-jwt-secret-file, -public-key-file or -jwks-file)";
  out.auth_jwt_issuer = auth_jwt_issuer;
  out.auth_jwt_audience = auth_jwt_audience;
  if (auth_jwt_leeway.count() < 0 || auth_jwt_leeway > std::chrono::minutes(10))
    return "tmf.auth-jwt-leeway: must be between 0s and 10min";
  out.auth_jwt_leeway = auth_jwt_leeway;
  if (!valid_scope(auth_read_scope))
    return "tmf.auth-read-scope: '" + auth_read_scope
           + "' must be 1..128 printable characters without spaces";
  if (!valid_scope(auth_write_scope))
    return "tmf.auth-write-scope: '" + auth_write_scope
           + "' must be 1..128 printable characters without spaces";
  out.auth_read_scope = auth_read_scope;
  out.auth_write_scope = auth_write_scope;
  if (rate_limit < 0 || rate_limit > 10000000)
    return "tmf.rate-limit: must be between 0 (off) and 10000000";
  out.rate_limit = static_cast<double>(rate_limit);
  if (rate_limit_burst < 0 || rate_limit_burst > 10000000)
    return "tmf.rate-limit-burst: must be between 0 and 10000000";
  out.rate_limit_burst = static_cast<double>(
    rate_limit_burst > 0 ? rate_limit_burst : std::max<int64_t>(rate_limit, 1));
  if (rate_limit_clients < 1 || rate_limit_clients > 10000000)
    return "tmf.rate-limit-clients: must be between 1 and 10000000";
  out.rate_limit_clients = static_cast<size_t>(rate_limit_clients);
  if (!on_off(tls, out.tls))
    return "tmf.tls: '" + tls + "' is not one of off, on";
  if (tls_port < 0 || tls_port > 65535)
    return "tmf.tls-port: " + std::to_string(tls_port)
           + " is not a TCP port (0..65535)";
  out.tls_port = static_cast<uint16_t>(tls_port);
  if (out.tls && (tls_cert_file.empty() || tls_key_file.empty()))
    return "tmf.tls: on needs tmf.tls-cert-file and tmf.tls-key-file";
  out.tls_cert_file = tls_cert_file;
  out.tls_key_file = tls_key_file;
  if (tls_min_version != "1.2" && tls_min_version != "1.3")
    return "tmf.tls-min-version: '" + tls_min_version
           + "' is not one of 1.2, 1.3";
  out.tls13_only = tls_min_version == "1.3";
  return {};
}

std::string describe(const ops_settings& s) {
  auto ms = [](caf::timespan x) {
    return std::to_string(
             std::chrono::duration_cast<std::chrono::milliseconds>(x)
               .count())
           + "ms";
  };
  std::string out = "ready-timeout=" + ms(s.ready_timeout)
                    + " ready-max-backlog="
                    + std::to_string(s.ready_max_backlog)
                    + " unready-delay=" + ms(s.unready_delay)
                    + " metrics=" + (s.metrics ? "true" : "false")
                    + " log-format=" + (s.json_logs ? "json" : "text")
                    + " auth=" + (s.auth ? "on" : "off");
  if (s.auth) {
    if (!s.auth_api_keys_file.empty())
      out += " auth-api-keys-file=" + s.auth_api_keys_file;
    if (!s.auth_jwt_secret_file.empty())
      out += " auth-jwt-secret-file=" + s.auth_jwt_secret_file;
    if (!s.auth_jwt_public_key_file.empty())
      out += " auth-jwt-public-key-file=" + s.auth_jwt_public_key_file;
    if (!s.auth_jwt_jwks_file.empty())
      out += " auth-jwt-jwks-file=" + s.auth_jwt_jwks_file;
  }
  char rate[64];
  std::snprintf(rate, sizeof(rate), "%g/s burst %g", s.rate_limit,
                s.rate_limit_burst);
  out += std::string{" rate-limit="} + (s.rate_limit > 0 ? rate : "off");
  out += " tls=" + (s.tls ? "on port " + std::to_string(s.tls_port)
                                + " cert " + s.tls_cert_file
                          : std::string{"off"});
  return out;
}

} // namespace tmf
