/* curve.c - CURVE keys and certificates, socket roles, and the ZAP handler
 * with its allowlist (curve.h says what each does).
 *
 * DESIGN: an hs__curve_auth owns one thread. The thread owns the ZAP
 * socket (a REP bound to inproc://zeromq.zap.01 by hs__curve_auth_start,
 * in the caller's thread, so that it exists before any CURVE server socket
 * of the context binds; the thread creation hands it over) and the PAIR
 * sockets that read the monitors of the watched sockets (made by
 * hs__curve_auth_watch in the caller's thread and handed over through
 * `pending`, under `lock`). It polls them all every 100 ms at most and
 * leaves when `stop` is set. `lock` also guards the allowlist, which the
 * thread reads for each handshake and hs__curve_auth_reload (another
 * thread) replaces whole. Failures are counted from the monitors' events
 * only (a refused key is also seen by the ZAP handler, which logs it with
 * the key and the peer's address); the counters are atomics.
 */
#include "curve.h"

#include "log.h"

#include "hashspace/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define CERT_MAX_BYTES 65536
#define AUTH_MAX_WATCHED 8

const char *const hs__auth_failure_labels[HS__AUTH_FAILURE__COUNT] = {
#define HS__AUTH_FAILURE_LABEL(e, label, help) label,
    HS__AUTH_FAILURE_MAP(HS__AUTH_FAILURE_LABEL)
#undef HS__AUTH_FAILURE_LABEL
};

bool hs__curve_available(void)
{
    return zmq_has("curve") != 0;
}

/* 40 characters that decode as Z85 into 32 bytes (bytes may be NULL). */
static bool z85_key(const char *text, unsigned char *bytes)
{
    unsigned char scratch[HS__CURVE_KEY_BYTES];
    if (text == NULL || strlen(text) != HS__CURVE_Z85_LEN)
        return false;
    return zmq_z85_decode(bytes != NULL ? bytes : scratch, text) != NULL;
}

bool hs__curve_spec_is_text(const char *spec)
{
    return z85_key(spec, NULL);
}

int hs__curve_pair_new(hs__curve_pair *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (zmq_curve_keypair(out->public_key.z85, out->secret_z85) != 0) {
        snprintf(err, errlen, "cannot make a CURVE key pair: %s%s", zmq_strerror(zmq_errno()),
                 hs__curve_available() ? "" : " (this libzmq has no CURVE)");
        return HS_ESYSTEM;
    }
    return HS_OK;
}

/* ---- certificates (czmq's zcert text, ZeroMQ RFC 4 ZPL) ---- */

typedef hs__curve_cert cert;

/* "    name = value" or "name = "value"": the value into out; false when
 * the line is not a name = value pair. */
static bool zpl_pair(const char *line, char *name, size_t namelen, char *out, size_t outlen)
{
    line += strspn(line, " ");
    size_t n = strcspn(line, " =");
    if (n == 0 || n >= namelen)
        return false;
    memcpy(name, line, n);
    name[n] = '\0';
    line += n;
    line += strspn(line, " ");
    if (*line != '=')
        return false;
    line++;
    line += strspn(line, " ");
    size_t len;
    if (*line == '"' || *line == '\'') {
        const char *end = strchr(line + 1, *line);
        if (end == NULL)
            return false;
        len = (size_t)(end - line - 1);
        line++;
    } else {
        len = strcspn(line, "#");
        while (len > 0 && line[len - 1] == ' ')
            len--;
    }
    if (len >= outlen)
        return false;
    memcpy(out, line, len);
    out[len] = '\0';
    return true;
}

