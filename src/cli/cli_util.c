/* cli_util.c - shared helpers of the hashspace subcommands. */
#include "cli_util.h"

#include "hashspace/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *command_name;

void hs_cli_set_command(const char *name)
{
    command_name = name;
}

void hs_cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (command_name != NULL)
        fprintf(stderr, "hashspace %s: ", command_name);
    else
        fputs("hashspace: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const hs_view_member *)a)->name, ((const hs_view_member *)b)->name);
}

int hs_cli_view(hs_view **out, const char *members, const char *hash, const char *placement,
                const char *secret_hex, uint64_t epoch)
{
    if (placement == NULL)
        placement = "jump";
    const hs_place_info *info = hs_place_method_find(placement);
    if (info == NULL) {
        hs_cli_error("unknown placement '%s' (expected one of: %s)", placement,
                     hs_place_method_names());
        return -1;
    }
    hs_hash_id hid = info->default_hash;
    if (hash != NULL && hs_hash_find(hash, &hid) != HS_OK) {
        hs_cli_error("unknown hash '%s' (expected one of: %s)", hash, hs_hash_names());
        return -1;
    }
    hs_hasher hasher;
    hs_hasher_init(&hasher, hid);
    if (secret_hex != NULL && hs_hasher_set_secret_hex(&hasher, secret_hex) != HS_OK) {
        hs_cli_error("--hash-key wants %d hex digits, got '%s'", 2 * HS_SIPHASH_KEYBYTES,
                     secret_hex);
        return -1;
    }
    if (members == NULL) {
        hs_cli_error("--members is required (e.g. --members hub-a,hub-b,hub-c=2)");
        return -1;
    }
    hs_view_member *list;
    size_t n, at = 0;
    char *storage;
    int rc = hs_members_parse(members, &list, &n, &storage, &at);
    if (rc == HS_EEMPTY) {
        hs_cli_error("--members: the member list is empty");
        return -1;
    }
    if (rc == HS_EWEIGHT) {
        hs_cli_error("--members: item %zu: weight must be a positive number", at + 1);
        return -1;
    }
    if (rc == HS_ENAME) {
        hs_cli_error("--members: item %zu: empty or over-long member name", at + 1);
        return -1;
    }
    if (rc != HS_OK) {
        hs_cli_error("--members: %s", hs_strerror(rc));
        return -1;
    }
    rc = hs_view_new(out, epoch, placement, NULL, &hasher, list, n);
    if (rc == HS_EEXISTS) {
        /* Name the duplicate: sort the names and find the neighbours. */
        qsort(list, n, sizeof *list, by_name);
        for (size_t i = 1; i < n; i++)
            if (strcmp(list[i - 1].name, list[i].name) == 0) {
                hs_cli_error("--members: duplicate member '%s'", list[i].name);
                break;
            }
    } else if (rc == HS_ERANGE && info->max_members != 0 && n > info->max_members) {
        hs_cli_error("placement '%s' takes at most %zu members, %zu given", placement,
                     info->max_members, n);
    } else if (rc == HS_ERANGE) {
        hs_cli_error("placement '%s' cannot hold these members: the weights are too large "
                     "(use small weights, e.g. 1 to 100) or the list too long",
                     placement);
    } else if (rc != HS_OK) {
        hs_cli_error("cannot build the view: %s", hs_strerror(rc));
    }
    free(list);
    free(storage);
    return rc == HS_OK ? 0 : -1;
}

void hs_cli_deprecated(const char *old_name, const char *new_name)
{
    hs_cli_error("warning: --%s is deprecated and goes in the next release: use --%s", old_name,
                 new_name);
}

int hs_cli_parse_count(const char *option, const char *text, unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    unsigned long long mul = 1;
    if (*end == 'k' || *end == 'K')
        mul = 1000ull, end++;
    else if (*end == 'M')
        mul = 1000000ull, end++;
    else if (*end == 'G')
        mul = 1000000000ull, end++;
    if (end == text || *end != '\0' || errno != 0 || text[0] == '-' || v > UINT64_MAX / mul) {
        hs_cli_error("%s: '%s' is not a count (e.g. 1000, 10k, 2M)", option, text);
        return -1;
    }
    *out = v * mul;
    return 0;
}

bool hs_cli_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO) != 0;
}
