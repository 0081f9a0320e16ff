/* cli_util.h - what every subcommand needs: error messages a person can act
 * on, and turning --hash/--placement/--members into a view. */
#ifndef HS_CLI_UTIL_H
#define HS_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "hashspace/view.h"

/* Print "hashspace: <fmt>" to stderr. */
void hs_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Build a view from user words. hash may be NULL (the placement's default
 * hash); placement NULL means "jump". Prints a one-line error and returns
 * non-zero on bad input. secret_hex (NULL for none) is the siphash key as 32
 * hex digits. */
int hs_cli_view(hs_view **out, const char *members, const char *hash, const char *placement,
                const char *secret_hex, uint64_t epoch);

/* Parse a non-negative integer option with an optional k/M/G suffix (10^3,
 * 10^6, 10^9); prints an error naming the option on failure. */
int hs_cli_parse_count(const char *option, const char *text, unsigned long long *out);

/* True if stdout/stderr is a terminal: progress lines only then. */
bool hs_cli_stderr_is_tty(void);

#endif
