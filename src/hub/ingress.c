/* ingress.c - the ingress thread: receive [topic, body] from the bus, check
 * the frames, extract the key and the message's time, claim by the view in
 * force at that time, hand claimed messages to every matching consumer;
 * keep the others in the ring, hold moved keys, replay a crashed hub's.
 *
 * DESIGN: one thread owns the bus's SUB socket (created and connected by the
 * main thread in hs__ingress_start, then handed over), the claim (the
 * timeline snapshot, the hold) and the ring. It is the only producer of
 * every consumer queue. Between two messages it takes the newest timeline
 * from the hub's box (put there by the membership thread; a static hub's
 * one view is there from the start), replays what a crash gave it and
 * releases held messages whose old owner is done. It takes messages without
 * waiting while there are any, then waits (wait_for_bus); it polls the stop
 * flag at least every 100 ms and finishes the message in hand before
 * leaving; a hand-over blocked on a full queue gives up when the abort flag
 * is set. Counters are atomics read by the metrics thread.
 */
#include "hub.h"

#include "jsonline.h"
#include "log.h"
#include "msg.h"

#include "hashspace/error.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zmq.h>

/* How long a dynamic hub's ingress waits for the bus at most while it has
 * work on the clock, and when it has none (poll_timeout_ms). A static hub's
 * waits until a message or hs__ingress_stop: an idle hub wakes for nothing
 * (a wake-up costs some 100 us of CPU on a virtual machine,
 * docs/benchmarks.md "Rates, a lock-free push and an idle hub"). */
#define INGRESS_POLL_MS 100
#define INGRESS_IDLE_POLL_MS 1000

const char *const hs__malformed_labels[HS__MALFORMED__COUNT] = {
#define HS__MALFORMED_LABEL(e, label) label,
    HS__MALFORMED_MAP(HS__MALFORMED_LABEL)
#undef HS__MALFORMED_LABEL
};

/* The name of the publisher of the last message with a sequence number. */
typedef struct seq_name {
    char text[HS__BUSSEQ_NAME_MAX];
    size_t len, peer_len;
    bool whole;             /* not cut to fit: it can be compared */
    hs__busseq_pub *pub;    /* its entry, once looked up */
    const void *connection; /* the connection its peer was read from (msg_connection) */
} seq_name;

typedef struct ingress {
    hs__hub *hub;
    void *socket;
    hs__ingress_rules rules;     /* what every message is checked by before the claim */
    hs__ingress_verdict verdict; /* the message in hand's */
    hs__ingress_rules whole;     /* the key and the time, the body read to the end */
    /* Does the whole check tell the owner anything? Not when neither the
     * key nor the time comes from the body's JSON (key body or topic, no
     * time key): then only the bus sequence, read from the end, was cut
     * short, and the body needs no second look (nor its key a second hash). */
    bool confirm_needed;
    hs__ingress_verdict confirm; /* by those rules, for confirmed() */
    hs__claim *claim;
    bool gave_up_confirming; /* until a message is confirmed again */
    hs__topic_buf topic_buf; /* the topic as a C string, for the globs */
    bool matched;            /* targets[0..nmatched) are topic_buf's consumers */
    size_t nmatched;
    seq_name seq_name; /* track_seq's */
    uint64_t now_ns;   /* CLOCK_MONOTONIC, read once per batch (ingress_main) */
    hs__consumer **targets, **ordered, **unordered; /* room for every consumer */
} ingress;

/* Every counter this file counts is written by the ingress thread alone
 * (the metrics thread loads it): a load and a store, not a locked
 * read-modify-write (some 20 cycles each, three or more per message). */
static void count(atomic_uint_fast64_t *c)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}

static void refuse_bytes(ingress *in, hs__malformed why, const char *detail, const char *t,
                         size_t tlen, const char *b, size_t blen, unsigned frames,
                         uint64_t received_ns)
{
    count(&in->hub->malformed[why]);
    hs__deadletter_rec rec = {
        .reason = hs__malformed_labels[why],
        .error = detail,
        .topic = t,
        .topic_len = tlen > HS__DEADLETTER_MAX_BODY ? HS__DEADLETTER_MAX_BODY : tlen,
        .body = b,
        .body_len = blen > in->hub->cfg->max_body ? HS__DEADLETTER_MAX_BODY : blen,
        .body_total = blen,
        .received_ns = received_ns,
        .frames = frames,
    };
    hs__deadletter_write(in->hub->deadletter, &rec);
}

static void refuse(ingress *in, hs__malformed why, const char *detail, const zmq_msg_t *topic,
                   const zmq_msg_t *body, unsigned frames, uint64_t received_ns)
{
    refuse_bytes(in, why, detail, topic != NULL ? zmq_msg_data((zmq_msg_t *)topic) : "",
                 topic != NULL ? zmq_msg_size((zmq_msg_t *)topic) : 0,
                 body != NULL ? zmq_msg_data((zmq_msg_t *)body) : "",
                 body != NULL ? zmq_msg_size((zmq_msg_t *)body) : 0, frames, received_ns);
}

static void deliver(void *arg, hs__msg *m, hs__consumer *const *targets, size_t n);

/* The consumers that take a message of this topic (in->targets); 0 also
 * when out of memory (then *copied is false). A stream's messages mostly
 * share their topic: the last topic's consumers are kept. */
static size_t match(ingress *in, const char *t, size_t tlen, bool *copied)
{
    hs__hub *hub = in->hub;
    hs__topic_buf *buf = &in->topic_buf;
    *copied = true;
    if (in->matched && buf->len == tlen && memcmp(buf->text, t, tlen) == 0)
        return in->nmatched;
    size_t n = 0;
    *copied = hs__topic_buf_set(buf, t, tlen) == HS_OK;
    for (size_t i = 0; *copied && i < hub->nconsumers; i++)
        if (hs__consumer_matches(hub->consumers[i], buf))
            in->targets[n++] = hub->consumers[i];
    in->matched = *copied;
    in->nmatched = n;
    return n;
}

