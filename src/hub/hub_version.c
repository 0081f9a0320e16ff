/* hub_version.c - the version string of the hub runtime and CLI. */
#include "hashspace/version.h"

const char *hs_version(void)
{
    return HS_VERSION_STRING;
}
