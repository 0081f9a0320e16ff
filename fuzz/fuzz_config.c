/* fuzz_config.c - hub INI files (`--config`, `--check-config`): load through
 * libinih and our handlers, validate, print the effective configuration,
 * and check that a clean file's printout loads back to the same printout.
 *
 * The input is written to a memfd and loaded by its /proc path, as the hub
 * loads a file. */
#include "fuzz_util.h"

#include "config.h"

#include <ctype.h>
#include <sys/mman.h>
#include <unistd.h>

static FILE *devnull;

/* Load text as a config file into cfg; the number of problems reported. */
static int load(hs__hub_config *cfg, const void *text, size_t len)
{
    int fd = memfd_create("hs-fuzz-config", 0);
    FUZZ_ASSERT(fd >= 0);
    FUZZ_ASSERT(write(fd, text, len) == (ssize_t)len);
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    int problems = hs__config_load(cfg, path, devnull);
    close(fd);
    return problems;
}

/* The effective configuration as hs__config_print writes it (malloc'd). */
static char *print(const hs__hub_config *cfg, size_t *len)
{
    char *out = NULL;
    FILE *f = open_memstream(&out, len);
    FUZZ_ASSERT(f != NULL);
    hs__config_print(cfg, f);
    fclose(f);
    return out;
}

/* Drop the blanks at both ends of each "name = value" line's value, in
 * place: INI cannot carry them (libinih trims), so a value that has them
 * (an arg written "file:  x" in a consumer spec) reloads without. */
static size_t trim_values(char *text, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        char *eol = memchr(text + i, '\n', len - i);
        size_t end = eol != NULL ? (size_t)(eol - text) : len;
        char *eq = memmem(text + i, end - i, " = ", 3);
        size_t v = eq != NULL ? (size_t)(eq - text) + 3 : end, e = end;
        memmove(text + o, text + i, v - i);
        o += v - i;
        while (v < e && isspace((unsigned char)text[v]))
            v++;
        while (e > v && isspace((unsigned char)text[e - 1]))
            e--;
        memmove(text + o, text + v, e - v);
        o += e - v;
        if (eol != NULL)
            text[o++] = '\n';
        i = end + 1;
    }
    text[o] = '\0'; /* open_memstream left room for it */
    return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
        abort();
    hs__hub_config cfg;
    hs__config_init(&cfg);
    int problems = load(&cfg, data, size);
    problems += hs__config_check(&cfg, devnull);
    size_t first_len;
    char *first = print(&cfg, &first_len);
    hs__config_free(&cfg);
    if (problems == 0) {
        hs__hub_config again;
        hs__config_init(&again);
        int reload = load(&again, first, first_len);
        reload += hs__config_check(&again, devnull);
        size_t second_len;
        char *second = print(&again, &second_len);
        size_t a = trim_values(first, first_len), b = trim_values(second, second_len);
        if (reload != 0 || a != b || memcmp(first, second, a) != 0) {
            fprintf(stderr, "printed config does not load back the same (%d problems):\n%s\n--\n%s",
                    reload, first, second);
            abort();
        }
        free(second);
        hs__config_free(&again);
    }
    free(first);
    return 0;
}
