/* consumer.h - the ABI of C plugin consumers (`--consumer plugin:PATH.so`).
 *
 * A plugin is a shared object exporting
 *
 *     const hs_consumer_plugin *hs_consumer_plugin_v1(void);
 *
 * The hub dlopens it, checks abi_version, and calls init once per worker
 * thread, consume for each claimed message routed to it, and fini at
 * shutdown. consume is called from that worker's thread only, so a plugin
 * needs no locking of its own state; state shared between workers (globals)
 * is the plugin's to guard.
 *
 * Ownership: the message and everything it points to belong to the hub and
 * are valid only during the consume call.
 */
#ifndef HASHSPACE_CONSUMER_H
#define HASHSPACE_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HS_CONSUMER_ABI_VERSION 1

typedef struct hs_message {
    const char *topic; /* NUL-terminated; topic_len excludes the NUL */
    size_t topic_len;
    const char *body; /* NUL-terminated; may contain NULs when not JSON */
    size_t body_len;
    uint64_t received_ns; /* wall clock (CLOCK_REALTIME) when the hub received it */
    uint32_t attempt;     /* 1 on the first try, 2 on the first retry, ... */
} hs_message;

typedef struct hs_consumer_plugin {
    uint32_t abi_version; /* HS_CONSUMER_ABI_VERSION */
    const char *name;
    /* arg: the text after "PATH.so," in the consumer spec, or NULL. Return 0
     * on success; non-zero fails the consumer's start. */
    int (*init)(void **state, const char *arg);
    /* Return 0 when handled; non-zero is a failure: the hub retries, then
     * dead-letters the message. */
    int (*consume)(void *state, const hs_message *msg);
    void (*fini)(void *state);
} hs_consumer_plugin;

typedef const hs_consumer_plugin *(*hs_consumer_plugin_entry)(void);
#define HS_CONSUMER_PLUGIN_SYMBOL "hs_consumer_plugin_v1"

#ifdef __cplusplus
}
#endif
#endif
