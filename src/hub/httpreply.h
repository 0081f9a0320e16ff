/* httpreply.h - queue a malloc'd body as a libmicrohttpd answer: the one
 * way the hub's endpoints (/metrics, /status, /readyz, /view) and
 * `hashspace dashboard` reply.
 *
 * Ownership: the body is the answer's from the call on (freed by
 * libmicrohttpd, or here when no answer can be made). Threads: any thread
 * that libmicrohttpd calls a handler from.
 */
#ifndef HS_HUB_HTTPREPLY_H
#define HS_HUB_HTTPREPLY_H

#include <microhttpd.h>
#include <stdlib.h>

/* cache: a Cache-Control value, or NULL for none. */
static inline enum MHD_Result hs__http_reply(struct MHD_Connection *conn, unsigned status,
                                             const char *type, const char *cache, char *body,
                                             size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    if (cache != NULL)
        MHD_add_response_header(resp, "Cache-Control", cache);
    enum MHD_Result rc = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return rc;
}

#endif
