/* commands.h - the subcommands of `hashspace`. One line each in the table;
 * each lives in cmd_<name>.c as `int hs_cmd_<name>(int argc, char **argv)`,
 * argv[0] being the subcommand's name. Returns the process exit status. */
#ifndef HS_CLI_COMMANDS_H
#define HS_CLI_COMMANDS_H

/* X(name, summary) */
#define HS_COMMAND_MAP(X)                                                                          \
    X(route, "print the owner of each key (KEY<TAB>OWNER[<TAB>yes|no])")                           \
    X(hub, "run a hub: receive a bus, claim by key, feed local consumers")                         \
    X(pub, "publish fedmsg-format messages: a load generator for hubs")                            \
    X(tail, "subscribe to a bus and print one line per message")                                   \
    X(status, "show a hub's view, counters and consumer backlogs from its /status")               \
    X(members, "show a cluster's views and members as its coordinator (Redis) holds them")         \
    X(bench, "measure hashes, placement methods and peers on this machine")                        \
    X(balance, "how evenly keys split over servers: by first letter, hash, placement")             \
    X(movement, "how many keys move when a member joins or leaves, per placement")

#define HS__CMD_DECL(name, summary) int hs_cmd_##name(int argc, char **argv);
HS_COMMAND_MAP(HS__CMD_DECL)
#undef HS__CMD_DECL

#endif
