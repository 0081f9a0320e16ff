/* error.c - names and messages for the hs_err codes, generated from HS_ERRNO_MAP. */
#include "hashspace/error.h"

const char *hs_strerror(int err)
{
    switch (err) {
#define HS__ERR_MSG(name, value, msg)                                                              \
    case value:                                                                                    \
        return msg;
        HS_ERRNO_MAP(HS__ERR_MSG)
#undef HS__ERR_MSG
    }
    return "unknown error";
}

const char *hs_err_name(int err)
{
    switch (err) {
#define HS__ERR_NAME(name, value, msg)                                                             \
    case value:                                                                                    \
        return #name;
        HS_ERRNO_MAP(HS__ERR_NAME)
#undef HS__ERR_NAME
    }
    return "UNKNOWN";
}