/* Parse a certificate's text (or a bare Z85 key, taken as a public key). */
int hs__curve_cert_parse(char *text, const char *path, hs__curve_cert *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    bool in_curve = false, any_section = false;
    int lineno = 0;
    for (char *save = NULL, *line = strtok_r(text, "\n", &save); line != NULL;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        line[strcspn(line, "\r")] = '\0';
        size_t indent = strspn(line, " ");
        if (line[indent] == '\0' || line[indent] == '#')
            continue;
        if (indent == 0) {
            size_t n = strcspn(line, " =#");
            in_curve = n == 5 && strncmp(line, "curve", 5) == 0;
            any_section = true;
            continue;
        }
        char name[64], value[128];
        if (!in_curve || !zpl_pair(line, name, sizeof name, value, sizeof value))
            continue;
        bool pub = strcmp(name, "public-key") == 0, sec = strcmp(name, "secret-key") == 0;
        if (!pub && !sec)
            continue;
        if (!z85_key(value, NULL)) {
            snprintf(err, errlen, "%s: line %d: %s is not a key (40 characters of Z85)", path,
                     lineno, name);
            return HS_EPARSE;
        }
        memcpy(pub ? c->public_z85 : c->secret_z85, value, HS__CURVE_Z85_LEN + 1);
        *(pub ? &c->has_public : &c->has_secret) = true;
    }
    if (!any_section) {
        /* A file holding just the key. */
        char *t = text + strspn(text, " \t\r\n");
        size_t len = strcspn(t, " \t\r\n");
        t[len] = '\0';
        if (z85_key(t, NULL)) {
            memcpy(c->public_z85, t, HS__CURVE_Z85_LEN + 1);
            c->has_public = true;
        }
    }
    if (!c->has_public && !c->has_secret) {
        snprintf(err, errlen,
                 "%s: not a CURVE certificate (no public-key in a curve section; "
                 "`hashspace keygen` writes them)",
                 path);
        return HS_EPARSE;
    }
    return HS_OK;
}

/* Read a certificate file; with secret, the file must be private. */
static int cert_read(const char *path, bool secret, cert *c, char *err, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot read the key file: %s", path, strerror(errno));
        return HS_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "%s: not a key file (not a regular file)", path);
        close(fd);
        return HS_EIO;
    }
    if (secret && (st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "%s: a secret key file must be readable by its owner only (mode %04o; "
                 "chmod 600 %s)",
                 path, (unsigned)(st.st_mode & 07777), path);
        close(fd);
        return HS_EINVAL;
    }
    if (st.st_size > CERT_MAX_BYTES) {
        snprintf(err, errlen, "%s: not a key file (%lld bytes)", path, (long long)st.st_size);
        close(fd);
        return HS_EIO;
    }
    char *text = malloc((size_t)st.st_size + 1);
    ssize_t got = text != NULL ? read(fd, text, (size_t)st.st_size) : -1;
    int e = errno;
    close(fd);
    if (got < 0) {
        snprintf(err, errlen, "%s: cannot read the key file: %s", path,
                 text == NULL ? "out of memory" : strerror(e));
        free(text);
        return HS_EIO;
    }
    text[got] = '\0';
    int rc = hs__curve_cert_parse(text, path, c, err, errlen);
    free(text);
    return rc;
}

int hs__curve_public_load(const char *spec, hs__curve_key *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (z85_key(spec, NULL)) {
        memcpy(out->z85, spec, HS__CURVE_Z85_LEN + 1);
        return HS_OK;
    }
    if (spec == NULL || spec[0] == '\0') {
        snprintf(err, errlen, "no key given (a certificate file or 40 characters of Z85)");
        return HS_EINVAL;
    }
    cert c;
    int rc = cert_read(spec, false, &c, err, errlen);
    if (rc != HS_OK)
        return rc;
    if (!c.has_public) {
        snprintf(err, errlen, "%s: no public-key in the certificate", spec);
        return HS_EPARSE;
    }
    memcpy(out->z85, c.public_z85, sizeof out->z85);
    return HS_OK;
}

int hs__curve_secret_load(const char *spec, hs__curve_pair *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *what = "the secret key";
    char secret[HS__CURVE_Z85_LEN + 1], claimed[HS__CURVE_Z85_LEN + 1] = "";
    if (z85_key(spec, NULL)) {
        memcpy(secret, spec, sizeof secret);
    } else {
        if (spec == NULL || spec[0] == '\0') {
            snprintf(err, errlen,
                     "no secret key given (a secret certificate file, e.g. from "
                     "`hashspace keygen`)");
            return HS_EINVAL;
        }
        cert c;
        int rc = cert_read(spec, true, &c, err, errlen);
        if (rc != HS_OK)
            return rc;
        if (!c.has_secret) {
            snprintf(err, errlen,
                     "%s: a public certificate, no secret-key in it (give the _secret file)", spec);
            return HS_EPARSE;
        }
        memcpy(secret, c.secret_z85, sizeof secret);
        if (c.has_public)
            memcpy(claimed, c.public_z85, sizeof claimed);
        what = spec;
    }
    if (zmq_curve_public(out->public_key.z85, secret) != 0) {
        snprintf(err, errlen, "%s: cannot derive the public key: %s", what,
                 zmq_strerror(zmq_errno()));
        return HS_ESYSTEM;
    }
    if (claimed[0] != '\0' && strcmp(claimed, out->public_key.z85) != 0) {
        snprintf(err, errlen,
                 "%s: its public-key is not the secret key's (a damaged or edited file)", spec);
        return HS_EPARSE;
    }
    memcpy(out->secret_z85, secret, sizeof secret);
    return HS_OK;
}

