/* main.c - `hashspace`: dispatch to the subcommand named by argv[1], or
 * `hashspace help COMMAND`. */
#include "cli_util.h"
#include "commands.h"

#include "hashspace/version.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} commands[] = {
#define HS__CMD_ROW(name, summary) {#name, summary, hs_cmd_##name},
    HS_COMMAND_MAP(HS__CMD_ROW)
#undef HS__CMD_ROW
};

static void usage(FILE *out)
{
    fprintf(out, "usage: hashspace COMMAND [OPTIONS...]\n\n"
                 "Split a message stream or a key space across members by consistent hashing.\n\n"
                 "Commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out,
            "\n'hashspace help COMMAND' (or 'hashspace COMMAND --help') describes one\n"
            "command; 'man hashspace COMMAND' too. 'hashspace --version' prints the version.\n");
}

static int find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(name, commands[i].name) == 0)
            return (int)i;
    return -1;
}

/* Run command i with argv[0] "hashspace NAME", so that getopt's own
 * messages carry the same prefix as the command's ("hashspace NAME: ..."). */
static int run_command(int i, int argc, char **argv)
{
    char argv0[64];
    snprintf(argv0, sizeof argv0, "hashspace %s", commands[i].name);
    argv[0] = argv0;
    hs_cli_set_command(commands[i].name);
    return commands[i].run(argc, argv);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hashspace %s\n", hs_version());
        return 0;
    }
    if (strcmp(argv[1], "help") == 0) {
        /* hashspace help [COMMAND]: the same as COMMAND --help. */
        hs_cli_set_command("help");
        if (argc == 2) {
            usage(stdout);
            return 0;
        }
        int i = find_command(argv[2]);
        if (i < 0 || argc > 3) {
            hs_cli_error(i < 0 ? "unknown command '%s' (try 'hashspace --help')"
                               : "one command at a time ('%s')",
                         argv[i < 0 ? 2 : 3]);
            return 2;
        }
        char help[] = "--help";
        char *args[] = {argv[2], help, NULL};
        return run_command(i, 2, args);
    }
    int i = find_command(argv[1]);
    if (i >= 0)
        return run_command(i, argc - 1, argv + 1);
    hs_cli_error("unknown command '%s' (try 'hashspace --help')", argv[1]);
    return 2;
}