static bool confirmed(ingress *in, const char *t, size_t tlen, const char *b, size_t blen,
                      uint64_t hash, uint64_t ts, uint64_t received_ns);

/* A message the ring kept, now this hub's (its reference is the caller's). */
static void replay_one(ingress *in, hs__msg *m)
{
    if (in->confirm_needed && !confirmed(in, hs__msg_topic(m), m->topic_len, m->body, m->body_len,
                                         m->key_hash, m->ts_ns, m->received_ns)) {
        hs__msg_release(m);
        return;
    }
    bool copied;
    size_t n = match(in, hs__msg_topic(m), m->topic_len, &copied);
    if (n == 0) {
        count(&in->hub->unmatched);
        hs__msg_release(m);
        return;
    }
    atomic_fetch_add_explicit(&m->refs, (unsigned)n - 1, memory_order_relaxed);
    deliver(in, m, in->targets, n);
}

/* A member crashed: replay, oldest first and before any newer message, the
 * messages the ring kept that are now this hub's. */
static void replay_crash(ingress *in, const char *name, uint64_t watermark, uint64_t heartbeat)
{
    hs__hub *hub = in->hub;
    hs__ring *r = &hub->ring;
    if (!hs__ring_reaches(r, watermark)) {
        count(&hub->claim.ring_misses);
        hs__error("membership: the ring no longer reaches back to %s's watermark (%.3f s older "
                  "than the oldest message kept): its messages in between may be lost; keep more "
                  "(ring-seconds, ring-bytes)",
                  name, ((double)r->evicted_newest_ts - (double)watermark) / 1e9);
    }
    uint64_t replayed = 0, dups = 0;
    for (size_t i = 0; i < r->count; i++) {
        hs__ring_slot *s = hs__ring_at(r, i);
        bool dup;
        if (s->msg == NULL || s->fenced || s->msg->ts_ns < watermark ||
            !hs__claim_replay_mine(in->claim, s->msg->ts_ns, s->msg->key_hash, false, &dup))
            continue;
        replayed++;
        dups += dup;
        replay_one(in, hs__ring_take(r, i));
    }
    atomic_fetch_add(&hub->claim.replayed, replayed);
    atomic_fetch_add(&hub->claim.possible_dups, dups);
    hs__warn("membership: replayed %" PRIu64 " message%s of %s from the ring (stamped from its "
             "watermark on), %" PRIu64 " of them possible duplicates (stamped before its last "
             "heartbeat %s + expiry: it may have finished them)",
             replayed, replayed == 1 ? "" : "s", name, dups, heartbeat > 0 ? "" : "(unknown)");
}

/* Back from fenced: what the ring kept meanwhile is this hub's unless a
 * view replaced it (then the others took it). */
static void replay_fenced(ingress *in)
{
    hs__hub *hub = in->hub;
    hs__ring *r = &hub->ring;
    uint64_t replayed = 0;
    for (size_t i = 0; i < r->count; i++) {
        hs__ring_slot *s = hs__ring_at(r, i);
        bool dup;
        if (s->msg == NULL || !s->fenced)
            continue;
        s->fenced = false;
        if (!hs__claim_replay_mine(in->claim, s->msg->ts_ns, s->msg->key_hash, true, &dup))
            continue;
        replayed++;
        replay_one(in, hs__ring_take(r, i));
    }
    atomic_fetch_add(&hub->claim.replayed, replayed);
    hs__info("membership: no longer fenced; claiming again (%" PRIu64
             " message%s kept while fenced were this hub's)",
             replayed, replayed == 1 ? "" : "s");
}

/* Between two messages: a newer timeline, what it changes, held messages
 * whose old owner is done. */
static void take_timeline(ingress *in)
{
    hs__hub *hub = in->hub;
    hs__timeline *t = hs__timeline_box_take(&hub->box);
    uint64_t now = hs__monotonic_ns();
    if (t != NULL) {
        if (atomic_load(&hub->leaving))
            hs__claim_set_leaving(in->claim);
        hs__claim_adopt(in->claim, t, now);
        const char *name;
        uint64_t wm, hb;
        size_t n = hs__claim_crashed(in->claim, &name, &wm, &hb, 0);
        for (size_t i = 0; i < n; i++) {
            hs__claim_crashed(in->claim, &name, &wm, &hb, i);
            replay_crash(in, name, wm, hb);
        }
    }
    bool unfenced;
    bool fenced = hs__claim_update_fence(in->claim, now, &unfenced);
    if (unfenced)
        replay_fenced(in);
    else if (fenced && t != NULL && atomic_load(&hub->claim.fenced_msgs) == 0)
        hs__warn("membership: fenced: claiming stops (messages are kept in the ring)");
    if (hs__claim_held(in->claim) > 0)
        hs__claim_release(in->claim, false, now, deliver, in);
    if (hub->dynamic)
        hs__ring_expire(&hub->ring, now);
    hs__claim_tick(in->claim, now);
}

typedef enum time_source { TIME_OF_MESSAGE, TIME_UNTIMED, TIME_SKEWED } time_source;

/* The message's time by v: the time key's number of seconds, or the time
 * of receipt when it has none (*src TIME_UNTIMED) or one further than
 * time-skew from the hub's clock (TIME_SKEWED). */
