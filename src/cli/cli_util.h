/* cli_util.h - what every subcommand needs: error messages a person can act
 * on, and turning --hash/--placement/--members into a view. */
#ifndef HS_CLI_UTIL_H
#define HS_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include "hashspace/view.h"

/* The subcommand running, for the prefix of every error message; main sets
 * it before dispatching. */
void hs_cli_set_command(const char *name);
/* Print "hashspace COMMAND: <fmt>" to stderr ("hashspace: <fmt>" before a
 * command is known): one prefix for every error of the command line. */
void hs_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Build a view from user words. hash may be NULL (the placement's default
 * hash); placement NULL means "jump". Prints a one-line error and returns
 * non-zero on bad input. secret_hex (NULL for none) is the siphash key as 32
 * hex digits. */
int hs_cli_view(hs_view **out, const char *members, const char *hash, const char *placement,
                const char *secret_hex, uint64_t epoch);

/* A renamed option given by its old spelling, which stays an alias for one
 * release: says so on stderr ("--old is deprecated: use --new"). */
void hs_cli_deprecated(const char *old_name, const char *new_name);

/* Parse a non-negative integer option with an optional k/M/G suffix (10^3,
 * 10^6, 10^9); prints an error naming the option on failure. */
int hs_cli_parse_count(const char *option, const char *text, unsigned long long *out);

/* True if stdout/stderr is a terminal: progress lines only then. */
bool hs_cli_stderr_is_tty(void);

#endif
