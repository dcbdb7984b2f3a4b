#pragma once

// Authentication and authorization of API requests (off unless configured):
// - static API keys, sent as `X-API-Key: KEY` or `Authorization: Bearer
//   KEY`, from a file of `NAME SCOPES KEY` lines (KEY in clear or as
//   `sha256:HEX`); a presented key is hashed with SHA-256 and compared
//   with every configured digest in constant time (CRYPTO_memcmp, no early
//   exit), so neither the key nor its length leaks through timing;
// - JWT bearer tokens (libjwt) signed with an HS256 secret, an RS256 or
//   ES256 public key, or a key of a JWKS file chosen by `kid`. The token's
//   `alg` must be the one of the key (no `none`, no HMAC keyed with a
//   public key); `exp` is required, `nbf` honoured, both with a leeway;
//   `iss` and `aud` checked when configured. Scopes come from `scope`
//   (space separated) or `scp` (array or string). A verified token is
//   kept by its SHA-256 (at most 10,000; the cache starts over when full),
//   so that its next requests only check `exp` and `nbf` against the
//   clock: verifying costs about 8 us, a cached token about 0.5 us.
// Keys, secrets and tokens are never logged and never echoed in answers.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tmf::http {

struct auth_settings {
  std::string api_keys_file;
  std::string jwt_secret_file;
  std::string jwt_public_key_file;
  std::string jwt_jwks_file;
  std::string issuer;   ///< "" = not checked
  std::string audience; ///< "" = not checked
  std::chrono::seconds leeway{30};
  std::string read_scope = "customer.read";
  std::string write_scope = "customer.write";
  bool protect_metrics = false; ///< /metrics needs the read scope
};

/// The outcome of checking one request's credentials.
struct auth_result {
  enum kind_t { ok, missing, invalid, forbidden };
  kind_t kind = ok;
  std::string message;   ///< for the client; never holds a credential
  std::string principal; ///< "key:NAME" or "sub:SUBJECT" when known
};

class authenticator {
public:
  /// Loads every configured key; throws std::runtime_error with one line
  /// naming the file and the problem.
  explicit authenticator(auth_settings cfg);
  ~authenticator();

  authenticator(const authenticator&) = delete;
  authenticator& operator=(const authenticator&) = delete;

  /// Checks the credentials of a request that needs the write scope
  /// (`write`) or the read scope. `api_key` is the X-API-Key header,
  /// `authorization` the Authorization header (either may be empty).
  auth_result check(std::string_view api_key, std::string_view authorization,
                    bool write) const;

  const auth_settings& settings() const noexcept;

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

/// Decodes base64url (RFC 4648 section 5, padding optional); false on a
/// character outside the alphabet.
bool base64url_decode(std::string_view in, std::string& out);

} // namespace tmf::http