static uint64_t time_of(const ingress *in, const hs__ingress_verdict *v, uint64_t received_ns,
                        time_source *src)
{
    *src = TIME_OF_MESSAGE;
    /* A static hub's one view decides every time alike: the rules do not
     * ask for the time (in->rules). */
    if (in->rules.specs[HS__INGRESS_TIME] == NULL)
        return received_ns;
    const char *text;
    size_t len;
    char num[64];
    *src = TIME_UNTIMED;
    if (!hs__ingress_value(v, HS__INGRESS_TIME, &text, &len) || len == 0 || len >= sizeof num)
        return received_ns;
    memcpy(num, text, len);
    num[len] = '\0';
    char *end;
    double s = strtod(num, &end);
    if (*end != '\0' || !isfinite(s) || s <= 0 || s > 1.8e10)
        return received_ns;
    uint64_t ts = (uint64_t)(s * 1e9);
    uint64_t skew = (uint64_t)(in->hub->cfg->time_skew_s * 1e9);
    if (ts + skew < received_ns || ts > received_ns + skew) {
        *src = TIME_SKEWED;
        return received_ns;
    }
    *src = TIME_OF_MESSAGE;
    return ts;
}

/* The time of the message in hand, counted when it is not its own. */
static uint64_t message_time(ingress *in, uint64_t received_ns)
{
    time_source src;
    uint64_t ts = time_of(in, &in->verdict, received_ns, &src);
    if (src == TIME_UNTIMED)
        count(&in->hub->untimed);
    else if (src == TIME_SKEWED)
        count(&in->hub->skewed);
    return ts;
}

/* A message this hub takes (claimed live, or replayed from the ring) whose
 * body the claim's pass may not have read to the end: the whole check now
 * (only the hub that takes a message reads it all). It must find the key
 * hash and the time the claim went by; a body that is not JSON past them
 * is refused (`json`) unless there is a fallback key (then it is processed
 * here, where its key placed it, and counted a fallback), and one that
 * repeats the member of the key or of the time with another value
 * (jansson's last one counts; the claim, on every hub, went by the first)
 * is refused as `repeated_key`. Refusals are dead-lettered by this hub. */
static bool confirmed(ingress *in, const char *t, size_t tlen, const char *b, size_t blen,
                      uint64_t hash, uint64_t ts, uint64_t received_ns)
{
    hs__ingress_verdict *v = &in->confirm;
    if (!hs__ingress_check(&in->whole, t, tlen, b, blen, v)) {
        refuse_bytes(in, v->why, v->detail, t, tlen, b, blen, 2, received_ns);
        return false;
    }
    if (v->fell_back) {
        count(&in->hub->key_fallbacks);
        return true;
    }
    uint64_t again;
    time_source src;
    if (hs_hasher_hash(&in->hub->hasher, v->key, v->key_len, &again) == HS_OK && again == hash &&
        time_of(in, v, received_ns, &src) == ts)
        return true;
    snprintf(v->detail, sizeof v->detail,
             "the body repeats the member of the key or of the time with another value (the "
             "owner went by the first, the body's JSON by the last)");
    refuse_bytes(in, HS__MALFORMED_REPEATED_KEY, v->detail, t, tlen, b, blen, 2, received_ns);
    return false;
}

/* Wait (bounded) until the timeline is confirmed up to ts: until then a
 * view unknown here could decide the message. */
static void wait_confirmed(ingress *in, uint64_t ts)
{
    hs__hub *hub = in->hub;
    if (!hub->dynamic || !atomic_load_explicit(&hub->membership_started, memory_order_acquire))
        return;
    const hs__timeline *tl = hs__claim_timeline(in->claim);
    if (tl != NULL && hs__timeline_confirmed(tl, ts)) {
        in->gave_up_confirming = false;
        return;
    }
    if (in->gave_up_confirming || (tl != NULL && hs__timeline_fenced(tl, hs__monotonic_ns())))
        return;
    count(&hub->confirm_waits);
    uint64_t start = hs__monotonic_ns();
    uint64_t deadline = start + (uint64_t)(hub->cfg->confirm_wait_s * 1e9);
    bool confirmed = false;
    bool fenced = false;
    while (!confirmed && !fenced && hs__monotonic_ns() < deadline &&
           !atomic_load_explicit(&hub->stop, memory_order_acquire)) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        take_timeline(in);
        tl = hs__claim_timeline(in->claim);
        confirmed = tl != NULL && hs__timeline_confirmed(tl, ts);
        /* Fenced: nothing is claimed, so nothing needs the answer. */
        fenced = tl != NULL && hs__timeline_fenced(tl, hs__monotonic_ns());
    }
    atomic_fetch_add(&hub->confirm_wait_ns, hs__monotonic_ns() - start);
    if (!confirmed && !fenced) {
        count(&hub->confirm_timeouts);
        in->gave_up_confirming = true;
        hs__warn("membership: the coordinator has not confirmed the views up to a message's time "
                 "within %g s; deciding with the views known until it does",
                 hub->cfg->confirm_wait_s);
    }
}

bool hs__ingress_value(const hs__ingress_verdict *v, hs__ingress_key k, const char **text,
                       size_t *len)
{
    if (v->targets_for == NULL || v->target_of[k] < 0) /* not checked yet, not wanted */
        return false;
    const hs__key_target *t = &v->targets[v->target_of[k]];
    if (t->result != HS__KEY_OK)
        return false;
    *text = t->key;
    *len = t->len;
    return true;
}

void hs__ingress_verdict_free(hs__ingress_verdict *v)
{
    for (size_t k = 0; k < HS__INGRESS_KEYS; k++)
        hs__key_buf_free(&v->bufs[k]);
    hs__key_memo_free(v->memo);
    v->memo = NULL;
}

/* Every value the rules want, in one pass over the body (that may stop at
 * the last of them but the fallback, which only counts when the key is not
 * there: the whole body tells). */
