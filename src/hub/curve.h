/* curve.h - CURVE (CurveZMQ, ZeroMQ RFC 26) on the bus sockets: key pairs
 * in czmq's certificate text format, keys given as files or as Z85 text,
 * and a ZAP handler (ZeroMQ RFC 27) that lets in the CURVE clients whose
 * public key is in an allowlist directory. The cryptography is libzmq's
 * (zmq_curve_keypair, zmq_curve_public, zmq_z85_*); nothing here encrypts.
 *
 * A key option's value is the key itself when it is 40 characters that
 * decode as Z85, and otherwise the path of a certificate file: a public one
 * (`public-key = "..."` in its `curve` section), or for a secret key a
 * secret one (also `secret-key = "..."`), which must not be readable or
 * writable by group or others. `hashspace keygen` writes both.
 *
 * Threads: the key functions are pure apart from the files they read and
 * may be called from any thread. An hs__curve_auth runs one thread of its
 * own (see curve.c's DESIGN); its functions are for the thread that made
 * it, except hs__curve_auth_failures, which any thread may call.
 */
#ifndef HS_HUB_CURVE_H
#define HS_HUB_CURVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HS__CURVE_Z85_LEN 40 /* characters of a key in Z85 */
#define HS__CURVE_KEY_BYTES 32

/* A public key, as Z85 text (NUL-terminated: what zmq_setsockopt takes). */
typedef struct hs__curve_key {
    char z85[HS__CURVE_Z85_LEN + 1];
} hs__curve_key;

/* A key pair: one's own identity on the bus. */
typedef struct hs__curve_pair {
    hs__curve_key public_key;
    char secret_z85[HS__CURVE_Z85_LEN + 1];
} hs__curve_pair;

/* Does this libzmq have CURVE (zmq_has("curve"))? */
bool hs__curve_available(void);

/* A fresh key pair from libzmq (zmq_curve_keypair). HS_OK, or HS_ESYSTEM
 * with a sentence in err. */
int hs__curve_pair_new(hs__curve_pair *out, char *err, size_t errlen);

/* Write a key pair as czmq writes a certificate: the public one to path
 * (mode 0644) and the secret one to path + "_secret" (mode 0600), each with
 * `metadata` (name, when not NULL) and `curve` sections. Refuses to replace
 * either file (HS_EIO, err says which exists); leaves neither behind on a failure. */
int hs__curve_cert_save(const char *path, const hs__curve_pair *pair, const char *name, char *err,
                        size_t errlen);

/* A public key from a spec (Z85 text or a certificate file, public or
 * secret). On error a sentence naming the file in err. */
int hs__curve_public_load(const char *spec, hs__curve_key *out, char *err, size_t errlen);
/* A key pair from a spec: Z85 text of the secret key, or a secret
 * certificate file, which must be a regular file with no permission for
 * group or others, and whose public key must be the secret key's. */
int hs__curve_secret_load(const char *spec, hs__curve_pair *out, char *err, size_t errlen);
/* Does spec give the key as text (rather than naming a file)? */
bool hs__curve_spec_is_text(const char *spec);

/* What a certificate file holds: czmq's text format (a `curve` section
 * with public-key and, in the secret file, secret-key), or a bare Z85 key
 * (taken as a public key). */
typedef struct hs__curve_cert {
    char public_z85[HS__CURVE_Z85_LEN + 1];
    char secret_z85[HS__CURVE_Z85_LEN + 1];
    bool has_public, has_secret;
} hs__curve_cert;
/* Parse a certificate's text (NUL-terminated; modified in place). path
 * names it in messages. HS_EPARSE with a sentence in err. Pure. */
int hs__curve_cert_parse(char *text, const char *path, hs__curve_cert *c, char *err, size_t errlen);

/* Socket roles. Both apply to the endpoints bound or connected after the
 * call (libzmq copies a socket's options into each endpoint), so one socket
 * may bind as a server and connect as a client. */
int hs__curve_set_server(void *socket, const hs__curve_pair *self, char *err, size_t errlen);
int hs__curve_set_client(void *socket, const hs__curve_pair *self, const hs__curve_key *server,
                         char *err, size_t errlen);

/* X(ENUM, label, help): why a CURVE handshake failed. */
#define HS__AUTH_FAILURE_MAP(X)                                                                    \
    X(KEY, "key", "a client key that is not in the allowlist")                                     \
    X(MECHANISM, "mechanism", "a peer without CURVE (or with another mechanism)")                  \
    X(HANDSHAKE, "handshake", "any other failed handshake (a wrong server key, garbage)")

typedef enum hs__auth_failure {
#define HS__AUTH_FAILURE_ENUM(e, label, help) HS__AUTH_FAILURE_##e,
    HS__AUTH_FAILURE_MAP(HS__AUTH_FAILURE_ENUM)
#undef HS__AUTH_FAILURE_ENUM
        HS__AUTH_FAILURE__COUNT
} hs__auth_failure;

extern const char *const hs__auth_failure_labels[HS__AUTH_FAILURE__COUNT];

/* The allowlist: every regular file in a directory (names starting with
 * '.' skipped) is a public certificate or a bare Z85 public key. A secret
 * certificate there is refused (it belongs to one host, not a list). */
typedef struct hs__curve_allow hs__curve_allow;
int hs__curve_allow_load(hs__curve_allow **out, const char *dir, char *err, size_t errlen);
size_t hs__curve_allow_count(const hs__curve_allow *allow);
/* The file that holds key (32 bytes), or NULL when it is not allowed. */
const char *hs__curve_allow_find(const hs__curve_allow *allow, const unsigned char *key);
void hs__curve_allow_free(hs__curve_allow *allow);

/* The ZAP handler of one ZeroMQ context, and the monitor of the sockets it
 * guards. */
typedef struct hs__curve_auth hs__curve_auth;
/* Bind inproc://zeromq.zap.01 in ctx and start the handler's thread. With
 * allow_dir, CURVE clients are let in when their key is in the directory's
 * allowlist; without it, every CURVE client is (encryption only). Call
 * before any socket of ctx binds as a CURVE server: libzmq lets every
 * client in when no handler is bound. who names what is refused in log
 * lines ("publisher", "subscriber"). */
int hs__curve_auth_start(hs__curve_auth **out, void *ctx, const char *allow_dir, const char *who,
                         char *err, size_t errlen);
/* Count (and log, rate-limited) the failed handshakes of socket; call
 * before it binds or connects. At most 8 sockets. */
int hs__curve_auth_watch(hs__curve_auth *a, void *socket, char *err, size_t errlen);
/* Reread the allowlist directory (SIGHUP). On an error the old list stays
 * and err names the file; *count is the number of keys now allowed. */
int hs__curve_auth_reload(hs__curve_auth *a, size_t *count, char *err, size_t errlen);
uint64_t hs__curve_auth_failures(const hs__curve_auth *a, hs__auth_failure why);
size_t hs__curve_auth_allowed(hs__curve_auth *a);
/* Stop the thread and close its sockets; before zmq_ctx_term. NULL is fine. */
void hs__curve_auth_stop(hs__curve_auth *a);

#endif
