/* main.c - `hashspace`: dispatch to the subcommand named by argv[1]. */
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
    fprintf(out, "\n'hashspace COMMAND --help' describes one command.\n"
                 "'hashspace --version' prints the version.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("hashspace %s\n", hs_version());
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "hashspace: unknown command '%s' (try 'hashspace --help')\n", argv[1]);
    return 2;
}