static void extract_values(const hs__ingress_rules *rules, const char *t, size_t tlen,
                           const char *b, size_t blen, hs__ingress_verdict *v)
{
    if (v->targets_for != rules) {
        /* Only a key in the JSON stops the pass at the key and the time:
         * the time of a body that is not JSON is "none", known at its end.
         * The bus sequence (only counted) may be read from the end, and
         * stop the pass, unless a time is wanted that only the whole pass
         * gives. */
        bool stop = rules->stop_early && hs__key_needs_json(rules->specs[HS__INGRESS_KEY]);
        bool stop_seq = rules->stop_early && (stop || rules->specs[HS__INGRESS_TIME] == NULL);
        size_t n = 0;
        for (size_t k = 0; k < HS__INGRESS_KEYS; k++) {
            v->target_of[k] = -1;
            if (rules->specs[k] == NULL)
                continue;
            bool seq = k == HS__INGRESS_SEQ || k == HS__INGRESS_PUBLISHER;
            v->target_of[k] = (int)n;
            v->targets[n++] =
                (hs__key_target){.spec = rules->specs[k],
                                 .buf = &v->bufs[k],
                                 .stop = seq ? stop_seq : stop && k != HS__INGRESS_FALLBACK,
                                 .tail = seq};
        }
        v->ntargets = n;
        v->targets_for = rules;
    }
    v->whole = hs__key_extract_many_memo(v->targets, v->ntargets, t, tlen, b, blen, &v->memo);
}

bool hs__ingress_check(const hs__ingress_rules *rules, const char *t, size_t tlen, const char *b,
                       size_t blen, hs__ingress_verdict *v)
{
    v->fell_back = false;
    v->whole = true;
    if (blen > rules->max_body) {
        v->why = HS__MALFORMED_OVERSIZE;
        snprintf(v->detail, sizeof v->detail, "body of %zu bytes is over max-body (%zu)", blen,
                 rules->max_body);
        return false;
    }
    if (tlen > rules->max_topic) {
        v->why = HS__MALFORMED_OVERSIZE;
        snprintf(v->detail, sizeof v->detail, "topic of %zu bytes is over max-topic (%zu)", tlen,
                 rules->max_topic);
        return false;
    }
    bool seen = tlen == v->valid_topic_len && tlen > 0 && memcmp(t, v->valid_topic, tlen) == 0;
    if (!seen && !hs__utf8_valid(t, tlen)) {
        v->why = HS__MALFORMED_TOPIC_UTF8;
        snprintf(v->detail, sizeof v->detail, "the topic is not valid UTF-8");
        return false;
    }
    if (!seen && tlen <= sizeof v->valid_topic) {
        memcpy(v->valid_topic, t, tlen);
        v->valid_topic_len = tlen;
    }
    extract_values(rules, t, tlen, b, blen, v);
    if (hs__ingress_value(v, HS__INGRESS_KEY, &v->key, &v->key_len))
        return true;
    if (hs__ingress_value(v, HS__INGRESS_FALLBACK, &v->key, &v->key_len)) {
        v->fell_back = true;
        return true;
    }
    switch (v->targets[v->target_of[HS__INGRESS_KEY]].result) {
    case HS__KEY_OK:
        break;
    case HS__KEY_BAD_JSON:
        v->why = HS__MALFORMED_JSON;
        snprintf(v->detail, sizeof v->detail, "the body is not JSON and the key needs it");
        return false;
    case HS__KEY_MISSING:
        v->why = HS__MALFORMED_NO_KEY;
        snprintf(v->detail, sizeof v->detail, "the key is not in the body");
        return false;
    case HS__KEY_NOT_SCALAR:
    case HS__KEY_UNREAD: /* not the key's: the pass stops only once it is found */
        break;
    }
    v->why = HS__MALFORMED_NO_KEY;
    snprintf(v->detail, sizeof v->detail, "the key is null, an object or an array");
    return false;
}

/* "PEER WHO", the name a publisher is tracked by, kept from one message to
 * the next: most messages come from the publisher of the one before, and
 * then the name is not written again. */
static const char *publisher_name(seq_name *c, const char *peer, const char *who, size_t wlen)
{
    size_t plen = strlen(peer);
    if (c->whole && c->peer_len == plen && c->len == plen + 1 + wlen &&
        memcmp(c->text, peer, plen) == 0 && memcmp(c->text + plen + 1, who, wlen) == 0)
        return c->text;
    int n = snprintf(c->text, sizeof c->text, "%s %.*s", peer, (int)wlen, who);
    c->pub = NULL;
    c->whole = n >= 0 && (size_t)n < sizeof c->text;
    c->len = n < 0 ? 0 : c->whole ? (size_t)n : sizeof c->text - 1;
    c->peer_len = plen;
    return c->text;
}

/* Which connection a message came in on, as a pointer to compare: libzmq
 * gives each connection one metadata object (its properties: Peer-Address,
 * Socket-Type, ...) and every message it receives points to it, first thing
 * in its zmq_msg_t (libzmq 4.1 onwards; msg.hpp's msg_t, every kind). NULL
 * for a message without properties. Reading Peer-Address itself, a lookup by
 * name in that object, costs some 250 instructions: a sixteenth of a skipped
 * message. Only ever compared with the last message's: a connection that
 * closed and a new one whose object took its address look alike, so the
 * address is read again for anything but the next number in order. Were the
 * first word anything else, connections would look alike or every message
 * different: test_bus_losses's two publishers of one name would tell. */
static const void *msg_connection(const zmq_msg_t *m)
{
    _Static_assert(sizeof(zmq_msg_t) >= sizeof(void *), "zmq_msg_t starts with a pointer");
    const void *p;
    memcpy(&p, m, sizeof p);
    return p;
}

/* Whether the message continues the last one's publisher: the same
 * connection, the same name, the number after the last. */
static bool same_publisher_next(const seq_name *c, const void *connection, const char *who,
                                size_t wlen, uint64_t i)
{
    return connection != NULL && connection == c->connection && c->pub != NULL && c->whole &&
           c->len == c->peer_len + 1 + wlen && memcmp(c->text + c->peer_len + 1, who, wlen) == 0 &&
           i == atomic_load_explicit(&c->pub->last, memory_order_relaxed) + 1;
}

/* The publisher's sequence number of a well-formed message, when it has
 * one: gaps, late messages, duplicates and restarts are counted per
 * publisher (busseq.h); a gap is logged (rate-limited). */
