/* coord.h - the coordinator: where the hubs of a cluster register, heartbeat,
 * publish their watermarks and agree on numbered views (dynamic membership,
 * docs/design.md "Membership").
 *
 * A coordinator is reached by URL ("redis://127.0.0.1:6379/0"); the scheme
 * picks the backend from HS__COORD_BACKEND_MAP, so a second backend (etcd)
 * is one line there plus its file, and nothing above this interface changes.
 * Every time a backend returns comes from the coordinator's own clock, never
 * from the caller's: hubs compare times that one clock produced.
 *
 * Ownership: hs__coord_open returns a handle the caller frees with
 * hs__coord_close. Results that hold arrays (views, members) are the
 * caller's, freed with the matching *_free function.
 *
 * Threads: a handle is used by one thread at a time (the membership thread,
 * or the CLI); different handles are independent. The URL functions are
 * pure and thread-safe.
 */
#ifndef HS_HUB_COORD_H
#define HS_HUB_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hashspace/view.h"

/* --- URLs --- */

#define HS__COORD_HOST_MAX 255
#define HS__COORD_PATH_MAX 63
#define HS__COORD_URL_MAX (16 + HS__COORD_HOST_MAX + 8 + HS__COORD_PATH_MAX + 8)

typedef struct hs__coord_url {
    char scheme[16];                   /* a known backend's, e.g. "redis" */
    char host[HS__COORD_HOST_MAX + 1]; /* name or address; an IPv6 one without [] */
    int port;                          /* 1..65535; the backend's default when absent */
    char path[HS__COORD_PATH_MAX + 1]; /* after the first '/', may be empty */
} hs__coord_url;

/* Parse "SCHEME://HOST[:PORT][/PATH]" (an IPv6 host in brackets). The
 * scheme must be a known backend's, which also checks the path (redis: a
 * database number). On error writes a sentence into err and returns
 * HS_EPARSE. Pure. */
int hs__coord_url_parse(const char *text, hs__coord_url *out, char *err, size_t errlen);
/* The URL back as text (loads back the same); returns what snprintf does. */
int hs__coord_url_format(const hs__coord_url *url, char *buf, size_t len);

/* Is this a name a hub may register under? 1 to HS_MEMBER_NAME_MAX printable
 * ASCII characters other than ',' and '=' (they separate --members lists). */
bool hs__coord_name_valid(const char *name);

/* --- What the coordinator stores --- */

/* A member the view dropped, with its watermark when the view was made. */
typedef struct hs__coord_departed {
    char name[HS_MEMBER_NAME_MAX + 1];
    bool leaving; /* dropped for a planned leave; else its registration was gone */
    bool has_watermark;
    uint64_t watermark_ns;
} hs__coord_departed;

typedef struct hs__coord_view {
    uint64_t epoch;             /* >= 1, one more than the view before */
    uint64_t effective_from_ns; /* coordinator time from which it decides */
    uint64_t created_ns;        /* coordinator time it was made */
    size_t n;                   /* >= 1 */
    hs_view_member *members;    /* sorted bytewise by name; names owned */
    /* The members of the view before that this one left out, sorted by
     * name (0 and NULL when it dropped nobody, or was made by a hub that
     * did not record them). Their watermark is the one the coordinator had
     * when the view was made: a crashed member's last, which no later
     * heartbeat of the same name changes. */
    size_t ndeparted;
    hs__coord_departed *departed;
} hs__coord_view;

void hs__coord_view_clear(hs__coord_view *v);
/* Deep copy; HS_ENOMEM. */
int hs__coord_view_copy(hs__coord_view *dst, const hs__coord_view *src);
/* The canonical JSON text of a view (malloc'd, NULL when out of memory):
 * {"epoch":E,"effective_from":NS,"created":NS,"members":[{"name":..,"weight":W}]}
 * followed, when it dropped members, by ,"departed":[{"name":..,"watermark":NS}]
 * (a departed member without a watermark has no "watermark"; one that left
 * by a planned leave has "leaving":true). */
char *hs__coord_view_json(const hs__coord_view *v);
/* Parse that text; members are sorted and checked (names valid, unique,
 * weights positive and finite), departed ones too (names valid, unique, none
 * a member). HS_EPARSE with a sentence in err. */
int hs__coord_view_parse(const char *text, size_t len, hs__coord_view *out, char *err,
                         size_t errlen);

typedef struct hs__coord_member {
    char name[HS_MEMBER_NAME_MAX + 1];
    bool live;             /* its registration has not expired */
    bool leaving;          /* it announced a planned leave */
    double weight;         /* when live */
    uint64_t heartbeat_ns; /* last heartbeat, when live; else 0 */
    bool has_watermark;
    uint64_t watermark_ns; /* last published; kept after the member is gone */
} hs__coord_member;

/* --- Operations --- */

/* One heartbeat; the first one registers. */
typedef struct hs__coord_beat {
    const char *name;
    double weight;
    uint64_t watermark_ns; /* every message it owns with a time below is finished */
    uint64_t expiry_ns;    /* the registration lives this long after the beat */
    bool leaving;          /* planned leave: views made from now on leave it out */
} hs__coord_beat;

