/*
 * cli.h -- what the subcommands share: their entry points (from
 * commands.def) and small argument-parsing helpers that refuse bad values
 * with a message instead of guessing.
 */
#ifndef MONO_CLI_H
#define MONO_CLI_H

#include <stdint.h>

#define COMMAND(name, fn, help) int fn(int argc, char **argv);
#include "cli/commands.def"
#undef COMMAND

/* Each returns 1 on success; on failure prints "monologue CMD: bad value for
 * FLAG: ..." and returns 0. */
int cli_parse_int(const char *cmd, const char *flag, const char *s, long long lo, long long hi, long long *out);
int cli_parse_float(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out);
/* For "-x VALUE": returns argv[*i+1] and advances *i, or prints and returns NULL. */
const char *cli_flag_value(const char *cmd, int argc, char **argv, int *i);

#endif