static void track_seq(ingress *in, zmq_msg_t *body)
{
    hs__hub *hub = in->hub;
    const char *text, *who;
    size_t len, wlen;
    if (!hs__ingress_value(&in->verdict, HS__INGRESS_SEQ, &text, &len) || len == 0 || len > 20) {
        count(&hub->busseq.unsequenced);
        return;
    }
    uint64_t i = 0;
    for (size_t k = 0; k < len; k++) {
        unsigned d = (unsigned char)text[k] - '0';
        if (d > 9 || i > (UINT64_MAX - d) / 10) {
            count(&hub->busseq.unsequenced);
            return;
        }
        i = i * 10 + d;
    }
    if (!hs__ingress_value(&in->verdict, HS__INGRESS_PUBLISHER, &who, &wlen)) {
        who = "";
        wlen = 0;
    }
    /* The peer's address tells apart publishers of one name on two hosts. */
    seq_name *c = &in->seq_name;
    const void *connection = msg_connection(body);
    const char *name = c->text;
    if (!same_publisher_next(c, connection, who, wlen, i)) {
        const char *peer = zmq_msg_gets(body, "Peer-Address");
        name = publisher_name(c, peer != NULL ? peer : "-", who, wlen);
        c->connection = connection;
    }
    size_t nlen = c->len;
    uint64_t missing, previous;
    switch (hs__busseq_observe_cached(&hub->busseq, &c->pub, name, nlen, i, &missing, &previous)) {
    case HS__BUSSEQ_GAP:
        hs__log_bad("bus: publisher '%s': %llu message%s missing (i %llu, then %llu)", name,
                    (unsigned long long)missing, missing == 1 ? "" : "s",
                    (unsigned long long)previous, (unsigned long long)i);
        break;
    case HS__BUSSEQ_RESTART:
        hs__log_bad("bus: publisher '%s' started again (i %llu after %llu)", name,
                    (unsigned long long)i, (unsigned long long)previous);
        break;
    case HS__BUSSEQ_UNTRACKED:
        break;
    case HS__BUSSEQ_FIRST:
        hs__info("bus: publisher '%s' first seen at i %llu", name, (unsigned long long)i);
        break;
    default:
        break;
    }
}

/* The newest message time decided, published after the message was queued
 * (the watermark: every message below it that this hub owns is queued,
 * held or done). */
static void decided(hs__hub *hub, uint64_t ts)
{
    if (ts > atomic_load_explicit(&hub->decided_ts, memory_order_relaxed))
        atomic_store_explicit(&hub->decided_ts, ts, memory_order_release);
}

/* Hand m (one reference per target) to each target, queued at now. */
static void deliver_at(ingress *in, hs__msg *m, hs__consumer *const *targets, size_t n,
                       uint64_t now)
{
    hs__hub *hub = in->hub;
    for (size_t i = 0; i < n; i++) {
        int rc = hs__consumer_route(targets[i], m, now, &hub->abort);
        if (rc == HS_OK)
            continue;
        if (rc != HS_EFULL)
            count(&hub->abandoned);
        hs__msg_release(m);
    }
}

/* The same, now: for the held and replayed messages (hs__claim_release's
 * callback), which may come after a wait. */
static void deliver(void *arg, hs__msg *m, hs__consumer *const *targets, size_t n)
{
    deliver_at(arg, m, targets, n, hs__monotonic_ns());
}

/* A message of a moved key: at once to the consumers that do not need the
 * order, held for the others. A full hold waits (the bus buffers) until
 * the old owner is done. */
static void hold(ingress *in, hs__msg *m, size_t n)
{
    hs__hub *hub = in->hub;
    hs__consumer **ordered = in->ordered, **unordered = in->unordered;
    size_t no = 0, nu = 0;
    for (size_t i = 0; i < n; i++) {
        if (in->targets[i]->spec.ordered == HS__ORDERED_NO)
            unordered[nu++] = in->targets[i];
        else
            ordered[no++] = in->targets[i];
    }
    deliver(in, m, unordered, nu);
    if (no == 0)
        return;
    for (;;) {
        int rc = hs__claim_hold(in->claim, m, ordered, no, hs__monotonic_ns());
        if (rc == HS_OK)
            break;
        if (rc != HS_EFULL || atomic_load_explicit(&hub->abort, memory_order_acquire)) {
            hs__warn("handover: cannot hold a message (%s): delivered out of order",
                     hs_strerror(rc));
            deliver(in, m, ordered, no);
            return;
        }
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
        take_timeline(in);
    }
    hs__claim_release(in->claim, false, hs__monotonic_ns(), deliver, in);
}