static int write_all(int fd, const char *text)
{
    size_t len = strlen(text), done = 0;
    while (done < len) {
        ssize_t n = write(fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return 0;
}

/* Create path (O_EXCL: never replace) with mode and text. */
static int write_new(const char *path, unsigned mode, const char *text, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s%s", path, strerror(errno),
                 errno == EEXIST ? " (keygen does not replace a key; remove it first)" : "");
        return HS_EIO;
    }
    if (fchmod(fd, mode) != 0 || write_all(fd, text) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        close(fd);
        unlink(path);
        return HS_EIO;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
        unlink(path);
        return HS_EIO;
    }
    return HS_OK;
}

int hs__curve_cert_save(const char *path, const hs__curve_pair *pair, const char *name, char *err,
                        size_t errlen)
{
    char secret_path[4096];
    if ((size_t)snprintf(secret_path, sizeof secret_path, "%s_secret", path) >=
        sizeof secret_path) {
        snprintf(err, errlen, "%s: path too long", path);
        return HS_EINVAL;
    }
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    char metadata[512] = "metadata\n";
    if (name != NULL && name[0] != '\0')
        snprintf(metadata, sizeof metadata, "metadata\n    name = \"%s\"\n", name);
    char pub[2048], sec[2048];
    snprintf(pub, sizeof pub,
             "#   ****  Generated on %s by hashspace keygen  ****\n"
             "#   ZeroMQ CURVE Public Certificate\n"
             "#   Exchange securely, or use a secure mechanism to verify the contents\n"
             "#   of this file after exchange.\n\n"
             "%scurve\n    public-key = \"%s\"\n",
             when, metadata, pair->public_key.z85);
    snprintf(sec, sizeof sec,
             "#   ****  Generated on %s by hashspace keygen  ****\n"
             "#   ZeroMQ CURVE **Secret** Certificate\n"
             "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n"
             "%scurve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n",
             when, metadata, pair->public_key.z85, pair->secret_z85);
    struct stat st;
    if (lstat(path, &st) == 0 || lstat(secret_path, &st) == 0) {
        snprintf(err, errlen, "%s: exists (keygen does not replace a key; remove it first)",
                 lstat(path, &st) == 0 ? path : secret_path);
        return HS_EIO;
    }
    int rc = write_new(secret_path, 0600, sec, err, errlen);
    if (rc != HS_OK)
        return rc;
    rc = write_new(path, 0644, pub, err, errlen);
    if (rc != HS_OK)
        unlink(secret_path);
    explicit_bzero(sec, sizeof sec);
    return rc;
}

/* ---- socket roles ---- */

static int sockopt(void *socket, int option, const void *value, size_t len, const char *what,
                   char *err, size_t errlen)
{
    if (zmq_setsockopt(socket, option, value, len) == 0)
        return HS_OK;
    snprintf(err, errlen, "CURVE: cannot set %s: %s%s", what, zmq_strerror(zmq_errno()),
             hs__curve_available() ? "" : " (this libzmq has no CURVE)");
    return HS_ESYSTEM;
}

int hs__curve_set_server(void *socket, const hs__curve_pair *self, char *err, size_t errlen)
{
    int one = 1;
    static const char domain[] = "hashspace";
    int rc = sockopt(socket, ZMQ_CURVE_SERVER, &one, sizeof one, "ZMQ_CURVE_SERVER", err, errlen);
    if (rc == HS_OK)
        rc = sockopt(socket, ZMQ_CURVE_SECRETKEY, self->secret_z85, HS__CURVE_Z85_LEN + 1,
                     "ZMQ_CURVE_SECRETKEY", err, errlen);
    if (rc == HS_OK)
        rc = sockopt(socket, ZMQ_ZAP_DOMAIN, domain, sizeof domain - 1, "ZMQ_ZAP_DOMAIN", err,
                     errlen);
    return rc;
}

