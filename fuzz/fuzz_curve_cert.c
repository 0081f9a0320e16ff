/* fuzz_curve_cert.c - a CURVE certificate file as the hub reads it (czmq's
 * text format, or a bare Z85 key): whatever parses holds keys that are 40
 * characters of valid Z85, and a refusal always says why. A parsed public
 * key, written back as a certificate, parses to the same key. */
#include "fuzz_util.h"

#include "curve.h"

#include "hashspace/error.h"

#include <zmq.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstr(data, size);
    hs__curve_cert c;
    char err[512] = "";
    int rc = hs__curve_cert_parse(text, "fuzz.cert", &c, err, sizeof err);
    free(text);
    if (rc != HS_OK) {
        FUZZ_ASSERT(rc == HS_EPARSE && err[0] != '\0');
        return 0;
    }
    FUZZ_ASSERT(c.has_public || c.has_secret);
    unsigned char key[32];
    if (c.has_public) {
        FUZZ_ASSERT(strlen(c.public_z85) == HS__CURVE_Z85_LEN);
        FUZZ_ASSERT(zmq_z85_decode(key, c.public_z85) != NULL);
        char again[256];
        snprintf(again, sizeof again, "metadata\ncurve\n    public-key = \"%s\"\n", c.public_z85);
        hs__curve_cert d;
        FUZZ_ASSERT(hs__curve_cert_parse(again, "again", &d, err, sizeof err) == HS_OK);
        FUZZ_ASSERT(d.has_public && strcmp(d.public_z85, c.public_z85) == 0);
    }
    if (c.has_secret) {
        FUZZ_ASSERT(strlen(c.secret_z85) == HS__CURVE_Z85_LEN);
        FUZZ_ASSERT(zmq_z85_decode(key, c.secret_z85) != NULL);
    }
    return 0;
}
