// Works around a defect of caf_openssl 0.17.6 as Debian builds it: one
// failed TLS handshake on a node's CAF port (a peer with a certificate of
// another CA, or any client without a certificate) made the node drop a
// healthy link to another node, and a refused peer that redials every
// retry period made the healthy links flap every time.
//
// Why: OpenSSL keeps one error queue per thread, and SSL_get_error()
// answers SSL_ERROR_SSL whenever that queue is not empty, whatever the
// session (SSL_get_error(3): "the current thread's error queue must be
// empty before the TLS/SSL I/O operation is attempted"). caf_openssl runs
// every session on the middleman's one thread and drains the queue only in
// `get_ssl_error()`, which it calls only inside CAF_LOG_* statements; the
// Debian build compiles logging out (CAF_LOG_LEVEL_QUIET), so the error of
// the failed handshake stays queued, and the next session on that thread
// whose read merely would block is taken for failed and closed.
//
// What: the executable defines the four I/O entry points caf_openssl calls
// (and libcurl, which clears the queue itself before them anyway). The
// dynamic linker binds the libraries' calls to these definitions; each
// empties the calling thread's error queue, as OpenSSL requires, and calls
// the real function. Nothing else changes.

#include <dlfcn.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace {

template <class Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

} // namespace

extern "C" {

int SSL_read(SSL* ssl, void* buf, int num) {
  static auto fn = real<int (*)(SSL*, void*, int)>("SSL_read");
  ERR_clear_error();
  return fn(ssl, buf, num);
}

int SSL_write(SSL* ssl, const void* buf, int num) {
  static auto fn = real<int (*)(SSL*, const void*, int)>("SSL_write");
  ERR_clear_error();
  return fn(ssl, buf, num);
}

int SSL_accept(SSL* ssl) {
  static auto fn = real<int (*)(SSL*)>("SSL_accept");
  ERR_clear_error();
  return fn(ssl);
}

int SSL_connect(SSL* ssl) {
  static auto fn = real<int (*)(SSL*)>("SSL_connect");
  ERR_clear_error();
  return fn(ssl);
}

} // extern "C"
