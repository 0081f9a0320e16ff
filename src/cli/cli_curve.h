/* cli_curve.h - CURVE for the sockets of `hashspace pub` and `tail`: the
 * --curve-secret-key, --curve-server-key and --curve-allow options, applied
 * as the hub applies its own (src/hub/curve.h): a CURVE server for the
 * endpoints a socket binds, a client of the server key for those it
 * connects. */
#ifndef HS_CLI_CURVE_H
#define HS_CLI_CURVE_H

#include <stdbool.h>
#include <stdio.h>

#include "curve.h"

typedef struct hs_cli_curve {
    const char *secret_key, *server_key, *allow; /* key specs; NULL: not given */
    hs__curve_pair self;
    hs__curve_key server;
    hs__curve_auth *auth; /* the ZAP handler, with --curve-allow */
} hs_cli_curve;

/* The help lines of the three options (who: "subscribers" or
 * "publishers", the peers that connect to a bound socket). */
void hs_cli_curve_usage(FILE *out, const char *who);
/* Is CURVE asked for? */
bool hs_cli_curve_on(const hs_cli_curve *c);
/* Load the keys and check they fit the endpoints (binding needs this
 * side's secret key; connecting needs the server key, and without a secret
 * key a fresh key pair is made); start the ZAP handler in ctx for
 * --curve-allow. Prints the error and returns 2 (bad usage) or 1. */
int hs_cli_curve_load(hs_cli_curve *c, void *ctx, bool binds, bool connects, const char *who);
/* Before binding (server) or connecting (client); 0 or 1 after printing. */
int hs_cli_curve_role(hs_cli_curve *c, void *socket, bool server);
void hs_cli_curve_stop(hs_cli_curve *c);

#endif
