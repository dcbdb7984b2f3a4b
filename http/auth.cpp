#include "http/auth.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <ctime>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <unordered_map>

#include <jwt.h>
#include <nlohmann/json.hpp>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

namespace tmf::http {

namespace {

using json = nlohmann::json;
using digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

digest sha256(std::string_view text) {
  digest out;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(),
         out.data());
  return out;
}

std::string read_all(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

[[noreturn]] void bad_file(const std::string& path, const std::string& why) {
  throw std::runtime_error(path + ": " + why);
}

bool hex_digit(char c, unsigned& out) {
  if (c >= '0' && c <= '9')
    out = static_cast<unsigned>(c - '0');
  else if (c >= 'a' && c <= 'f')
    out = static_cast<unsigned>(c - 'a' + 10);
  else if (c >= 'A' && c <= 'F')
    out = static_cast<unsigned>(c - 'A' + 10);
  else
    return false;
  return true;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(sep, start);
    if (end == std::string_view::npos)
      end = text.size();
    if (end > start)
      out.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

struct api_key {
  std::string name;
  std::vector<std::string> scopes;
  digest hash;
};

/// Reads `NAME SCOPES KEY` lines ('#' starts a comment).
std::vector<api_key> load_api_keys(const std::string& path) {
  std::vector<api_key> keys;
  std::istringstream in{read_all(path)};
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    auto hash = line.find('#');
    if (hash != std::string::npos)
      line.erase(hash);
    std::istringstream fields{line};
    std::string name;
    std::string scopes;
    std::string key;
    std::string extra;
    if (!(fields >> name))
      continue;
    auto where = "line " + std::to_string(number);
    if (!(fields >> scopes >> key) || (fields >> extra))
      bad_file(path, where + ": expected NAME SCOPES KEY");
    api_key k;
    k.name = name;
    k.scopes = split(scopes, ',');
    if (key.rfind("sha256:", 0) == 0) {
      auto hex = key.substr(7);
      if (hex.size() != 2 * k.hash.size())
        bad_file(path, where + ": sha256: needs 64 hex digits");
      for (size_t i = 0; i < k.hash.size(); ++i) {
        unsigned hi = 0;
        unsigned lo = 0;
        if (!hex_digit(hex[2 * i], hi) || !hex_digit(hex[2 * i + 1], lo))
          bad_file(path, where + ": sha256: needs 64 hex digits");
        k.hash[i] = static_cast<unsigned char>(hi << 4 | lo);
      }
    } else {
      if (key.size() < 16)
        bad_file(path, where + ": a key needs at least 16 characters");
      k.hash = sha256(key);
    }
    keys.push_back(std::move(k));
  }
  if (keys.empty())
    bad_file(path, "no keys");
  return keys;
}

/// One key that verifies JWT signatures.
struct jwt_key {
  std::string kid;     ///< "" unless from a JWKS
  jwt_alg_t alg = JWT_ALG_NONE;
  std::string material; ///< the HMAC secret or the PEM public key
};

struct pkey_deleter {
  void operator()(EVP_PKEY* p) const {
    EVP_PKEY_free(p);
  }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, pkey_deleter>;

/// The JWT algorithm of a public key: RS256 for RSA, ES256 for EC P-256.
jwt_alg_t alg_of(EVP_PKEY* key, const std::string& where) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) < 2048)
        bad_file(where, "RSA keys need at least 2048 bits");
      return JWT_ALG_RS256;
    case EVP_PKEY_EC: {
      char group[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
                                         group, sizeof(group), &len)
            != 1
          || std::string{group} != "prime256v1")
        bad_file(where, "EC keys must be on P-256 (ES256)");
      return JWT_ALG_ES256;
    }
    default:
      bad_file(where, "only RSA and EC P-256 public keys are supported");
  }
}

std::string to_pem(EVP_PKEY* key) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{BIO_new(BIO_s_mem()),
                                                BIO_free};
  if (!bio || PEM_write_bio_PUBKEY(bio.get(), key) != 1)
    throw std::runtime_error("cannot encode a public key");
  char* data = nullptr;
  auto len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

jwt_key load_public_key(const std::string& path) {
  auto pem = read_all(path);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio{
    BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free};
  pkey_ptr key{PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr)};
  if (!key)
    bad_file(path, "not a PEM public key");
  return jwt_key{{}, alg_of(key.get(), path), to_pem(key.get())};
}