/* One whole message: frames in topic/body, already received. */
static void handle(ingress *in, zmq_msg_t *topic, zmq_msg_t *body, uint64_t received_ns)
{
    hs__hub *hub = in->hub;
    const char *t = zmq_msg_data(topic);
    size_t tlen = zmq_msg_size(topic);
    const char *b = zmq_msg_data(body);
    size_t blen = zmq_msg_size(body);
    hs__ingress_verdict *v = &in->verdict;
    if (!hs__ingress_check(&in->rules, t, tlen, b, blen, v)) {
        refuse(in, v->why, v->detail, topic, body, 2, received_ns);
        return;
    }
    if (v->fell_back)
        count(&hub->key_fallbacks);
    uint64_t hash;
    if (hs_hasher_hash(&hub->hasher, v->key, v->key_len, &hash) != HS_OK) {
        snprintf(v->detail, sizeof v->detail, "the key is not valid for hash '%s'",
                 hs_hash_name(hub->hasher.id));
        refuse(in, HS__MALFORMED_KEY_HASH, v->detail, topic, body, 2, received_ns);
        return;
    }
    if (hub->track_seq)
        track_seq(in, body);
    uint64_t ts = message_time(in, received_ns);
    wait_confirmed(in, ts);
    bool taken_over, dup;
    hs__verdict verdict = hs__claim_decide(in->claim, ts, hash, in->now_ns, &taken_over, &dup);
    if (verdict == HS__VERDICT_SKIP || verdict == HS__VERDICT_FENCED) {
        if (verdict == HS__VERDICT_FENCED)
            count(&hub->claim.fenced_msgs);
        else
            count(&hub->skipped);
        if (hub->dynamic) {
            /* Kept: it is this hub's to replay if its owner crashes. */
            hs__msg *m = hs__msg_new(t, tlen, b, blen, received_ns, 1);
            if (m != NULL) {
                m->key_hash = hash;
                m->ts_ns = ts;
                hs__ring_push(&hub->ring, m, in->now_ns, verdict == HS__VERDICT_FENCED);
            }
        }
        if (verdict == HS__VERDICT_SKIP)
            decided(hub, ts);
        return;
    }
    if (!v->whole && in->confirm_needed &&
        !confirmed(in, t, tlen, b, blen, hash, ts, received_ns)) {
        decided(hub, ts);
        return;
    }
    count(&hub->claimed);
    if (taken_over) {
        count(&hub->claim.taken_over);
        if (dup)
            count(&hub->claim.possible_dups);
    }
    bool copied;
    size_t n = match(in, t, tlen, &copied);
    if (copied && n == 0) {
        count(&hub->unmatched);
        decided(hub, ts);
        return;
    }
    hs__msg *m = copied ? hs__msg_new(t, tlen, b, blen, received_ns, (unsigned)n) : NULL;
    if (m == NULL) {
        hs__error("out of memory holding a message of %zu bytes: dead-lettered", blen);
        hs__deadletter_rec rec = {.reason = "nomem",
                                  .topic = t,
                                  .topic_len = tlen,
                                  .body = b,
                                  .body_len = blen,
                                  .body_total = blen,
                                  .received_ns = received_ns};
        hs__deadletter_write(hub->deadletter, &rec);
        return;
    }
    m->key_hash = hash;
    m->ts_ns = ts;
    if (verdict == HS__VERDICT_HOLD)
        hold(in, m, n);
    else
        deliver_at(in, m, in->targets, n, in->now_ns); /* the batch's time: a clock read less */
    decided(hub, ts);
}

/* Waiting for the bus. A blocking wait costs two wake-ups per message at a
 * steady moderate rate (libzmq's I/O thread wakes this thread, this thread
 * wakes the worker), and on a virtual machine a wake-up costs several
 * microseconds of CPU, more than the message itself (docs/benchmarks.md,
 * "Paced"). So when messages come closer together than INGRESS_LINGER_NS,
 * the thread does not wait for each one: it sleeps that long and takes
 * everything that came meanwhile at once (waking the worker once for them),
 * and keeps doing so while each sleep brings something. That delays a
 * message by at most INGRESS_LINGER_NS; a slower stream (one message per
 * 200 us or fewer) and a burst that arrives faster than it is taken never
 * sleep this way. */
#define INGRESS_LINGER_NS 200000u

typedef struct bus_wait {
    uint64_t woken_ns; /* CLOCK_MONOTONIC when a blocking wait last ended */
    uint64_t taken;    /* messages taken since the last wait */
    bool lingering;
} bus_wait;

/* The bus failed: the hub stops (the main thread is told at once). */
static void fail(hs__hub *hub)
{
    atomic_store(&hub->failed, true);
    kill(getpid(), HS__HUB_FAILED_SIGNAL);
}

/* How long the ingress may wait for the bus. A static hub: until a message
 * or hs__ingress_stop. A dynamic one has work on the clock while it holds
 * messages (their old owners' watermarks, the hold timeout), keeps messages
 * in its ring (they expire) or knows a view that is not in force yet (the
 * claim's stats say when it is): then INGRESS_POLL_MS. Otherwise what it
 * waits for comes with a timeline, and the membership thread wakes it for
 * each (hs__ingress_wake, every heartbeat and every fence change): at most
 * INGRESS_IDLE_POLL_MS, in case. */
static int poll_timeout_ms(ingress *in)
{
    hs__hub *hub = in->hub;
    if (!hub->dynamic)
        return -1;
    if (hs__claim_held(in->claim) > 0 || hub->ring.count > 0 ||
        atomic_load_explicit(&hub->claim.pending, memory_order_relaxed) > 0)
        return INGRESS_POLL_MS;
    return INGRESS_IDLE_POLL_MS;
}

/* The socket is empty: wait until it may not be, or hs__ingress_stop wrote
 * the eventfd (or, for a dynamic hub, the poll interval passed, so that the
 * caller looks at its timeline). false: the bus failed. */
static bool wait_for_bus(ingress *in, bus_wait *w)
{
    bool linger = w->lingering && w->taken > 0;
    w->taken = 0;
    if (linger) {
        struct timespec pause = {0, INGRESS_LINGER_NS};
        nanosleep(&pause, NULL);
        return true;
    }
    zmq_pollitem_t items[2] = {{.socket = in->socket, .events = ZMQ_POLLIN},
                               {.fd = in->hub->ingress_wake_fd, .events = ZMQ_POLLIN}};
    int rc = zmq_poll(items, 2, poll_timeout_ms(in));
    if (rc > 0 && (items[1].revents & ZMQ_POLLIN)) {
        eventfd_t woken;
        eventfd_read(in->hub->ingress_wake_fd, &woken);
    }
    if (rc < 0 && zmq_errno() != EINTR) {
        hs__error("bus: waiting for messages failed: %s", zmq_strerror(zmq_errno()));
        fail(in->hub);
        return false;
    }
    if (rc > 0) {
        uint64_t now = hs__monotonic_ns();
        w->lingering = now - w->woken_ns < INGRESS_LINGER_NS;
        w->woken_ns = now;
    }
    return true;
}

