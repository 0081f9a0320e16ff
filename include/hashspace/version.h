/* version.h - the hashspace version (the library's, the CLI's and the hub's).
 * HS_VERSION_STRING is the version of the headers a program was compiled
 * with; hs_version() that of the library it runs with. */
#ifndef HASHSPACE_VERSION_H
#define HASHSPACE_VERSION_H

#include "hashspace/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/* CMakeLists.txt checks that this is its project version. */
#define HS_VERSION_STRING "0.1.0"

/* A static string; safe from any thread. */
HS_EXTERN const char *hs_version(void);

#ifdef __cplusplus
}
#endif
#endif