BIGNUM* bignum_of(const json& jwk, const char* member,
                  const std::string& where) {
  auto i = jwk.find(member);
  std::string bytes;
  if (i == jwk.end() || !i->is_string()
      || !base64url_decode(i->get<std::string>(), bytes) || bytes.empty())
    bad_file(where, std::string{"missing or bad \""} + member + "\"");
  return BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()),
                   static_cast<int>(bytes.size()), nullptr);
}

/// The public key of one JWK (RSA or EC P-256).
pkey_ptr key_of_jwk(const json& jwk, const std::string& where) {
  auto kty = jwk.value("kty", "");
  std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)> bld{
    OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free};
  std::unique_ptr<BIGNUM, decltype(&BN_free)> n{nullptr, BN_free};
  std::unique_ptr<BIGNUM, decltype(&BN_free)> e{nullptr, BN_free};
  std::string point;
  const char* type = nullptr;
  if (kty == "RSA") {
    type = "RSA";
    n.reset(bignum_of(jwk, "n", where));
    e.reset(bignum_of(jwk, "e", where));
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
  } else if (kty == "EC") {
    type = "EC";
    if (jwk.value("crv", "") != "P-256")
      bad_file(where, "EC keys must be on P-256 (ES256)");
    std::string x;
    std::string y;
    if (!base64url_decode(jwk.value("x", ""), x)
        || !base64url_decode(jwk.value("y", ""), y) || x.size() != 32
        || y.size() != 32)
      bad_file(where, "bad EC coordinates");
    point = std::string(1, '\x04') + x + y;
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                    "prime256v1", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                     point.data(), point.size());
  } else {
    bad_file(where, "only RSA and EC keys are supported");
  }
  std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)> params{
    OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free};
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx{
    EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free};
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
      || EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get())
           != 1)
    bad_file(where, "not a valid public key");
  return pkey_ptr{raw};
}

std::vector<jwt_key> load_jwks(const std::string& path) {
  auto doc = json::parse(read_all(path), nullptr, false);
  if (!doc.is_object() || !doc["keys"].is_array())
    bad_file(path, "expected a JWKS object {\"keys\":[...]}");
  std::vector<jwt_key> keys;
  for (const auto& jwk : doc["keys"]) {
    if (!jwk.is_object())
      bad_file(path, "every key must be an object");
    auto use = jwk.value("use", "sig");
    if (use != "sig")
      continue;
    auto where = path + " (kid \"" + jwk.value("kid", "") + "\")";
    auto key = key_of_jwk(jwk, where);
    jwt_key k{jwk.value("kid", ""), alg_of(key.get(), where),
              to_pem(key.get())};
    auto alg = jwk.value("alg", "");
    if (!alg.empty() && jwt_str_alg(alg.c_str()) != k.alg)
      bad_file(where, "alg " + alg + " does not fit the key");
    keys.push_back(std::move(k));
  }
  if (keys.empty())
    bad_file(path, "no signing keys");
  return keys;
}

/// The credential in `Authorization: Bearer X`, or "".
std::string_view bearer(std::string_view authorization) {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size())
    return {};
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i]))
        != scheme[i])
      return {};
  auto token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  return token;
}

bool has_scope(const std::vector<std::string>& scopes,
               const std::string& wanted) {
  return std::find(scopes.begin(), scopes.end(), wanted) != scopes.end();
}

auth_result invalid(std::string why) {
  return {auth_result::invalid, std::move(why), {}};
}

struct jwt_deleter {
  void operator()(jwt_t* p) const {
    jwt_free(p);
  }
};

} // namespace