/* Make the next view if the live members differ from the newest view's. */
typedef struct hs__coord_proposal {
    uint64_t known_epoch;        /* the highest epoch the caller knows */
    const hs__coord_view *known; /* the caller's newest view, or NULL: stored again
                                    when the coordinator lost it (a restart) */
    uint64_t lead_ns;            /* effective_from >= coordinator time + lead */
    uint64_t expiry_ns;          /* no view within this long of a fresh start */
    uint64_t floor_ns;           /* the caller's confirmed_until: effective_from > it */
    size_t keep;                 /* views kept by the coordinator (>= 2) */
} hs__coord_proposal;

typedef enum hs__coord_outcome {
    HS__COORD_SAME,    /* the live set is the newest view's: nothing made */
    HS__COORD_CREATED, /* view `epoch` made, effective from effective_from_ns */
    HS__COORD_GRACE,   /* the coordinator started afresh less than an expiry ago */
    HS__COORD_NOBODY,  /* no live member: the newest view stays */
} hs__coord_outcome;

typedef struct hs__coord_proposed {
    hs__coord_outcome outcome;
    uint64_t epoch;             /* the newest epoch after the call */
    uint64_t effective_from_ns; /* when CREATED */
} hs__coord_proposed;

/* The views after an epoch, and a promise. */
typedef struct hs__coord_fetch {
    uint64_t now_ns; /* coordinator time of the fetch */
    /* Confirmation: no view missing from this answer takes effect at or
     * before this time (0: no promise, during the grace after a fresh start
     * or with lead 0). */
    uint64_t confirmed_until_ns;
    uint64_t oldest_epoch; /* the oldest view still stored (0: none); if it is
                              above since + 1, views were trimmed unseen */
    hs__coord_view *views; /* epochs > since, ascending */
    size_t n;
} hs__coord_fetch;

void hs__coord_fetch_free(hs__coord_fetch *f);

typedef struct hs__coord hs__coord;

typedef struct hs__coord_ops {
    /* Connect (again: a connected handle reconnects), within timeout_ms for
     * connecting and for every later command. */
    int (*connect)(hs__coord *c, unsigned timeout_ms);
    /* Register or refresh; *now_ns is the coordinator's time of the beat. */
    int (*heartbeat)(hs__coord *c, const hs__coord_beat *beat, uint64_t *now_ns);
    /* Remove a registration (its watermark stays). */
    int (*deregister)(hs__coord *c, const char *name);
    /* Atomic: at most one view per change, however many hubs propose. */
    int (*propose)(hs__coord *c, const hs__coord_proposal *p, hs__coord_proposed *out);
    /* Views with epoch > since; lead_ns > 0 asks for a promise, expiry_ns
     * tells the grace after a fresh start. */
    int (*fetch)(hs__coord *c, uint64_t since, uint64_t lead_ns, uint64_t expiry_ns,
                 hs__coord_fetch *out);
    /* Every member registered or with a watermark, sorted by name. */
    int (*members)(hs__coord *c, hs__coord_member **out, size_t *n, uint64_t *now_ns);
    /* A descriptor that becomes readable when a change may have happened
     * (-1: this backend cannot tell; poll instead). */
    int (*watch_fd)(hs__coord *c);
    /* Consume what made the descriptor readable; the number of events. */
    int (*watch_drain)(hs__coord *c, unsigned *events);
    void (*close)(hs__coord *c);
} hs__coord_ops;

/* X(scheme, default port, ops): the backends. */
#define HS__COORD_BACKEND_MAP(X) X(redis, 6379, hs__coord_redis_ops)

#define HS__COORD_OPS_DECL(scheme, port, ops) extern const hs__coord_ops ops;
HS__COORD_BACKEND_MAP(HS__COORD_OPS_DECL)
#undef HS__COORD_OPS_DECL

/* What every backend's handle starts with. */
struct hs__coord {
    const hs__coord_ops *ops;
    hs__coord_url url;
    char cluster[HS_MEMBER_NAME_MAX + 1];
    char err[512]; /* the last error, a sentence */
    void *impl;    /* the backend's */
};

/* A handle for URL and cluster, not yet connected (no I/O). The cluster
 * name follows the member name rules. HS_EPARSE / HS_EINVAL with a sentence
 * in err. */
int hs__coord_open(hs__coord **out, const char *url, const char *cluster, char *err, size_t errlen);
/* Accepts NULL. */
void hs__coord_close(hs__coord *c);
/* The last error's sentence ("" if none). */
const char *hs__coord_error(const hs__coord *c);

/* Sugar over c->ops. */
int hs__coord_connect(hs__coord *c, unsigned timeout_ms);
int hs__coord_heartbeat(hs__coord *c, const hs__coord_beat *beat, uint64_t *now_ns);
int hs__coord_deregister(hs__coord *c, const char *name);
int hs__coord_propose(hs__coord *c, const hs__coord_proposal *p, hs__coord_proposed *out);
int hs__coord_fetch_since(hs__coord *c, uint64_t since, uint64_t lead_ns, uint64_t expiry_ns,
                          hs__coord_fetch *out);
int hs__coord_members(hs__coord *c, hs__coord_member **out, size_t *n, uint64_t *now_ns);
int hs__coord_watch_fd(hs__coord *c);
int hs__coord_watch_drain(hs__coord *c, unsigned *events);

/* For backends: record an error sentence and return code. */
int hs__coord_fail(hs__coord *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
