// Google Benchmark of what production operations add to a request: one
// metrics record (counter and histogram), a commit's histograms, the rate
// limiter, API key and JWT checks, and a log line. Their costs next to the
// ~10 us of CPU a GET takes (README, "Benchmarks") say what the features
// cost without the noise of a loaded machine.

#include <benchmark/benchmark.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <string>

#include <jwt.h>
#include <prometheus/histogram.h>

#include "actors/log.hpp"
#include "actors/metrics.hpp"
#include "http/auth.hpp"
#include "http/metrics.hpp"
#include "http/rate_limit.hpp"

namespace {

constexpr std::string_view route = "/customer/{id}";

void BM_HttpMetricsRecord(benchmark::State& state) {
  tmf::metrics_registry reg;
  tmf::http::http_metrics m{reg.registry()};
  for (auto _ : state)
    m.record(route, restinio::http_method_get(), 200, 0.000087);
}
BENCHMARK(BM_HttpMetricsRecord);

void BM_CommitMetrics(benchmark::State& state) {
  tmf::metrics_registry reg;
  const auto& m = reg.actors();
  for (auto _ : state) {
    tmf::observe(m.commit_seconds, 0.0004);
    tmf::observe(m.commit_batch_size, 32);
  }
}
BENCHMARK(BM_CommitMetrics);

void BM_RateLimiter(benchmark::State& state) {
  tmf::http::rate_limiter limiter{1e9, 1e9, 10000};
  auto now = tmf::http::rate_limiter::clock::now();
  for (auto _ : state)
    benchmark::DoNotOptimize(limiter.acquire("key:billing", now));
}
BENCHMARK(BM_RateLimiter);

std::string temp_file(const std::string& name, const std::string& text) {
  auto path = "/tmp/tmf629d-ops-bench-" + name;
  std::ofstream{path} << text;
  return path;
}

void BM_ApiKeyCheck(benchmark::State& state) {
  tmf::http::auth_settings s;
  std::string keys;
  for (int i = 0; i < 10; ++i)
    keys += "client" + std::to_string(i) + " customer.read key-"
            + std::to_string(i) + "-0123456789abcdef\n";
  s.api_keys_file = temp_file("keys", keys);
  tmf::http::authenticator auth{s};
  for (auto _ : state)
    benchmark::DoNotOptimize(
      auth.check("key-7-0123456789abcdef", {}, false));
}
BENCHMARK(BM_ApiKeyCheck);

void BM_JwtHs256Check(benchmark::State& state) {
  const std::string secret = "an-hs256-secret-of-at-least-32-bytes!!";
  tmf::http::auth_settings s;
  s.jwt_secret_file = temp_file("secret", secret);
  tmf::http::authenticator auth{s};
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grant(jwt, "sub", "user-1");
  jwt_add_grant(jwt, "scope", "customer.read customer.write");
  jwt_add_grant_int(jwt, "exp", static_cast<long>(std::time(nullptr)) + 3600);
  jwt_set_alg(jwt, JWT_ALG_HS256,
              reinterpret_cast<const unsigned char*>(secret.data()),
              static_cast<int>(secret.size()));
  char* token = jwt_encode_str(jwt);
  auto header = std::string{"Bearer "} + token;
  free(token);
  jwt_free(jwt);
  for (auto _ : state)
    benchmark::DoNotOptimize(auth.check({}, header, false));
}
BENCHMARK(BM_JwtHs256Check);

/// One access-log line to standard error (run with 2>/dev/null).
void BM_LogLine(benchmark::State& state) {
  tmf::log::set_threshold(tmf::log::level::info);
  tmf::log::set_json(state.range(0) == 1);
  const std::string line = "GET /tmf-api/customerManagement/v4/customer/"
                           "1a7-abcdefghijklmnopqrstuvwxyz 200 87us "
                           "rid=4f0c1d2e3a4b5c6d client=127.0.0.1";
  for (auto _ : state)
    tmf::log::info(line);
  tmf::log::set_json(false);
}
BENCHMARK(BM_LogLine)->Arg(0)->Arg(1);

} // namespace

BENCHMARK_MAIN();