int hs__curve_set_client(void *socket, const hs__curve_pair *self, const hs__curve_key *server,
                         char *err, size_t errlen)
{
    int rc = sockopt(socket, ZMQ_CURVE_SERVERKEY, server->z85, HS__CURVE_Z85_LEN + 1,
                     "ZMQ_CURVE_SERVERKEY", err, errlen);
    if (rc == HS_OK)
        rc = sockopt(socket, ZMQ_CURVE_PUBLICKEY, self->public_key.z85, HS__CURVE_Z85_LEN + 1,
                     "ZMQ_CURVE_PUBLICKEY", err, errlen);
    if (rc == HS_OK)
        rc = sockopt(socket, ZMQ_CURVE_SECRETKEY, self->secret_z85, HS__CURVE_Z85_LEN + 1,
                     "ZMQ_CURVE_SECRETKEY", err, errlen);
    return rc;
}

/* ---- the allowlist ---- */

typedef struct allowed {
    unsigned char key[HS__CURVE_KEY_BYTES];
    char *file;
} allowed;

struct hs__curve_allow {
    allowed *keys;
    size_t n;
};

void hs__curve_allow_free(hs__curve_allow *allow)
{
    if (allow == NULL)
        return;
    for (size_t i = 0; i < allow->n; i++)
        free(allow->keys[i].file);
    free(allow->keys);
    free(allow);
}

int hs__curve_allow_load(hs__curve_allow **out, const char *dir, char *err, size_t errlen)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (d == NULL) {
        snprintf(err, errlen, "%s: cannot read the allowlist directory: %s", dir, strerror(errno));
        return HS_EIO;
    }
    hs__curve_allow *a = calloc(1, sizeof *a);
    int rc = a != NULL ? HS_OK : HS_ENOMEM;
    size_t cap = 0;
    struct dirent *e;
    while (rc == HS_OK && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        cert c;
        if ((rc = cert_read(path, false, &c, err, errlen)) != HS_OK)
            break;
        if (c.has_secret) {
            snprintf(err, errlen,
                     "%s: a secret certificate in the allowlist directory (it holds public "
                     "ones: copy the file without _secret, and keep this one private)",
                     path);
            rc = HS_EINVAL;
            break;
        }
        if (a->n == cap) {
            size_t ncap = cap > 0 ? cap * 2 : 16;
            allowed *keys = realloc(a->keys, ncap * sizeof *keys);
            if (keys == NULL) {
                rc = HS_ENOMEM;
                break;
            }
            a->keys = keys, cap = ncap;
        }
        allowed *k = &a->keys[a->n];
        if ((k->file = strdup(path)) == NULL) {
            rc = HS_ENOMEM;
            break;
        }
        zmq_z85_decode(k->key, c.public_z85);
        a->n++;
    }
    closedir(d);
    if (rc == HS_ENOMEM)
        snprintf(err, errlen, "%s: out of memory", dir);
    if (rc != HS_OK) {
        hs__curve_allow_free(a);
        return rc;
    }
    *out = a;
    return HS_OK;
}

size_t hs__curve_allow_count(const hs__curve_allow *allow)
{
    return allow != NULL ? allow->n : 0;
}

const char *hs__curve_allow_find(const hs__curve_allow *allow, const unsigned char *key)
{
    for (size_t i = 0; allow != NULL && i < allow->n; i++)
        if (memcmp(allow->keys[i].key, key, HS__CURVE_KEY_BYTES) == 0)
            return allow->keys[i].file;
    return NULL;
}

/* ---- the ZAP handler and the monitors ---- */

struct hs__curve_auth {
    void *ctx;
    void *zap;                       /* the thread's */
    void *watched[AUTH_MAX_WATCHED]; /* monitor PAIRs, the thread's */
    size_t nwatched;                 /* the thread's */
    void *pending[AUTH_MAX_WATCHED]; /* handed over to the thread; lock */
    size_t npending, nmonitors;      /* lock; nmonitors: every watch so far */
    pthread_mutex_t lock;
    hs__curve_allow *allow; /* lock; NULL: any key */
    char *dir;
    const char *who;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    int wake_fd; /* eventfd: a socket to watch, or stop (the thread waits without a timeout) */
    unsigned denied_unmatched; /* the thread's: ZAP denials whose event is still to come */
    atomic_uint_fast64_t failures[HS__AUTH_FAILURE__COUNT];
    hs__log_rate rate;
};

