#pragma once

// Requests per second per client identity (an API key's name, a token's
// subject, or the peer address when unauthenticated): one token bucket per
// client, refilled at `rate` per second up to `burst`. A client over its
// rate gets 429 with Retry-After; other clients' buckets are untouched, so
// a noisy client slows nobody else. The table of buckets is bounded:
// beyond `max_clients` the least recently seen client is forgotten (its
// next request starts with a full bucket), so memory stays at most
// max_clients entries of at most `max_key` bytes each.

#include <chrono>
#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace tmf::http {

class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  static constexpr size_t max_key = 320;

  rate_limiter(double rate, double burst, size_t max_clients);

  /// Takes one request from `client`'s bucket at `now`: 0 when allowed,
  /// else the seconds until the bucket holds a request again.
  double acquire(std::string_view client, clock::time_point now);

  /// Clients in the table.
  size_t size() const;

private:
  struct bucket {
    std::string client;
    double tokens = 0;
    clock::time_point last;
  };

  double rate_;
  double burst_;
  size_t max_clients_;
  mutable std::mutex mtx_;
  std::list<bucket> lru_; ///< least recently seen first
  std::unordered_map<std::string_view, std::list<bucket>::iterator> index_;
};

} // namespace tmf::http
