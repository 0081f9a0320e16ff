/* webauth.h - who may read the hub's HTTP endpoint (/metrics, /status and
 * whatever else it serves, /healthz excepted): anyone (`none`, the
 * default), a client sending `Authorization: Bearer TOKEN` (`bearer:FILE`,
 * the token being FILE's first line) or HTTP basic authentication
 * (`basic:FILE`, FILE's first line being USER:PASSWORD). FILE must be
 * readable by its owner only, like a secret key.
 *
 * Threads: hs__webauth_new and _free from the main thread; hs__webauth_allows
 * from libmicrohttpd's thread (it only reads).
 */
#ifndef HS_HUB_WEBAUTH_H
#define HS_HUB_WEBAUTH_H

#include <stdbool.h>
#include <stddef.h>

struct MHD_Connection;

typedef struct hs__webauth hs__webauth;

/* From the option's value; *out is NULL for `none`. On error a sentence
 * naming the file in err. */
int hs__webauth_new(hs__webauth **out, const char *spec, char *err, size_t errlen);
void hs__webauth_free(hs__webauth *auth);
/* The client's side (hashspace status --auth): the secret that spec
 * (`bearer:FILE` or `basic:FILE`, FILE as above) names, into out: the
 * token, or USER:PASSWORD; *basic says which. On error a sentence in err. */
int hs__webauth_credentials(const char *spec, bool *basic, char *out, size_t outlen, char *err,
                            size_t errlen);
/* Does the request carry the credentials? NULL auth allows all. */
bool hs__webauth_allows(const hs__webauth *auth, struct MHD_Connection *conn);
/* Queue the 401 answer that asks for them. */
int hs__webauth_refuse(const hs__webauth *auth, struct MHD_Connection *conn);

#endif
