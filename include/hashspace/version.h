/* version.h - the hashspace version. */
#ifndef HASHSPACE_VERSION_H
#define HASHSPACE_VERSION_H

#define HS_VERSION_STRING "0.1.0"

const char *hs_version(void);

#endif
