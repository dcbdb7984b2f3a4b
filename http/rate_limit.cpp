#include "http/rate_limit.hpp"

#include <algorithm>

namespace tmf::http {

rate_limiter::rate_limiter(double rate, double burst, size_t max_clients)
  : rate_(rate), burst_(std::max(burst, 1.0)),
    max_clients_(std::max<size_t>(max_clients, 1)) {
  index_.reserve(std::min<size_t>(max_clients_, 1 << 16));
}

double rate_limiter::acquire(std::string_view client, clock::time_point now) {
  if (client.size() > max_key)
    client = client.substr(0, max_key);
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = index_.find(client);
  if (i == index_.end()) {
    if (lru_.size() >= max_clients_) {
      index_.erase(lru_.front().client);
      lru_.pop_front();
    }
    lru_.push_back(bucket{std::string{client}, burst_, now});
    auto pos = std::prev(lru_.end());
    i = index_.emplace(pos->client, pos).first;
  } else {
    lru_.splice(lru_.end(), lru_, i->second);
  }
  auto& b = *i->second;
  auto elapsed = std::chrono::duration<double>(now - b.last).count();
  if (elapsed > 0) {
    b.tokens = std::min(burst_, b.tokens + elapsed * rate_);
    b.last = now;
  }
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return 0;
  }
  return (1 - b.tokens) / rate_;
}

size_t rate_limiter::size() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return lru_.size();
}

} // namespace tmf::http