/* The workers' wake-ups are held back while the ingress takes a batch off
 * the socket (hs__queue_hold_wakeups), and given at its end or every
 * INGRESS_BATCH messages, whichever comes first: a worker that sleeps is
 * woken once for the batch, not once per message, and waits for at most
 * INGRESS_BATCH messages' worth of the ingress's work (tens of microseconds;
 * 64 rather than 16 saved about a tenth of an owned message's CPU,
 * docs/benchmarks.md "Skipped and owned messages"). */
#define INGRESS_BATCH 64

static void hold_wakeups(hs__hub *hub, bool hold)
{
    for (size_t i = 0; i < hub->nconsumers; i++)
        hs__consumer_hold_wakeups(hub->consumers[i], hold);
}

static void wake_workers(hs__hub *hub)
{
    for (size_t i = 0; i < hub->nconsumers; i++)
        hs__consumer_wake(hub->consumers[i]);
}

/* What hs__ingress_start allocated, and the buffers the thread grew. */
static void ingress_free(ingress *in)
{
    hs__claim_free(in->claim);
    hs__ingress_verdict_free(&in->verdict);
    hs__ingress_verdict_free(&in->confirm);
    hs__topic_buf_free(&in->topic_buf);
    free(in->targets);
    free(in->ordered);
    free(in->unordered);
    free(in);
}

static void *ingress_main(void *arg)
{
    ingress *in = arg;
    hs__hub *hub = in->hub;
    pthread_setname_np(pthread_self(), "hs-ingress");
    zmq_msg_t topic, body, extra;
    bus_wait wait = {0};
    hold_wakeups(hub, true);
    /* The timeline and the clocks are looked at once per INGRESS_BATCH
     * messages and after each wait, not per message: a message's time of
     * receipt is that of its batch (a few microseconds early at most), and
     * a new timeline is taken a few messages later (which only means what a
     * slower membership thread would: it decides nothing before it is
     * confirmed, wait_confirmed). */
    unsigned since_clock = INGRESS_BATCH;
    uint64_t received_ns = 0;
    while (!atomic_load_explicit(&hub->stop, memory_order_acquire)) {
        if (since_clock >= INGRESS_BATCH) {
            take_timeline(in);
            received_ns = hs__realtime_ns();
            in->now_ns = hs__monotonic_ns(); /* after take_timeline, which may wait */
            since_clock = 0;
        }
        zmq_msg_init(&topic);
        /* Take what is there without waiting; wait only once it is empty. */
        if (zmq_msg_recv(&topic, in->socket, ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&topic);
            if (e == EAGAIN) {
                wake_workers(hub);
                if (!wait_for_bus(in, &wait))
                    break;
                since_clock = INGRESS_BATCH;
                continue;
            }
            if (e == EINTR)
                continue;
            hs__error("bus: receive failed: %s", zmq_strerror(e));
            fail(hub);
            break;
        }
        wait.taken++;
        since_clock++;
        count(&hub->received);
        if (!zmq_msg_more(&topic)) {
            refuse(in, HS__MALFORMED_FRAMES, "1 frame, expected 2 ([topic, body])", NULL, &topic, 1,
                   received_ns);
            zmq_msg_close(&topic);
            continue;
        }
        zmq_msg_init(&body);
        /* The frames of a message arrive together: this does not wait. */
        int rc = zmq_msg_recv(&body, in->socket, 0);
        unsigned frames = 2;
        bool more = rc >= 0 && zmq_msg_more(&body);
        while (more) {
            zmq_msg_init(&extra);
            more = zmq_msg_recv(&extra, in->socket, 0) >= 0 && zmq_msg_more(&extra);
            zmq_msg_close(&extra);
            frames++;
        }
        if (rc < 0) {
            hs__warn("bus: lost the second frame of a message: %s", zmq_strerror(zmq_errno()));
            refuse(in, HS__MALFORMED_FRAMES, "second frame lost", NULL, &topic, 1, received_ns);
        } else if (frames != 2) {
            char detail[64];
            snprintf(detail, sizeof detail, "%u frames, expected 2 ([topic, body])", frames);
            refuse(in, HS__MALFORMED_FRAMES, detail, &topic, &body, frames, received_ns);
        } else {
            handle(in, &topic, &body, received_ns);
        }
        zmq_msg_close(&topic);
        zmq_msg_close(&body);
        if (wait.taken % INGRESS_BATCH == 0)
            wake_workers(hub);
    }
    /* Held messages are this hub's: delivered before the drain, in order,
     * whether or not their old owner is done. */
    hs__claim_release(in->claim, true, hs__monotonic_ns(), deliver, in);
    hold_wakeups(hub, false);
    zmq_close(in->socket);
    ingress_free(in);
    return NULL;
}

static int sock_error(void *socket, const char *what, const char *endpoint, char *err,
                      size_t errlen)
{
    snprintf(err, errlen, "bus: %s %s: %s", what, endpoint, zmq_strerror(zmq_errno()));
    zmq_close(socket);
    return HS_EIO;
}

/* CURVE on the SUB socket (curve.h): a server for the endpoints it binds
 * next, a client of the publishers' key for those it connects next; the
 * handshakes it refuses are counted by the hub's ZAP handler's monitor. */
static int bus_curve(hs__hub *hub, void *s, bool server, char *err, size_t errlen)
{
    if (hub->curve == NULL)
        return HS_OK;
    char why[400];
    int rc = server
                 ? hs__curve_set_server(s, &hub->curve_self, why, sizeof why)
                 : hs__curve_set_client(s, &hub->curve_self, &hub->curve_server, why, sizeof why);
    if (rc == HS_OK && (server || hub->cfg->bind.n == 0)) /* once per socket */
        rc = hs__curve_auth_watch(hub->curve, s, why, sizeof why);
    if (rc != HS_OK) {
        snprintf(err, errlen, "bus: %s", why);
        zmq_close(s);
    }
    return rc;
}

