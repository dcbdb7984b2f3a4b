#include "http/admission.hpp"

#include <cmath>
#include <string>

#include <restinio/all.hpp>

#include "http/auth.hpp"
#include "http/rate_limit.hpp"

namespace tmf::http {

namespace {

constexpr std::string_view realm = R"(Bearer realm="tmf629d")";

/// Writes need the write scope: every method but GET and HEAD, and the
/// event hub whatever the method.
bool needs_write(const exchange& ex) {
  const auto& header = ex.request()->header();
  if (header.method() != restinio::http_method_get()
      && header.method() != restinio::http_method_head())
    return true;
  const auto& base = ex.ctx().cfg.base_path;
  auto path = header.path();
  if (path.substr(0, base.size()) != base)
    return false;
  auto rest = path.substr(base.size());
  return rest == "/hub" || rest.substr(0, 5) == "/hub/";
}

/// A quoted-string value for WWW-Authenticate (no quotes or backslashes).
std::string quoted(std::string_view text) {
  std::string out;
  for (auto c : text)
    if (c != '"' && c != '\\')
      out += c;
  return out;
}

} // namespace

bool admit(const exchange_ptr& ex) {
  auto& ctx = ex->ctx();
  if (!ctx.cfg.auth && !ctx.cfg.rate_limit)
    return true;
  auth_result who;
  if (ctx.cfg.auth) {
    const auto& header = ex->request()->header();
    who = ctx.cfg.auth->check(header.get_field_or("X-API-Key", ""),
                              header.get_field_or(
                                restinio::http_field::authorization, ""),
                              needs_write(*ex));
  }
  if (ctx.cfg.rate_limit) {
    auto client
      = who.principal.empty()
          ? "ip:" + ex->request()->remote_endpoint().address().to_string()
          : who.principal;
    auto wait = ctx.cfg.rate_limit->acquire(client, clock::now());
    if (wait > 0) {
      auto seconds = std::max(1.0, std::ceil(wait));
      ex->fail(status::too_many_requests,
               "too many requests from this client; retry in "
                 + std::to_string(static_cast<long>(seconds)) + " s",
               {{"Retry-After", std::to_string(static_cast<long>(seconds))}});
      return false;
    }
  }
  switch (who.kind) {
    case auth_result::ok:
      return true;
    case auth_result::missing:
      ex->fail(status::unauthorized, who.message,
               {{"WWW-Authenticate", std::string{realm}}});
      return false;
    case auth_result::invalid:
      ex->fail(status::unauthorized, who.message,
               {{"WWW-Authenticate",
                 std::string{realm} + R"(, error="invalid_token", )"
                   + R"(error_description=")" + quoted(who.message)
                   + '"'}});
      return false;
    default: {
      const auto& s = ctx.cfg.auth->settings();
      auto scope = needs_write(*ex) ? s.write_scope : s.read_scope;
      ex->fail(status::forbidden, who.message,
               {{"WWW-Authenticate",
                 std::string{realm} + R"(, error="insufficient_scope", )"
                   + R"(scope=")" + quoted(scope) + '"'}});
      return false;
    }
  }
}

} // namespace tmf::http