static void send_frame(void *s, const void *data, size_t len, bool more)
{
    zmq_send(s, data, len, more ? ZMQ_SNDMORE : 0);
}

/* One ZAP request (RFC 27): version, request id, domain, address, routing
 * id, mechanism, credentials; the reply: version, request id, status code,
 * status text, user id, metadata. */
static void zap_answer(hs__curve_auth *a)
{
    enum { MAX_FRAMES = 8 };
    zmq_msg_t f[MAX_FRAMES];
    size_t n = 0;
    bool more = true;
    while (more) {
        zmq_msg_t *m = &f[n < MAX_FRAMES ? n : MAX_FRAMES - 1];
        if (n >= MAX_FRAMES)
            zmq_msg_close(m);
        zmq_msg_init(m);
        if (zmq_msg_recv(m, a->zap, 0) < 0) {
            zmq_msg_close(m);
            break;
        }
        more = zmq_msg_more(m);
        if (n < MAX_FRAMES)
            n++;
    }
    if (n < 2) {
        for (size_t i = 0; i < n; i++)
            zmq_msg_close(&f[i]);
        return;
    }
#define FRAME_IS(i, text)                                                                          \
    (n > (i) && zmq_msg_size(&f[i]) == sizeof text - 1 &&                                          \
     memcmp(zmq_msg_data(&f[i]), text, sizeof text - 1) == 0)
    const char *status = "400", *text = "key not allowed";
    char address[128] = "?", mechanism[32] = "?", user[256] = "";
    if (n > 3)
        snprintf(address, sizeof address, "%.*s", (int)zmq_msg_size(&f[3]),
                 (const char *)zmq_msg_data(&f[3]));
    if (n > 5)
        snprintf(mechanism, sizeof mechanism, "%.*s", (int)zmq_msg_size(&f[5]),
                 (const char *)zmq_msg_data(&f[5]));
    if (!FRAME_IS(0, "1.0")) {
        text = "unknown ZAP version";
    } else if (!FRAME_IS(5, "CURVE") || n < 7 || zmq_msg_size(&f[6]) != HS__CURVE_KEY_BYTES) {
        text = "CURVE only";
        hs__log_rated(&a->rate, HS__LOG_WARN, "bus: refused a %s at %s: mechanism %s, not CURVE",
                      a->who, address, mechanism);
        a->denied_unmatched++;
    } else {
        const unsigned char *key = zmq_msg_data(&f[6]);
        char z85[HS__CURVE_Z85_LEN + 1];
        zmq_z85_encode(z85, key, HS__CURVE_KEY_BYTES);
        pthread_mutex_lock(&a->lock);
        const char *file = a->allow != NULL ? hs__curve_allow_find(a->allow, key) : "";
        if (file != NULL) {
            status = "200", text = "OK";
            /* The key's file names the peer (ZeroMQ's User-Id property). */
            const char *slash = strrchr(file, '/');
            snprintf(user, sizeof user, "%s", slash != NULL ? slash + 1 : file);
            hs__debug("bus: let in a %s at %s with key %s (%s)", a->who, address, z85,
                      file[0] != '\0' ? file : "any key allowed");
        } else {
            hs__log_rated(&a->rate, HS__LOG_WARN,
                          "bus: refused a %s at %s: its key %s is not in the allowlist %s", a->who,
                          address, z85, a->dir != NULL ? a->dir : "");
            a->denied_unmatched++;
        }
        pthread_mutex_unlock(&a->lock);
    }
#undef FRAME_IS
    send_frame(a->zap, "1.0", 3, true);
    send_frame(a->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), true);
    send_frame(a->zap, status, 3, true);
    send_frame(a->zap, text, strlen(text), true);
    send_frame(a->zap, user, strlen(user), true);
    send_frame(a->zap, "", 0, false);
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&f[i]);
}

