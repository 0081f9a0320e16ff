/* sink.c - the registry of consumer kinds, generated from HS_SINK_MAP. */
#include "sink.h"

#include <string.h>

static const hs__sink_ops *const sinks[] = {
#define HS__SINK_ROW(kind) &hs__sink_##kind,
    HS_SINK_MAP(HS__SINK_ROW)
#undef HS__SINK_ROW
};

const hs__sink_ops *hs__sink_find(const char *kind)
{
    for (size_t i = 0; i < sizeof sinks / sizeof sinks[0]; i++)
        if (strcmp(sinks[i]->kind, kind) == 0)
            return sinks[i];
    return NULL;
}
