/* assets.h - the dashboard's files (src/dashboard/), compiled into the hub
 * library as byte arrays by cmake/embed_assets.cmake, so that the hub and
 * `hashspace dashboard` serve the page with nothing installed and nothing
 * fetched at run time.
 *
 * The table is constant data: safe from any thread.
 */
#ifndef HS_HUB_ASSETS_H
#define HS_HUB_ASSETS_H

#include <stddef.h>

typedef struct hs__asset {
    const char *path; /* URL path: "/", "/dashboard.js", ... */
    const char *type; /* Content-Type */
    const char *etag; /* quoted: the first 64 bits of the file's SHA-256 */
    const unsigned char *data;
    size_t len;
} hs__asset;

extern const hs__asset hs__assets[];
extern const size_t hs__assets_count;

#endif