/* One monitor event: [event (2 bytes) + value (4 bytes), endpoint]. */
static void monitor_event(hs__curve_auth *a, void *pair)
{
    zmq_msg_t ev, addr;
    zmq_msg_init(&ev);
    zmq_msg_init(&addr);
    if (zmq_msg_recv(&ev, pair, 0) < 0) {
        zmq_msg_close(&ev);
        zmq_msg_close(&addr);
        return;
    }
    if (zmq_msg_more(&ev))
        zmq_msg_recv(&addr, pair, 0);
    uint16_t event = 0;
    uint32_t value = 0;
    if (zmq_msg_size(&ev) >= 6) {
        memcpy(&event, zmq_msg_data(&ev), 2);
        memcpy(&value, (const char *)zmq_msg_data(&ev) + 2, 4);
    }
    hs__auth_failure why = HS__AUTH_FAILURE__COUNT;
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        why = HS__AUTH_FAILURE_KEY;
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
        why = value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH ? HS__AUTH_FAILURE_MECHANISM
                                                                  : HS__AUTH_FAILURE_HANDSHAKE;
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        why = HS__AUTH_FAILURE_HANDSHAKE;
    if (why != HS__AUTH_FAILURE__COUNT) {
        atomic_fetch_add_explicit(&a->failures[why], 1, memory_order_relaxed);
        if (why == HS__AUTH_FAILURE_KEY && a->denied_unmatched > 0) {
            a->denied_unmatched--; /* the ZAP handler said why */
        } else {
            static const char *const reasons[] = {
                "the key was refused", "the peer does not speak CURVE", "the handshake failed"};
            hs__log_rated(&a->rate, HS__LOG_WARN, "bus: CURVE refused a connection on %.*s: %s",
                          (int)zmq_msg_size(&addr), (const char *)zmq_msg_data(&addr),
                          reasons[why]);
        }
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&addr);
}

