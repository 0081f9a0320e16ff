/* sink.c - the registry of consumer kinds, generated from HS_SINK_MAP: the
 * ops of each kind, its position, and the lists of names and usages that
 * errors and --help show. */
#include "sink.h"

#include <string.h>

static const hs__sink_ops *const sinks[HS__SINKS] = {
#define HS__SINK_ROW(kind, usage) &hs__sink_##kind,
    HS_SINK_MAP(HS__SINK_ROW)
#undef HS__SINK_ROW
};

/* Each list starts with a separator, skipped when it is returned. */
#define HS__SINK_NAME(kind, usage) ", " #kind
static const char kind_names[] = HS_SINK_MAP(HS__SINK_NAME);
#undef HS__SINK_NAME
#define HS__SINK_USAGE(kind, usage) "\n  " usage
static const char kind_usages[] = HS_SINK_MAP(HS__SINK_USAGE);
#undef HS__SINK_USAGE

int hs__sink_index(const char *kind)
{
    for (int i = 0; i < HS__SINKS; i++)
        if (strcmp(sinks[i]->kind, kind) == 0)
            return i;
    return -1;
}

const hs__sink_ops *hs__sink_find(const char *kind)
{
    int i = hs__sink_index(kind);
    return i >= 0 ? sinks[i] : NULL;
}

const hs__sink_ops *hs__sink_at(int index)
{
    return index >= 0 && index < HS__SINKS ? sinks[index] : NULL;
}

const char *hs__sink_kinds(void)
{
    return kind_names + 2;
}

const char *hs__sink_usages(void)
{
    return kind_usages + 1;
}