int hs__ingress_start(hs__hub *hub, char *err, size_t errlen)
{
    const hs__hub_config *cfg = hub->cfg;
    ingress *in = calloc(1, sizeof *in);
    if (in == NULL)
        return HS_ENOMEM;
    in->hub = hub;
    in->rules = (hs__ingress_rules){
        .max_body = cfg->max_body,
        .max_topic = cfg->max_topic,
        .specs = {[HS__INGRESS_KEY] = &hub->key,
                  [HS__INGRESS_FALLBACK] = hub->has_fallback ? &hub->key_fallback : NULL,
                  [HS__INGRESS_TIME] = hub->dynamic && hub->has_time_key ? &hub->time_key : NULL,
                  [HS__INGRESS_SEQ] = hub->track_seq ? &hub->seq_key : NULL,
                  [HS__INGRESS_PUBLISHER] = hub->track_seq ? &hub->seq_publisher : NULL},
        .stop_early = true,
    };
    in->whole = in->rules;
    in->whole.specs[HS__INGRESS_SEQ] = in->whole.specs[HS__INGRESS_PUBLISHER] = NULL;
    in->whole.stop_early = false;
    const hs__key_spec *time_key = in->rules.specs[HS__INGRESS_TIME];
    in->confirm_needed =
        hs__key_needs_json(&hub->key) || (time_key != NULL && hs__key_needs_json(time_key));
    size_t room = hub->nconsumers > 0 ? hub->nconsumers : 1;
    in->targets = calloc(room, sizeof *in->targets);
    in->ordered = calloc(room, sizeof *in->ordered);
    in->unordered = calloc(room, sizeof *in->unordered);
    void *s = NULL;
    if (in->targets != NULL && in->ordered != NULL && in->unordered != NULL &&
        hs__claim_new(&in->claim, cfg->self, (uint64_t)(cfg->expiry_s * 1e9), cfg->hold_max,
                      (uint64_t)(cfg->hold_timeout_s * 1e9), &hub->claim) == HS_OK)
        s = zmq_socket(hub->zmq_ctx, ZMQ_SUB);
    if (s == NULL) {
        snprintf(err, errlen, "bus: cannot create a socket");
        ingress_free(in);
        return HS_ESYSTEM;
    }
    int timeout = INGRESS_POLL_MS, linger = 0, hwm = cfg->rcv_hwm;
    char hwm_text[32];
    snprintf(hwm_text, sizeof hwm_text, "%d", hwm);
    int rc = HS_OK;
    if (zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout) != 0)
        rc = sock_error(s, "cannot set", "ZMQ_RCVTIMEO", err, errlen);
    else if (zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger) != 0)
        rc = sock_error(s, "cannot set", "ZMQ_LINGER", err, errlen);
    else if (zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0)
        rc = sock_error(s, "cannot set rcv-hwm to", hwm_text, err, errlen);
    /* libzmq's default: a connection that failed is tried again every
     * 100 ms (ZMQ_RECONNECT_IVL), for ever; ZMQ_RECONNECT_IVL_MAX makes the
     * wait double after each attempt, up to it. */
    int reconnect_max = (int)(cfg->reconnect_max_s * 1000 + 0.5);
    if (rc == HS_OK && reconnect_max > 0 &&
        zmq_setsockopt(s, ZMQ_RECONNECT_IVL_MAX, &reconnect_max, sizeof reconnect_max) != 0)
        rc = sock_error(s, "cannot set", "ZMQ_RECONNECT_IVL_MAX", err, errlen);
    if (rc == HS_OK && cfg->subscribe.n == 0 && zmq_setsockopt(s, ZMQ_SUBSCRIBE, "", 0) != 0)
        rc = sock_error(s, "subscribe", "", err, errlen);
    for (size_t i = 0; rc == HS_OK && i < cfg->subscribe.n; i++)
        if (zmq_setsockopt(s, ZMQ_SUBSCRIBE, cfg->subscribe.items[i],
                           strlen(cfg->subscribe.items[i])) != 0)
            rc = sock_error(s, "subscribe", cfg->subscribe.items[i], err, errlen);
    if (rc == HS_OK && cfg->bind.n > 0)
        rc = bus_curve(hub, s, true, err, errlen);
    for (size_t i = 0; rc == HS_OK && i < cfg->bind.n; i++)
        if (zmq_bind(s, cfg->bind.items[i]) != 0)
            rc = sock_error(s, "cannot bind", cfg->bind.items[i], err, errlen);
    if (rc == HS_OK && cfg->connect.n > 0)
        rc = bus_curve(hub, s, false, err, errlen);
    for (size_t i = 0; rc == HS_OK && i < cfg->connect.n; i++)
        if (zmq_connect(s, cfg->connect.items[i]) != 0)
            rc = sock_error(s, "cannot connect to", cfg->connect.items[i], err, errlen);
    if (rc != HS_OK) {
        ingress_free(in);
        return rc;
    }
    in->socket = s;
    int e = pthread_create(&hub->ingress, NULL, ingress_main, in);
    if (e != 0) { /* pthread_create returns its error; errno is not set */
        snprintf(err, errlen, "cannot start the ingress thread: %s", strerror(e));
        zmq_close(s);
        ingress_free(in);
        return HS_ESYSTEM;
    }
    hub->ingress_running = true;
    return HS_OK;
}

void hs__ingress_wake(void *arg)
{
    hs__hub *hub = arg;
    if (eventfd_write(hub->ingress_wake_fd, 1) != 0)
        hs__warn("bus: cannot wake the ingress thread: %s", strerror(errno));
}

void hs__ingress_stop(hs__hub *hub)
{
    atomic_store(&hub->stop, true);
    hs__ingress_wake(hub);
}

void hs__ingress_join(hs__hub *hub)
{
    if (hub->ingress_running) {
        pthread_join(hub->ingress, NULL);
        hub->ingress_running = false;
    }
}