static void *auth_main(void *arg)
{
    hs__curve_auth *a = arg;
    pthread_setname_np(pthread_self(), "hs-zap"); /* for top -H, perf and /proc */
    while (!atomic_load_explicit(&a->stop, memory_order_acquire)) {
        pthread_mutex_lock(&a->lock);
        for (size_t i = 0; i < a->npending && a->nwatched < AUTH_MAX_WATCHED; i++)
            a->watched[a->nwatched++] = a->pending[i];
        a->npending = 0;
        pthread_mutex_unlock(&a->lock);
        zmq_pollitem_t items[2 + AUTH_MAX_WATCHED];
        items[0] = (zmq_pollitem_t){.socket = a->zap, .events = ZMQ_POLLIN};
        for (size_t i = 0; i < a->nwatched; i++)
            items[1 + i] = (zmq_pollitem_t){.socket = a->watched[i], .events = ZMQ_POLLIN};
        items[1 + a->nwatched] = (zmq_pollitem_t){.fd = a->wake_fd, .events = ZMQ_POLLIN};
        /* No timeout: an idle hub's handler does not wake (wake_fd does it). */
        int rc = zmq_poll(items, (int)(2 + a->nwatched), -1);
        if (rc < 0 && zmq_errno() == ETERM)
            break;
        if (rc <= 0)
            continue;
        eventfd_t woken;
        if (items[1 + a->nwatched].revents & ZMQ_POLLIN)
            eventfd_read(a->wake_fd, &woken);
        /* The ZAP answer first: a denial's event comes after it. */
        if (items[0].revents & ZMQ_POLLIN)
            zap_answer(a);
        for (size_t i = 0; i < a->nwatched; i++)
            if (items[1 + i].revents & ZMQ_POLLIN)
                monitor_event(a, a->watched[i]);
    }
    int zero = 0;
    zmq_setsockopt(a->zap, ZMQ_LINGER, &zero, sizeof zero);
    zmq_close(a->zap);
    for (size_t i = 0; i < a->nwatched; i++) {
        zmq_setsockopt(a->watched[i], ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(a->watched[i]);
    }
    return NULL;
}

int hs__curve_auth_start(hs__curve_auth **out, void *ctx, const char *allow_dir, const char *who,
                         char *err, size_t errlen)
{
    *out = NULL;
    hs__curve_auth *a = calloc(1, sizeof *a);
    if (a == NULL)
        return HS_ENOMEM;
    a->ctx = ctx;
    a->who = who;
    pthread_mutex_init(&a->lock, NULL);
    hs__log_rate_init(&a->rate);
    int rc = HS_OK;
    a->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (a->wake_fd < 0) {
        snprintf(err, errlen, "CURVE: cannot make the ZAP handler's eventfd: %s", strerror(errno));
        rc = HS_ESYSTEM;
    } else if (allow_dir != NULL) {
        if ((a->dir = strdup(allow_dir)) == NULL)
            rc = HS_ENOMEM;
        else
            rc = hs__curve_allow_load(&a->allow, allow_dir, err, errlen);
    }
    if (rc == HS_OK) {
        a->zap = zmq_socket(ctx, ZMQ_REP);
        if (a->zap == NULL || zmq_bind(a->zap, ZAP_ENDPOINT) != 0) {
            snprintf(err, errlen, "CURVE: cannot start the ZAP handler (%s): %s", ZAP_ENDPOINT,
                     zmq_strerror(zmq_errno()));
            rc = HS_ESYSTEM;
        }
    }
    if (rc == HS_OK) {
        int e = pthread_create(&a->thread, NULL, auth_main, a);
        if (e != 0) {
            snprintf(err, errlen, "CURVE: cannot start the ZAP handler's thread: %s", strerror(e));
            rc = HS_ESYSTEM;
        }
    }
    if (rc != HS_OK) {
        if (rc == HS_ENOMEM)
            snprintf(err, errlen, "out of memory");
        if (a->zap != NULL)
            zmq_close(a->zap);
        if (a->wake_fd >= 0)
            close(a->wake_fd);
        hs__curve_allow_free(a->allow);
        free(a->dir);
        hs__log_rate_destroy(&a->rate);
        pthread_mutex_destroy(&a->lock);
        free(a);
        return rc;
    }
    a->running = true;
    *out = a;
    return HS_OK;
}

int hs__curve_auth_watch(hs__curve_auth *a, void *socket, char *err, size_t errlen)
{
    pthread_mutex_lock(&a->lock);
    size_t index = a->nmonitors;
    pthread_mutex_unlock(&a->lock);
    if (index >= AUTH_MAX_WATCHED) {
        snprintf(err, errlen, "CURVE: at most %d sockets watched", AUTH_MAX_WATCHED);
        return HS_EINVAL;
    }
    char ep[96];
    snprintf(ep, sizeof ep, "inproc://hs-curve-monitor-%p-%zu", (void *)a, index);
    int events = ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                 ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;
    void *pair = NULL;
    if (zmq_socket_monitor(socket, ep, events) != 0 ||
        (pair = zmq_socket(a->ctx, ZMQ_PAIR)) == NULL || zmq_connect(pair, ep) != 0) {
        snprintf(err, errlen, "CURVE: cannot monitor the socket's handshakes: %s",
                 zmq_strerror(zmq_errno()));
        if (pair != NULL)
            zmq_close(pair);
        return HS_ESYSTEM;
    }
    pthread_mutex_lock(&a->lock);
    a->pending[a->npending++] = pair;
    a->nmonitors++;
    pthread_mutex_unlock(&a->lock);
    eventfd_write(a->wake_fd, 1);
    return HS_OK;
}

int hs__curve_auth_reload(hs__curve_auth *a, size_t *count, char *err, size_t errlen)
{
    hs__curve_allow *fresh = NULL;
    int rc = a->dir != NULL ? hs__curve_allow_load(&fresh, a->dir, err, errlen) : HS_OK;
    pthread_mutex_lock(&a->lock);
    if (rc == HS_OK && a->dir != NULL) {
        hs__curve_allow *old = a->allow;
        a->allow = fresh;
        fresh = old;
    }
    *count = hs__curve_allow_count(a->allow);
    pthread_mutex_unlock(&a->lock);
    hs__curve_allow_free(fresh);
    return rc;
}

size_t hs__curve_auth_allowed(hs__curve_auth *a)
{
    pthread_mutex_lock(&a->lock);
    size_t n = hs__curve_allow_count(a->allow);
    pthread_mutex_unlock(&a->lock);
    return n;
}

uint64_t hs__curve_auth_failures(const hs__curve_auth *a, hs__auth_failure why)
{
    if (a == NULL || why >= HS__AUTH_FAILURE__COUNT)
        return 0;
    return atomic_load_explicit((atomic_uint_fast64_t *)&a->failures[why], memory_order_relaxed);
}

void hs__curve_auth_stop(hs__curve_auth *a)
{
    if (a == NULL)
        return;
    atomic_store_explicit(&a->stop, true, memory_order_release);
    eventfd_write(a->wake_fd, 1);
    if (a->running)
        pthread_join(a->thread, NULL);
    close(a->wake_fd);
    for (size_t i = 0; i < a->npending; i++)
        zmq_close(a->pending[i]);
    hs__curve_allow_free(a->allow);
    free(a->dir);
    hs__log_rate_destroy(&a->rate);
    pthread_mutex_destroy(&a->lock);
    free(a);
}
