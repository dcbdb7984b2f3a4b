#include "domain/cluster_map.hpp"

#include <algorithm>
#include <cctype>

namespace tmf::domain {

namespace {

uint64_t fnv1a(std::string_view text, uint64_t h = 14695981039346656037ull) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

/// splitmix64's finaliser: spreads FNV's weak low bits.
uint64_t mix(uint64_t x) noexcept {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ull;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebull;
  x ^= x >> 31;
  return x;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 64
         && std::all_of(name.begin(), name.end(), [](unsigned char c) {
              return std::isalnum(c) || c == '_' || c == '.' || c == '-';
            });
}

} // namespace

bool parse_member(std::string_view spec, member& out, std::string& error) {
  auto first = spec.find('=');
  auto second = first == std::string_view::npos ? first
                                                : spec.find('=', first + 1);
  if (second == std::string_view::npos) {
    error = "'" + std::string{spec} + "' is not name=host:port=http-url";
    return false;
  }
  member m;
  m.name = std::string{spec.substr(0, first)};
  auto address = spec.substr(first + 1, second - first - 1);
  m.http_url = std::string{spec.substr(second + 1)};
  if (!valid_name(m.name)) {
    error = "'" + m.name + "' is not a member name ([A-Za-z0-9_.-])";
    return false;
  }
  auto colon = address.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    error = "member " + m.name + ": '" + std::string{address}
            + "' is not host:port";
    return false;
  }
  auto host = address.substr(0, colon);
  if (host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  m.host = std::string{host};
  auto port = address.substr(colon + 1);
  unsigned value = 0;
  if (port.empty() || port.size() > 5
      || !std::all_of(port.begin(), port.end(),
                      [](unsigned char c) { return std::isdigit(c); })
      || (value = static_cast<unsigned>(std::stoul(std::string{port}))) == 0
      || value > 65535) {
    error = "member " + m.name + ": bad port in '" + std::string{address}
            + "'";
    return false;
  }
  m.port = static_cast<uint16_t>(value);
  if (m.http_url.rfind("http://", 0) != 0
      && m.http_url.rfind("https://", 0) != 0) {
    error = "member " + m.name + ": '" + m.http_url
            + "' is not an http(s) URL";
    return false;
  }
  out = std::move(m);
  return true;
}

std::optional<std::string> make_membership(std::string self, uint64_t epoch,
                                           const std::vector<std::string>& specs,
                                           membership& out) {
  membership result;
  result.self = std::move(self);
  result.epoch = epoch;
  for (const auto& spec : specs) {
    member m;
    std::string error;
    if (!parse_member(spec, m, error))
      return error;
    for (const auto& other : result.members) {
      if (other.name == m.name)
        return "member " + m.name + " is listed twice";
      if (other.host == m.host && other.port == m.port)
        return "members " + other.name + " and " + m.name
               + " share the address " + m.host + ":"
               + std::to_string(m.port);
    }
    result.members.push_back(std::move(m));
  }
  std::sort(result.members.begin(), result.members.end(),
            [](const member& x, const member& y) { return x.name < y.name; });
  auto self_in = std::any_of(result.members.begin(), result.members.end(),
                             [&](const member& m) {
                               return m.name == result.self;
                             });
  if (!self_in)
    return "self '" + result.self + "' is not among the members";
  out = std::move(result);
  return std::nullopt;
}

uint64_t membership_digest(const membership& m) {
  auto h = fnv1a("tmf629-cluster-" + std::to_string(m.epoch));
  for (const auto& x : m.members)
    h = fnv1a(x.name + "=" + x.host + ":" + std::to_string(x.port) + ";", h);
  return mix(h);
}

uint64_t rendezvous_score(uint16_t shard, std::string_view name) noexcept {
  return mix(fnv1a(name) ^ (uint64_t{shard} * 0x9e3779b97f4a7c15ull));
}

shard_table::shard_table(std::vector<std::string> names)
  : names_(std::move(names)), owners_(shard_count, 0) {
  for (uint16_t s = 0; s < shard_count; ++s) {
    uint64_t best = 0;
    for (size_t i = 0; i < names_.size(); ++i) {
      auto score = rendezvous_score(s, names_[i]);
      if (i == 0 || score > best) {
        best = score;
        owners_[s] = static_cast<uint32_t>(i);
      }
    }
  }
}

std::vector<uint16_t> shard_table::shards_of(size_t member) const {
  std::vector<uint16_t> out;
  for (uint16_t s = 0; s < shard_count; ++s)
    if (owners_[s] == member)
      out.push_back(s);
  return out;
}

std::string held_shard_key(uint16_t shard) {
  auto prefix = shard_prefix(shard); // "1a7-"
  return std::string{held_shard_prefix} + prefix.substr(0, 3);
}

std::optional<uint16_t> held_shard_of(std::string_view key) noexcept {
  if (key.size() != held_shard_prefix.size() + 3
      || key.substr(0, held_shard_prefix.size()) != held_shard_prefix)
    return std::nullopt;
  auto hex = key.substr(held_shard_prefix.size());
  for (auto c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return std::nullopt;
  auto shard = shard_of(hex);
  if (shard >= shard_count)
    return std::nullopt;
  return shard;
}

} // namespace tmf::domain
