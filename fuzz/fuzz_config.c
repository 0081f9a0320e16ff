/* fuzz_config.c - hub INI files (`--config`, `--check-config`): load through
 * libinih and our handlers, validate, print the effective configuration,
 * and check that a clean file's printout loads back to the same printout.
 *
 * The input is written to a memfd and loaded by its /proc path, as the hub
 * loads a file. */
#include "fuzz_util.h"

#include <ini.h>

#include "config.h"

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

/* Load text, check it and print it: the printout (malloc'd, *len bytes)
 * and the number of problems in *problems. */
static char *load_check_print(const void *text, size_t size, int *problems, size_t *len)
{
    hs__hub_config cfg;
    hs__config_init(&cfg);
    *problems = load(&cfg, text, size);
    *problems += hs__config_check(&cfg, devnull);
    char *out = print(&cfg, len);
    hs__config_free(&cfg);
    return out;
}

/* libinih reads a line into INI_MAX_LINE bytes, newline and NUL included. The printer splits
 * long members/arg values over repeated keys, but only at a separator with
 * no blank beside it; a value with no such place prints as one long line,
 * which cannot be read back (another limit of the INI format, like " ;"). */
static size_t longest_line(const char *text, size_t len)
{
    size_t longest = 0, run = 0;
    for (size_t i = 0; i < len; i++) {
        run = text[i] == '\n' ? 0 : run + 1;
        if (run > longest)
            longest = run;
    }
    return longest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (devnull == NULL && (devnull = fopen("/dev/null", "w")) == NULL)
        abort();
    int problems;
    size_t first_len;
    char *first = load_check_print(data, size, &problems, &first_len);
    /* " ;" starts a comment for libinih, even inside a value: such a value
     * cannot be written back (a known limit of the INI format). */
    if (problems == 0 && memmem(first, first_len, " ;", 2) == NULL &&
        longest_line(first, first_len) + 2 <= INI_MAX_LINE) {
        /* A clean file's printout loads without problems; blanks at the ends
         * of values (which INI cannot carry) may go, so from then on the
         * printout must be a fixed point. */
        int second_problems, third_problems;
        size_t second_len, third_len;
        char *second = load_check_print(first, first_len, &second_problems, &second_len);
        char *third = load_check_print(second, second_len, &third_problems, &third_len);
        if (second_problems != 0 || third_problems != 0 || second_len != third_len ||
            memcmp(second, third, second_len) != 0) {
            fprintf(stderr, "printed config does not load back the same (%d problems):\n%s\n--\n%s",
                    second_problems, first, second);
            abort();
        }
        free(second);
        free(third);
    }
    free(first);
    return 0;
}
