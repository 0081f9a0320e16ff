/* fuzz_exec_answer.c - the answer lines an exec consumer's child writes
 * ("ok", "fail REASON", {"ok": false, "error": "..."}), as the exec sink
 * reads them (hs__exec_parse_answer). */
#include "fuzz_util.h"

#include "sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The sink cuts the line at its '\n' and parses it in place. */
    char *line = fuzz_cstr(data, size);
    char *nl = strchr(line, '\n');
    if (nl != NULL)
        *nl = '\0';
    char err[256] = "";
    int rc = hs__exec_parse_answer(line, err, sizeof err);
    FUZZ_ASSERT(rc == HS_OK || rc == HS_EIO || rc == HS_EPARSE);
    FUZZ_ASSERT(rc == HS_OK || err[0] != '\0');
    FUZZ_ASSERT(strlen(err) < sizeof err);
    /* A small err buffer truncates the message, never overflows. */
    char small[8];
    char *again = fuzz_cstr(data, size);
    if ((nl = strchr(again, '\n')) != NULL)
        *nl = '\0';
    FUZZ_ASSERT(hs__exec_parse_answer(again, small, sizeof small) == rc);
    free(again);
    free(line);
    return 0;
}
