/* cmd_keygen.c - `hashspace keygen`: a CURVE key pair for the bus, from
 * libzmq, written as czmq writes certificates (src/hub/curve.h). */
#include "cli_util.h"
#include "commands.h"

#include "curve.h"

#include "hashspace/error.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void keygen_usage(FILE *out)
{
    fputs("usage: hashspace keygen --out PREFIX [--name NAME]\n"
          "       hashspace keygen --print\n\n"
          "Make a CURVE (Curve25519) key pair for the bus with libzmq's zmq_curve_keypair\n"
          "and write it in ZeroMQ's certificate format (czmq's zcert): PREFIX holds the\n"
          "public key (mode 0644: give it to the peers), PREFIX_secret the secret key too\n"
          "(mode 0600: it stays on this host, readable by the hub's user only). Neither\n"
          "file is ever replaced: to rotate a key, make a new one under a new name.\n\n"
          "  --out PREFIX   write PREFIX and PREFIX_secret\n"
          "  --name NAME    a name for the certificates' metadata (e.g. the host)\n"
          "  --print        print the two keys in Z85 instead of writing files\n"
          "  -h, --help     this text\n\n"
          "Exit status: 0 when written, 1 on error (a file exists), 2 on bad usage.\n\n"
          "Example:\n"
          "  hashspace keygen --out /etc/hashspace/keys/hub-a.key --name hub-a\n",
          out);
}

int hs_cmd_keygen(int argc, char **argv)
{
    static const struct option options[] = {
        {"out", required_argument, NULL, 'o'},
        {"name", required_argument, NULL, 'n'},
        {"print", no_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *name = NULL;
    bool print = false;
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", options, NULL)) != -1) {
        switch (opt) {
        case 'o':
            out = optarg;
            break;
        case 'n':
            name = optarg;
            break;
        case 'p':
            print = true;
            break;
        case 'h':
            keygen_usage(stdout);
            return 0;
        default:
            keygen_usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        hs_cli_error("unexpected argument '%s' (try 'hashspace keygen --help')", argv[optind]);
        return 2;
    }
    if ((out == NULL) == !print) {
        hs_cli_error("give --out PREFIX or --print (try 'hashspace keygen --help')");
        return 2;
    }
    if (name != NULL && strpbrk(name, "\"\n\r") != NULL) {
        hs_cli_error("--name cannot hold a quote or a line break");
        return 2;
    }
    char err[600];
    hs__curve_pair pair;
    if (hs__curve_pair_new(&pair, err, sizeof err) != HS_OK) {
        hs_cli_error("%s", err);
        return 1;
    }
    int status = 0;
    if (print) {
        printf("public-key = \"%s\"\nsecret-key = \"%s\"\n", pair.public_key.z85, pair.secret_z85);
    } else if (hs__curve_cert_save(out, &pair, name, err, sizeof err) != HS_OK) {
        hs_cli_error("%s", err);
        status = 1;
    } else {
        fprintf(stderr, "keygen: public key %s in %s, secret key in %s_secret\n",
                pair.public_key.z85, out, out);
    }
    explicit_bzero(&pair, sizeof pair);
    return status;
}
