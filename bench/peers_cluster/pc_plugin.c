/* pc_plugin.c - the consumer plugin the hubs of bench/peers_cluster run
 * (`--consumer plugin:libpc_plugin.so,out=PATH,cap=N`): each message the hub
 * hands it goes to a record file (recorder.h), as a NATS or AMQP receiver of
 * the same benchmark does with what it receives.
 *
 * DESIGN: the benchmark runs each hub with one worker, so one instance sees
 * every message of its hub and its state needs no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hashspace/consumer.h"
#include "recorder.h"

static int pc_plugin_init(void **state, const char *arg)
{
    char *copy = strdup(arg != NULL ? arg : "");
    if (copy == NULL)
        return ENOMEM;
    const char *out = NULL;
    unsigned long long cap = 0;
    int rc = 0;
    for (char *save, *tok = strtok_r(copy, ",", &save); tok != NULL && rc == 0;
         tok = strtok_r(NULL, ",", &save)) {
        if (strncmp(tok, "out=", 4) == 0)
            out = tok + 4;
        else if (strncmp(tok, "cap=", 4) == 0)
            cap = strtoull(tok + 4, NULL, 10);
        else
            rc = EINVAL;
    }
    pc_recorder *r = NULL;
    if (rc == 0)
        rc = out == NULL || cap == 0 ? EINVAL : pc_recorder_open(&r, out, cap);
    free(copy);
    if (rc != 0)
        return rc;
    pc_recorder_ready(r);
    *state = r;
    return 0;
}

static int pc_plugin_consume(void *state, const hs_message *msg)
{
    pc_recorder_add(state, msg->body, msg->body_len, pc_now_ns());
    return 0;
}

static void pc_plugin_fini(void *state)
{
    pc_recorder_close(state);
}

static const hs_consumer_plugin pc_plugin = {
    .abi_version = HS_CONSUMER_ABI_VERSION,
    .name = "peers_cluster_recorder",
    .init = pc_plugin_init,
    .consume = pc_plugin_consume,
    .fini = pc_plugin_fini,
};

const hs_consumer_plugin *hs_consumer_plugin_v1(void)
{
    return &pc_plugin;
}
