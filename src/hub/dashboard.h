/* dashboard.h - the live dashboard on the metrics port: the page and its
 * assets (assets.h) at / and below, and /view, the view's members with each
 * one's share of the hash space. The page itself polls /status and /metrics
 * and keeps the history (docs/design.md "Dashboard").
 *
 * Threads: every function may run from any thread (the hub calls them from
 * libmicrohttpd's polling thread, `hashspace dashboard` from its own); they
 * read only the constant asset table, the hub's immutable config and views
 * they build and release themselves.
 */
#ifndef HS_HUB_DASHBOARD_H
#define HS_HUB_DASHBOARD_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "assets.h"
#include "hashspace/view.h"

struct hs__hub;

/* Hashes sampled for the shares: a share's standard error is below
 * 0.5 / sqrt(HS__DASHBOARD_SAMPLES), 0.2 percentage points. */
#define HS__DASHBOARD_SAMPLES 65536u
/* Arcs of the ring: who owns each 1/HS__DASHBOARD_ARCS of the hash space,
 * by position. */
#define HS__DASHBOARD_ARCS 720u

/* The embedded file at a URL path, or NULL. */
const hs__asset *hs__asset_find(const char *path);

/* Queue an asset as the answer (200, or 304 when the request's
 * If-None-Match names its ETag). */
enum MHD_Result hs__dashboard_send_asset(struct MHD_Connection *conn, const hs__asset *a);

/* The JSON of a view for the page (malloc'd, NULL when out of memory):
 * {"epoch","placement","hash","self","samples","members":[{"name","weight",
 * "share"}],"arcs":[owner index of each arc]}; self may be NULL. */
char *hs__dashboard_view_json(const hs_view *v, const char *self, size_t *len);

/* The hub's routes: the assets and /view. false when url is none of them
 * (the caller answers it); true with *rc set when it queued the answer. */
bool hs__dashboard_answer(struct hs__hub *hub, struct MHD_Connection *conn, const char *url,
                          enum MHD_Result *rc);

#endif
