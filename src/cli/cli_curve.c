/* cli_curve.c - CURVE options of `hashspace pub` and `tail` (cli_curve.h). */
#include "cli_curve.h"

#include "cli_util.h"

#include "hashspace/error.h"

#include <stdio.h>
#include <string.h>

void hs_cli_curve_usage(FILE *out, const char *who)
{
    fprintf(out,
            "  --curve-secret-key KEY  this side's CURVE secret certificate (hashspace keygen)\n"
            "                       or Z85 secret key: the server's identity when binding\n"
            "                       (a fresh key pair when only connecting)\n"
            "  --curve-server-key KEY  with --connect: the server's public certificate or key\n"
            "  --curve-allow DIR    with --bind: only %s whose public certificate is\n"
            "                       in DIR (default with CURVE: any key, encrypted)\n",
            who);
}

bool hs_cli_curve_on(const hs_cli_curve *c)
{
    return c->secret_key != NULL || c->server_key != NULL || c->allow != NULL;
}

int hs_cli_curve_load(hs_cli_curve *c, void *ctx, bool binds, bool connects, const char *who)
{
    char err[600];
    if (!hs_cli_curve_on(c))
        return 0;
    if (!hs__curve_available()) {
        hs_cli_error("CURVE: this libzmq has none (zmq_has(\"curve\") is false)");
        return 1;
    }
    if (c->allow != NULL && !binds) {
        hs_cli_error("--curve-allow goes with --bind (it says who may connect)");
        return 2;
    }
    if (binds && c->secret_key == NULL) {
        hs_cli_error("--bind with CURVE needs --curve-secret-key (the server's key pair)");
        return 2;
    }
    if (connects && c->server_key == NULL) {
        hs_cli_error("--connect with CURVE needs --curve-server-key (the server's public key)");
        return 2;
    }
    if (c->server_key != NULL && !connects) {
        hs_cli_error("--curve-server-key goes with --connect");
        return 2;
    }
    int rc = c->secret_key != NULL ? hs__curve_secret_load(c->secret_key, &c->self, err, sizeof err)
                                   : hs__curve_pair_new(&c->self, err, sizeof err);
    if (rc == HS_OK && c->server_key != NULL)
        rc = hs__curve_public_load(c->server_key, &c->server, err, sizeof err);
    if (rc == HS_OK && c->allow != NULL)
        rc = hs__curve_auth_start(&c->auth, ctx, c->allow, who, err, sizeof err);
    if (rc != HS_OK) {
        hs_cli_error("CURVE: %s", err);
        return 1;
    }
    return 0;
}

int hs_cli_curve_role(hs_cli_curve *c, void *socket, bool server)
{
    if (!hs_cli_curve_on(c))
        return 0;
    char err[600];
    int rc = server ? hs__curve_set_server(socket, &c->self, err, sizeof err)
                    : hs__curve_set_client(socket, &c->self, &c->server, err, sizeof err);
    if (rc == HS_OK && server && c->auth != NULL)
        rc = hs__curve_auth_watch(c->auth, socket, err, sizeof err);
    if (rc != HS_OK) {
        hs_cli_error("%s", err);
        return 1;
    }
    return 0;
}

void hs_cli_curve_stop(hs_cli_curve *c)
{
    hs__curve_auth_stop(c->auth);
    c->auth = NULL;
}
