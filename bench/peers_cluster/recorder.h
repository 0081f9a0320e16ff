/* recorder.h - what every consumer of bench/peers_cluster does with a
 * message: note its msg_id, its key (msg.user) and its publish-to-consumer
 * latency in a file the driver reads, the same code in the NATS and AMQP
 * receivers, the PULL receiver and the hub plugin, so that every system pays
 * the same consumer cost.
 *
 * The file is a 64-byte header and then fixed 64-byte records, mapped shared
 * so that the driver can watch the count grow while the run goes on:
 *
 *   header  u64 magic "PCREC01\0", u64 capacity, u64 ready (1 once the
 *           consumer is subscribed), u64 count (messages seen, may exceed
 *           capacity), u64 last_ns (CLOCK_MONOTONIC of the latest message),
 *           u64 bad (bodies without a msg_id, user or stamp), 2 x u64 zero
 *   record  char msg_id[40], char user[16] (NUL-padded, cut to fit),
 *           u64 latency_ns (0 when the message carried no stamp)
 *
 * Bodies end with ,"sent":"<19 digits>"} : the publisher's CLOCK_MONOTONIC
 * when it sent the message (zeros when it did not stamp).
 *
 * A recorder is used by one thread; the driver only reads the file.
 */
#ifndef HS_BENCH_PEERS_CLUSTER_RECORDER_H
#define HS_BENCH_PEERS_CLUSTER_RECORDER_H

#include <stddef.h>
#include <stdint.h>

#define PC_RECORD_SIZE 64
#define PC_HEADER_SIZE 64
#define PC_ID_LEN 40
#define PC_USER_LEN 16
#define PC_STAMP_TAIL 21 /* 19 digits, a quote and the closing brace */

typedef struct pc_recorder pc_recorder;

/* Create (or truncate) PATH for at most capacity records; returns an errno
 * value. The file is sparse: untouched records cost no memory or disk. */
int pc_recorder_open(pc_recorder **out, const char *path, uint64_t capacity);
/* Tell the driver the consumer is subscribed and waiting. */
void pc_recorder_ready(pc_recorder *r);
/* Note one message body, received at now_ns (CLOCK_MONOTONIC). */
void pc_recorder_add(pc_recorder *r, const char *body, size_t len, uint64_t now_ns);
/* Accepts NULL. */
void pc_recorder_close(pc_recorder *r);

uint64_t pc_now_ns(void);

/* FNV-1a (64 bits) of s[0..n): the partition of a user is
 * pc_fnv1a64(user) % P, for the nats-subjects publisher and for the zmq-sub
 * receivers alike. */
uint64_t pc_fnv1a64(const char *s, size_t n);

/* What precedes a body's user (`"user":"NAME"`), for the recorder and the
 * zmq-sub receivers' partition. */
#define PC_USER_MARK "\"user\":\""

/* The string after the first `mark` in body[0..len) (mark ends with its
 * opening quote), up to the next quote: its start, *n its length; NULL
 * when either is missing. */
const char *pc_string_after(const char *body, size_t len, const char *mark, size_t mark_len,
                            size_t *n);

#endif
