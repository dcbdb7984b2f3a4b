#include "domain/list_cursor.hpp"

#include <cstdint>

namespace tmf::domain {

namespace {

constexpr std::string_view alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

constexpr size_t hash_size = 4;

void mix(uint32_t& h, std::string_view bytes) {
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 16777619u;
  }
  h ^= 0xFF; // separates fields
  h *= 16777619u;
}

/// FNV-1a over the filters and the sort of `q`.
uint32_t shape_hash(const list_query& q) {
  uint32_t h = 2166136261u;
  for (const auto& t : q.filters) {
    mix(h, t.path);
    mix(h, std::string(1, static_cast<char>(t.op)));
    for (const auto& v : t.values)
      mix(h, v);
  }
  for (const auto& k : q.sort) {
    mix(h, k.path);
    mix(h, k.descending ? "-" : "+");
  }
  return h;
}

std::string base64url(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += alphabet[(acc >> bits) & 0x3F];
    }
  }
  if (bits > 0)
    out += alphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

std::optional<std::string> unbase64url(std::string_view in) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto pos = alphabet.find(c);
    if (pos == std::string_view::npos)
      return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

} // namespace

std::string encode_cursor(const list_query& q, const cursor_position& pos) {
  std::string raw(1, pos.phase);
  auto h = shape_hash(q);
  for (int i = hash_size - 1; i >= 0; --i)
    raw += static_cast<char>((h >> (8 * i)) & 0xFF);
  raw += pos.key;
  return base64url(raw);
}

std::optional<cursor_position> decode_cursor(const list_query& q,
                                             std::string_view token) {
  if (token.size() > max_cursor_length)
    return std::nullopt;
  auto raw = unbase64url(token);
  if (!raw || raw->size() < 1 + hash_size)
    return std::nullopt;
  uint32_t h = 0;
  for (size_t i = 1; i <= hash_size; ++i)
    h = (h << 8) | static_cast<unsigned char>((*raw)[i]);
  if (h != shape_hash(q))
    return std::nullopt;
  return cursor_position{(*raw)[0], raw->substr(1 + hash_size)};
}

} // namespace tmf::domain
