#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

/* Function-like macros are invisible to Swift; these inline wrappers expose them. */
static inline long swift_arrow_flight_SSL_set_tlsext_host_name(SSL *ssl, const char *name) {
    return SSL_set_tlsext_host_name(ssl, name);
}
static inline long swift_arrow_flight_SSL_set_mode(SSL *ssl, long mode) {
    return SSL_set_mode(ssl, mode);
}
static inline long swift_arrow_flight_SSL_CTX_set_min_proto_version(SSL_CTX *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version);
}
static const uint64_t swift_arrow_flight_SSL_OP_NO_COMPRESSION = SSL_OP_NO_COMPRESSION;
static const uint64_t swift_arrow_flight_SSL_OP_NO_RENEGOTIATION = SSL_OP_NO_RENEGOTIATION;

/* Initialises OpenSSL without its exit-time cleanup: that cleanup frees OpenSSL's global
   state while other threads (event loops, handler tasks) may still use it, which crashes a
   server that exits after a TLS shutdown. Must be the first OpenSSL call of the process. */
static inline int swift_arrow_flight_openssl_init(void) {
    return OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
}
