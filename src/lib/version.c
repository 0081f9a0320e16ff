/* version.c - the version of libhashspace, which the CLI and the hub print. */
#include "hashspace/version.h"

const char *hs_version(void)
{
    return HS_VERSION_STRING;
}
