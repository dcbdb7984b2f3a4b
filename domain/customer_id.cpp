#include "domain/customer_id.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <random>

#include <sys/random.h>

namespace tmf::domain {

namespace {

constexpr char base32[] = "abcdefghijklmnopqrstuvwxyz234567";
constexpr size_t random_chars = 26; // ceil(128 / 5)

void fill_random(unsigned char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    auto r = getrandom(buf + got, n - got, 0);
    if (r > 0) {
      got += static_cast<size_t>(r);
    } else if (r < 0 && errno != EINTR) {
      // getrandom cannot fail on Linux >= 3.17 with a valid buffer; fall
      // back to random_device rather than returning weak ids.
      std::random_device rd;
      for (; got < n; ++got)
        buf[got] = static_cast<unsigned char>(rd());
    }
  }
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

bool is_base32(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}


/// Random bytes from the kernel, fetched 4 KiB at a time (one system call
/// per ~240 ids instead of one per id).
void take_random(unsigned char* out, size_t n) {
  thread_local std::array<unsigned char, 4096> pool;
  thread_local size_t used = pool.size();
  if (pool.size() - used < n) {
    fill_random(pool.data(), pool.size());
    used = 0;
  }
  std::memcpy(out, pool.data() + used, n);
  // Never hand out the same bytes twice.
  std::memset(pool.data() + used, 0, n);
  used += n;
}

} // namespace

std::string make_random_id() {
  std::array<unsigned char, 17> bytes{}; // 130 bits used (26 x 5)
  take_random(bytes.data(), bytes.size());
  std::string id(random_chars, 'a');
  unsigned acc = 0;
  int bits = 0;
  size_t in = 0;
  for (size_t i = 0; i < random_chars; ++i) {
    if (bits < 5) {
      acc = (acc << 8) | bytes[in++];
      bits += 8;
    }
    id[i] = base32[(acc >> (bits - 5)) & 31u];
    bits -= 5;
  }
  return id;
}

bool is_random_id(std::string_view id) noexcept {
  return id.size() == random_chars
         && std::all_of(id.begin(), id.end(), is_base32);
}

std::string shard_prefix(uint16_t shard) {
  char prefix[5];
  std::snprintf(prefix, sizeof(prefix), "%03x-", shard % shard_count);
  return prefix;
}

std::string make_customer_id(uint16_t shard) {
  return shard_prefix(shard) + make_random_id();
}

bool is_customer_id(std::string_view id) noexcept {
  if (id.size() != 4 + random_chars || id[3] != '-')
    return false;
  for (size_t i = 0; i < 3; ++i)
    if (!is_hex(id[i]))
      return false;
  if (shard_of(id) >= shard_count)
    return false;
  for (size_t i = 4; i < id.size(); ++i)
    if (!is_base32(id[i]))
      return false;
  return true;
}

uint16_t shard_of(std::string_view id) noexcept {
  uint16_t result = 0;
  for (size_t i = 0; i < 3 && i < id.size(); ++i) {
    auto c = id[i];
    result = static_cast<uint16_t>(result * 16
                                   + (c <= '9' ? c - '0' : c - 'a' + 10));
  }
  return result;
}

} // namespace tmf::domain
