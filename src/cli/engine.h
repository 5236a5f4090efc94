/*
 * engine.h -- what the subcommands that run a model (run, chat, eval,
 * bench) share: finding and loading the model named by -m (or the bundled
 * default), parsing "--tokens 1,2,3". Implemented in engine.c.
 */
#ifndef MONO_CLI_ENGINE_H
#define MONO_CLI_ENGINE_H

#include <stdint.h>

#include "monologue.h"

/* The model `monologue run` / `chat` / `eval` / `bench` use without -m: a
 * GGUF file, a Hugging Face folder, or a folder holding model.gguf, that the
 * training pipeline installs. Looked for in the working directory, then
 * beside the executable (cli_default_model); the environment variable
 * MONO_MODEL overrides it. */
#define MONO_DEFAULT_MODEL "models/default"
/* How many folders above the executable's folder are searched: 2 finds
 * models/default from build/monologue and from build/asan/monologue. */
#define CLI_DEFAULT_MODEL_LEVELS 2

/* The help line for -m, the same in every subcommand that takes it. */
#ifdef __EMSCRIPTEN__
#define CLI_MODEL_WHERE "\n                         in the working directory)\n"
#else
#define CLI_MODEL_WHERE "\n                         in the working directory, else up to two folders above the executable's)\n"
#endif
#define CLI_MODEL_HELP \
    "  -m, --model PATH       GGUF file or Hugging Face folder (default: $MONO_MODEL, then " MONO_DEFAULT_MODEL CLI_MODEL_WHERE

/* Parses "1,2,3" (commas, optional spaces) into *ids (free() it). Prints
 * "monologue CMD: bad token list ..." naming the bad item and returns 0 on
 * failure. */
int cli_parse_tokens(const char *cmd, const char *s, int32_t **ids, int *n);

/* The model to load when -m is absent: $MONO_MODEL when set and not empty
 * (returned as is, existing or not: loading it says what is wrong); else
 * the first that exists of MONO_DEFAULT_MODEL from the working directory,
 * then from each of the CLI_DEFAULT_MODEL_LEVELS folders above the
 * executable's (found through /proc/self/exe, so `cd /tmp &&
 * /repo/build/monologue run ...` finds /repo/models/default), copied into
 * buf (the wasm CLI, whose executable is node, looks in the working
 * directory only). NULL when none exists; tried then holds the paths
 * tried, comma separated, for the message. */
const char *cli_default_model(char *buf, size_t cap, char *tried, size_t tried_cap);

/* Loads path (NULL: cli_default_model; a folder with model.gguf and no
 * config.json loads that file), printing the error (naming the paths
 * tried when no default model is found) or, when verbose, the load time,
 * to stderr; n_threads (0: all cores) do the load-time weight copy, as
 * many as the command computes with. NULL on failure. */
mono_model *cli_load_model(const char *cmd, const char *path, int n_threads, int verbose);

#endif