bool base64url_decode(std::string_view in, std::string& out) {
  out.clear();
  while (!in.empty() && in.back() == '=')
    in.remove_suffix(1);
  uint32_t acc = 0;
  int bits = 0;
  for (auto c : in) {
    uint32_t v;
    if (c >= 'A' && c <= 'Z')
      v = static_cast<uint32_t>(c - 'A');
    else if (c >= 'a' && c <= 'z')
      v = static_cast<uint32_t>(c - 'a' + 26);
    else if (c >= '0' && c <= '9')
      v = static_cast<uint32_t>(c - '0' + 52);
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return false;
    acc = acc << 6 | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return bits < 6; // a lone trailing character is malformed
}

/// What a verified JWT grants, kept so that the next request with the
/// same token skips the signature and the parsing.
struct verified_token {
  std::vector<std::string> scopes;
  std::string principal;
  double exp = 0;
  bool has_nbf = false;
  double nbf = 0;
};

struct authenticator::impl {
  /// Verified tokens kept at most; when full the cache starts over.
  static constexpr size_t cache_capacity = 10000;

  auth_settings cfg;
  std::vector<api_key> keys;
  std::vector<jwt_key> jwt_keys;
  mutable std::mutex cache_mtx;
  /// SHA-256 of a token -> what it grants.
  mutable std::unordered_map<std::string, verified_token> cache;

  auth_result check_key(std::string_view presented, bool write) const {
    auto hash = sha256(presented);
    const api_key* found = nullptr;
    for (const auto& k : keys) // every digest, no early exit
      if (CRYPTO_memcmp(hash.data(), k.hash.data(), hash.size()) == 0)
        found = &k;
    if (found == nullptr)
      return invalid("the API key is not valid");
    return authorize(found->scopes, "key:" + found->name, write);
  }

  auth_result authorize(const std::vector<std::string>& scopes,
                        std::string principal, bool write) const {
    const auto& wanted = write ? cfg.write_scope : cfg.read_scope;
    if (!has_scope(scopes, wanted))
      return {auth_result::forbidden, "this request needs the scope " + wanted,
              std::move(principal)};
    return {auth_result::ok, {}, std::move(principal)};
  }

  /// The key that must have signed a token with header `head`.
  const jwt_key* key_for(const json& head, std::string& why) const {
    auto alg_name = head.value("alg", "");
    auto alg = jwt_str_alg(alg_name.c_str());
    auto kid = head.value("kid", "");
    const jwt_key* match = nullptr;
    for (const auto& k : jwt_keys) {
      if (!kid.empty() && !k.kid.empty() && k.kid != kid)
        continue;
      if (k.alg != alg)
        continue;
      if (match != nullptr) {
        why = "the token names no kid and several keys fit";
        return nullptr;
      }
      match = &k;
    }
    if (match == nullptr)
      why = "no configured key verifies alg \"" + alg_name + "\""
            + (kid.empty() ? "" : " with this kid");
    return match;
  }

  /// Checks the time claims of a verified token against the clock.
  std::optional<auth_result> check_times(const verified_token& t) const {
    auto now = static_cast<double>(std::time(nullptr));
    auto leeway = static_cast<double>(cfg.leeway.count());
    if (now > t.exp + leeway)
      return invalid("the token has expired");
    if (t.has_nbf && now + leeway < t.nbf)
      return invalid("the token is not valid yet (nbf)");
    return std::nullopt;
  }

  /// Verifies `token` once: the signature and every claim; a token seen
  /// before (same bytes, same SHA-256) only has its times checked again.
  auth_result check_jwt(std::string_view token, bool write) const {
    auto digest = sha256(token);
    std::string key(reinterpret_cast<const char*>(digest.data()),
                    digest.size());
    std::optional<verified_token> hit;
    {
      std::lock_guard<std::mutex> guard{cache_mtx};
      if (auto i = cache.find(key); i != cache.end())
        hit = i->second;
    }
    if (!hit) {
      verified_token fresh;
      if (auto err = verify_jwt(token, fresh))
        return std::move(*err);
      std::lock_guard<std::mutex> guard{cache_mtx};
      if (cache.size() >= cache_capacity)
        cache.clear(); // bounded: start over rather than grow
      hit = cache.emplace(std::move(key), std::move(fresh)).first->second;
    }
    if (auto err = check_times(*hit))
      return std::move(*err);
    return authorize(hit->scopes, hit->principal, write);
  }

  /// Verifies the signature and the claims of `token` and fills `out`;
  /// returns the refusal when it does not pass.
  std::optional<auth_result> verify_jwt(std::string_view token,
                                        verified_token& out) const {
    auto dot = token.find('.');
    std::string head_text;
    if (dot == std::string_view::npos
        || !base64url_decode(token.substr(0, dot), head_text))
      return invalid("the token is not a JWT");
    auto head = json::parse(head_text, nullptr, false);
    if (!head.is_object())
      return invalid("the token's header is not JSON");
    std::string why;
    const auto* key = key_for(head, why);
    if (key == nullptr)
      return invalid(std::move(why));
    std::string text{token};
    jwt_t* raw = nullptr;
    auto rc = jwt_decode(
      &raw, text.c_str(),
      reinterpret_cast<const unsigned char*>(key->material.data()),
      static_cast<int>(key->material.size()));
    std::unique_ptr<jwt_t, jwt_deleter> jwt{raw};
    if (rc != 0 || !jwt || jwt_get_alg(jwt.get()) != key->alg)
      return invalid("the token's signature does not verify");
    std::unique_ptr<char, decltype(&free)> grants{
      jwt_get_grants_json(jwt.get(), nullptr), free};
    auto claims = grants ? json::parse(grants.get(), nullptr, false)
                         : json{};
    if (!claims.is_object())
      return invalid("the token's claims are not a JSON object");
    auto exp = claims.find("exp");
    if (exp == claims.end() || !exp->is_number())
      return invalid("the token has no exp claim");
    out.exp = exp->get<double>();
    auto nbf = claims.find("nbf");
    if (nbf != claims.end()) {
      if (!nbf->is_number())
        return invalid("the token's nbf claim is not a number");
      out.has_nbf = true;
      out.nbf = nbf->get<double>();
    }
    if (auto err = check_times(out))
      return err;
    if (!cfg.issuer.empty() && claims.value("iss", "") != cfg.issuer)
      return invalid("the token's issuer is not accepted");
    if (!cfg.audience.empty()) {
      auto aud = claims.find("aud");
      bool ok = false;
      if (aud != claims.end() && aud->is_string())
        ok = *aud == cfg.audience;
      else if (aud != claims.end() && aud->is_array())
        for (const auto& a : *aud)
          ok = ok || (a.is_string() && a == cfg.audience);
      if (!ok)
        return invalid("the token is not meant for this audience");
    }
    std::vector<std::string> scopes;
    if (auto s = claims.find("scope"); s != claims.end() && s->is_string())
      scopes = split(s->get<std::string>(), ' ');
    if (auto s = claims.find("scp"); s != claims.end()) {
      if (s->is_string())
        for (auto& x : split(s->get<std::string>(), ' '))
          scopes.push_back(std::move(x));
      else if (s->is_array())
        for (const auto& x : *s)
          if (x.is_string())
            scopes.push_back(x.get<std::string>());
    }
    auto sub = claims.value("sub", "");
    if (sub.size() > 256)
      sub.resize(256);
    out.scopes = std::move(scopes);
    out.principal = "sub:" + sub;
    return std::nullopt;
  }
};

authenticator::authenticator(auth_settings cfg)
  : impl_(std::make_unique<impl>()) {
  auto& st = *impl_;
  st.cfg = std::move(cfg);
  if (!st.cfg.api_keys_file.empty())
    st.keys = load_api_keys(st.cfg.api_keys_file);
  if (!st.cfg.jwt_secret_file.empty()) {
    auto secret = read_all(st.cfg.jwt_secret_file);
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r'))
      secret.pop_back();
    if (secret.size() < 32)
      bad_file(st.cfg.jwt_secret_file,
               "an HS256 secret needs at least 32 bytes");
    st.jwt_keys.push_back(jwt_key{{}, JWT_ALG_HS256, std::move(secret)});
  }
  if (!st.cfg.jwt_public_key_file.empty())
    st.jwt_keys.push_back(load_public_key(st.cfg.jwt_public_key_file));
  if (!st.cfg.jwt_jwks_file.empty())
    st.jwt_keys = load_jwks(st.cfg.jwt_jwks_file);
}

authenticator::~authenticator() {
  // nop
}

const auth_settings& authenticator::settings() const noexcept {
  return impl_->cfg;
}

auth_result authenticator::check(std::string_view api_key,
                                 std::string_view authorization,
                                 bool write) const {
  const auto& st = *impl_;
  if (!authorization.empty()) {
    auto token = bearer(authorization);
    if (token.empty())
      return invalid("the Authorization header must be \"Bearer <token>\"");
    // Three dot-separated parts are taken for a JWT when JWT keys are
    // configured; anything else for an API key.
    if (!st.jwt_keys.empty()
        && std::count(token.begin(), token.end(), '.') == 2)
      return st.check_jwt(token, write);
    if (!st.keys.empty())
      return st.check_key(token, write);
    return invalid("the bearer token is not valid");
  }
  if (!api_key.empty()) {
    if (st.keys.empty())
      return invalid("API keys are not accepted here");
    return st.check_key(api_key, write);
  }
  return {auth_result::missing, "this API needs credentials", {}};
}

} // namespace tmf::http
