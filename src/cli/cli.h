/*
 * cli.h -- what the subcommands share: their entry points (from
 * commands.def), small argument-parsing helpers that refuse bad values
 * with a message instead of guessing, and the sampling flags of `run` and
 * `chat` (parsed in one place, args.c).
 */
#ifndef MONO_CLI_H
#define MONO_CLI_H

#include <stdint.h>

#include "monologue.h"

#define COMMAND(name, fn, help) int fn(int argc, char **argv);
#include "cli/commands.def"
#undef COMMAND

/* Each returns 1 on success; on failure prints "monologue CMD: bad value for
 * FLAG: ..." and returns 0. */
int cli_parse_int(const char *cmd, const char *flag, const char *s, long long lo, long long hi, long long *out);
int cli_parse_float(const char *cmd, const char *flag, const char *s, double lo, double hi, double *out);
/* For "-x VALUE": returns argv[*i+1] and advances *i, or prints and returns NULL. */
const char *cli_flag_value(const char *cmd, int argc, char **argv, int *i);
/* "--kv f32|f16": 1 with *kv set (MONO_KV_*), or prints "monologue CMD: bad
 * value for --kv: ..." and returns 0. */
int cli_parse_kv(const char *cmd, const char *s, int *kv);

/* ---- sampling flags: --temp --top-k --top-p --min-p --repeat-penalty
 * --seed, and (CLI_SAMPLING_OPENAI_PENALTIES) --presence-penalty
 * --frequency-penalty. Each given flag overrides the model's
 * generation_config; --seed absent means a seed from the clock. */
enum { CLI_SAMPLING_OPENAI_PENALTIES = 1u << 0 };

typedef struct cli_sampling {
    const char *cmd;            /* the subcommand its messages name */
    unsigned accept;            /* CLI_SAMPLING_* flags the subcommand takes */
    double top_p_min;           /* smallest --top-p taken (run: 0, left to the sampler to refuse; chat: 1e-6) */
    mono_sampler_params values; /* the values given */
    unsigned set;               /* which were given: MONO_SP_* bits (runtime/sampler.h) */
} cli_sampling;

void cli_sampling_init(cli_sampling *s, const char *cmd, unsigned accept, double top_p_min);
/* If argv[*i] is a sampling flag the subcommand takes, reads its value
 * (advancing *i) and returns 1; returns 0 when it is not one; -1 when the
 * value is missing or bad (the message printed, as by cli_parse_*). */
int cli_sampling_parse(cli_sampling *s, int argc, char **argv, int *i);
/* The model's sampling defaults with the flags given applied over them. */
mono_sampler_params cli_sampling_params(const cli_sampling *s, const mono_model *model);

/* Help lines for the sampling flags, in the order usage texts list them. */
#define CLI_SAMPLING_HELP                                                                       \
    "  --temp T               temperature; 0 = greedy (default: the model's generation_config)\n" \
    "  --top-k K              keep the K most likely tokens (0 = off)\n"                         \
    "  --top-p P              nucleus sampling (1 = off)\n"                                      \
    "  --min-p P              drop tokens below P x the top probability (0 = off)\n"            \
    "  --repeat-penalty R     Hugging Face repetition penalty (1 = off)\n"
#define CLI_SAMPLING_HELP_OPENAI                                                                \
    "  --presence-penalty P   OpenAI presence penalty (0 = off)\n"                               \
    "  --frequency-penalty F  OpenAI frequency penalty (0 = off)\n"
#define CLI_SAMPLING_HELP_SEED "  --seed S               random seed (default: from the clock)\n"

#endif
