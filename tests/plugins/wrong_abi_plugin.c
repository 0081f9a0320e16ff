/* wrong_abi_plugin.c - a plugin from a future hub: it declares ABI version 2,
 * which this hub must refuse to load (test_consumer_plugin). */
#include <stddef.h>

#include "hashspace/consumer.h"

static int never_consume(void *state, const hs_message *msg)
{
    (void)state;
    (void)msg;
    return 1;
}

static const hs_consumer_plugin future_plugin = {
    .abi_version = HS_CONSUMER_ABI_VERSION + 1,
    .name = "future",
    .init = NULL,
    .consume = never_consume,
    .fini = NULL,
};

const hs_consumer_plugin *hs_consumer_plugin_v1(void)
{
    return &future_plugin;
}
