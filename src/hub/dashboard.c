/* dashboard.c - the dashboard's routes on the hub's metrics port: the
 * embedded page and its assets, and /view (members and their shares of the
 * hash space, sampled through the placement). See dashboard.h. */
#include "dashboard.h"
#include "httpreply.h"

#include "hub.h"

#include "hashspace/error.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

const hs__asset *hs__asset_find(const char *path)
{
    for (size_t i = 0; i < hs__assets_count; i++)
        if (strcmp(hs__assets[i].path, path) == 0)
            return &hs__assets[i];
    return NULL;
}

enum MHD_Result hs__dashboard_send_asset(struct MHD_Connection *conn, const hs__asset *a)
{
    const char *match = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
    bool fresh = match != NULL && strstr(match, a->etag) != NULL;
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        fresh ? 0 : a->len, fresh ? NULL : (void *)a->data, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", a->type);
    MHD_add_response_header(resp, "ETag", a->etag);
    /* Revalidate each time: a new binary may serve a new page. */
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (strncmp(a->type, "text/html", 9) == 0)
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                                "img-src 'self' data:; frame-ancestors 'none'");
    enum MHD_Result rc =
        MHD_queue_response(conn, fresh ? MHD_HTTP_NOT_MODIFIED : MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return rc;
}

/* splitmix64: spreads consecutive integers over the whole 64-bit space. */
static uint64_t sample_hash(uint64_t i)
{
    uint64_t z = (i + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

char *hs__dashboard_view_json(const hs_view *v, const char *self, size_t *len)
{
    size_t n = hs_view_size(v);
    size_t *owned = calloc(n > 0 ? n : 1, sizeof *owned);
    json_t *o = json_object(), *members = json_array(), *arcs = json_array();
    char *text = NULL;
    if (owned == NULL || o == NULL || members == NULL || arcs == NULL)
        goto done;
    /* Shares: pseudo-random hashes, not evenly spaced ones, which modulo
     * would send all to one member when the step is a multiple of n. */
    size_t placed = 0;
    for (uint64_t i = 0; i < HS__DASHBOARD_SAMPLES; i++) {
        size_t owner;
        if (hs_view_owner_hash(v, sample_hash(i), &owner) == HS_OK && owner < n) {
            owned[owner]++;
            placed++;
        }
    }
    /* Arcs: evenly spaced positions, the middle of each arc. */
    uint64_t step = UINT64_MAX / HS__DASHBOARD_ARCS;
    for (uint64_t a = 0; a < HS__DASHBOARD_ARCS; a++) {
        size_t owner;
        int rc = hs_view_owner_hash(v, a * step + step / 2, &owner);
        json_array_append_new(arcs, json_integer(rc == HS_OK ? (json_int_t)owner : -1));
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(members,
                              json_pack("{s:s,s:f,s:f}", "name", hs_view_member_name(v, i),
                                        "weight", hs_view_member_weight(v, i), "share",
                                        placed > 0 ? (double)owned[i] / (double)placed : 0.0));
    const hs_place_info *method = hs_place_method(hs_view_place(v));
    const char *hash = hs_hash_name(hs_view_hasher(v)->id);
    json_object_set_new(o, "epoch", json_integer((json_int_t)hs_view_epoch(v)));
    json_object_set_new(o, "placement", json_string(method != NULL ? method->name : "?"));
    json_object_set_new(o, "hash", json_string(hash != NULL ? hash : "?"));
    json_object_set_new(o, "self", self != NULL ? json_string(self) : json_null());
    json_object_set_new(o, "samples", json_integer(HS__DASHBOARD_SAMPLES));
    json_object_set_new(o, "members", members);
    json_object_set_new(o, "arcs", arcs);
    members = arcs = NULL;
    text = json_dumps(o, JSON_COMPACT);
    if (text != NULL)
        *len = strlen(text);
done:
    json_decref(members);
    json_decref(arcs);
    json_decref(o);
    free(owned);
    return text;
}

/* The view the hub decides by. Today that is the one its configuration
 * gives (--members, --placement, --hash): the ingress thread owns its copy
 * outright, so this thread builds its own from the immutable config. */
static hs_view *hub_view(const hs__hub *hub)
{
    hs_view *v;
    size_t self;
    char err[256];
    return hs__config_view(hub->cfg, &v, &self, err, sizeof err) == HS_OK ? v : NULL;
}

static enum MHD_Result send_json(struct MHD_Connection *conn, char *body, size_t len)
{
    unsigned status = MHD_HTTP_OK;
    if (body == NULL) {
        body = strdup("{\"error\":\"out of memory\"}");
        len = body != NULL ? strlen(body) : 0;
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
    }
    return hs__http_reply(conn, status, "application/json", NULL, body, len);
}

bool hs__dashboard_answer(hs__hub *hub, struct MHD_Connection *conn, const char *url,
                          enum MHD_Result *rc)
{
    if (strcmp(url, "/view") == 0) {
        hs_view *v = hub_view(hub);
        size_t len = 0;
        char *body = v != NULL ? hs__dashboard_view_json(v, hub->cfg->self, &len) : NULL;
        hs_view_release(v);
        *rc = send_json(conn, body, len);
        return true;
    }
    const hs__asset *a = hs__asset_find(url);
    if (a == NULL)
        return false;
    *rc = hs__dashboard_send_asset(conn, a);
    return true;
}
