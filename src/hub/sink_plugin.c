/* sink_plugin.c - the plugin consumer kind (`plugin:PATH.so[,ARG]`): a shared
 * object speaking the ABI of include/hashspace/consumer.h, loaded with dlopen.
 *
 * DESIGN: each consumer worker thread opens its own instance: its own dlopen
 * reference (the loader counts them, so the object is mapped once and
 * unmapped at the last dlclose) and its own plugin state from init. consume
 * and fini run on that worker's thread only. The loader's error string is
 * per thread in glibc, so concurrent opens do not mix up their messages.
 */
#include "sink.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct plugin_sink {
    void *handle;
    const hs_consumer_plugin *plugin;
    void *plugin_state;
    int initialised;
} plugin_sink;

static void plugin_close(void *state)
{
    plugin_sink *s = state;
    if (s == NULL)
        return;
    if (s->initialised && s->plugin->fini != NULL)
        s->plugin->fini(s->plugin_state);
    if (s->handle != NULL)
        dlclose(s->handle);
    free(s);
}

static int plugin_open(void **state, const char *arg, const hs__sink_env *env, char *err,
                       size_t errlen)
{
    (void)env;
    *state = NULL;
    if (arg == NULL || *arg == '\0' || *arg == ',') {
        snprintf(err, errlen, "plugin: expected plugin:PATH.so[,ARG]");
        return HS_EINVAL;
    }
    /* PATH ends at the first comma; the rest, commas and all, is ARG. */
    const char *comma = strchr(arg, ',');
    size_t path_len = comma != NULL ? (size_t)(comma - arg) : strlen(arg);
    char *path = strndup(arg, path_len);
    plugin_sink *s = calloc(1, sizeof *s);
    int rc = HS_ENOMEM;
    if (path == NULL || s == NULL)
        goto fail;

    s->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (s->handle == NULL) {
        const char *why = dlerror();
        snprintf(err, errlen, "plugin: cannot load %s: %s", path, why != NULL ? why : "?");
        rc = HS_EINVAL;
        goto fail;
    }
    hs_consumer_plugin_entry entry;
    /* The POSIX way to turn a dlsym result into a function pointer. */
    *(void **)&entry = dlsym(s->handle, HS_CONSUMER_PLUGIN_SYMBOL);
    if (entry == NULL) {
        snprintf(err, errlen, "%s: no symbol %s: not a hashspace consumer plugin", path,
                 HS_CONSUMER_PLUGIN_SYMBOL);
        rc = HS_EUNSUPPORTED;
        goto fail;
    }
    s->plugin = entry();
    if (s->plugin == NULL) {
        snprintf(err, errlen, "%s: %s() returned NULL", path, HS_CONSUMER_PLUGIN_SYMBOL);
        rc = HS_EUNSUPPORTED;
        goto fail;
    }
    if (s->plugin->abi_version != HS_CONSUMER_ABI_VERSION) {
        snprintf(err, errlen, "%s: plugin ABI version %u, this hub speaks %d", path,
                 (unsigned)s->plugin->abi_version, HS_CONSUMER_ABI_VERSION);
        rc = HS_EUNSUPPORTED;
        goto fail;
    }
    if (s->plugin->consume == NULL) {
        snprintf(err, errlen, "%s: plugin '%s' has no consume function", path,
                 s->plugin->name != NULL ? s->plugin->name : "?");
        rc = HS_EUNSUPPORTED;
        goto fail;
    }
    if (s->plugin->init != NULL) {
        int ret = s->plugin->init(&s->plugin_state, comma != NULL ? comma + 1 : NULL);
        if (ret != 0) {
            snprintf(err, errlen, "%s: plugin '%s' init failed (returned %d)", path,
                     s->plugin->name != NULL ? s->plugin->name : "?", ret);
            rc = HS_EIO;
            goto fail;
        }
    }
    s->initialised = 1;
    free(path);
    *state = s;
    return HS_OK;
fail:
    free(path);
    plugin_close(s);
    return rc;
}

static int plugin_consume(void *state, const hs_message *msg, char *err, size_t errlen)
{
    plugin_sink *s = state;
    int ret = s->plugin->consume(s->plugin_state, msg);
    if (ret == 0)
        return HS_OK;
    snprintf(err, errlen, "plugin '%s' failed the message (consume returned %d)",
             s->plugin->name != NULL ? s->plugin->name : "?", ret);
    return HS_EIO;
}

const hs__sink_ops hs__sink_plugin = {
    .kind = "plugin",
    .open = plugin_open,
    .consume = plugin_consume,
    .close = plugin_close,
};
