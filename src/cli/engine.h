/*
 * engine.h -- what `monologue run` and `monologue eval` share: loading the
 * model named by -m (or the bundled default), parsing "--tokens 1,2,3", and
 * common flag handling.
 */
#ifndef MONO_CLI_ENGINE_H
#define MONO_CLI_ENGINE_H

#include <stdint.h>

#include "monologue.h"

/* The model `monologue run` / `eval` use without -m: a GGUF file, a Hugging
 * Face folder, or a folder holding model.gguf, that the training pipeline
 * installs (relative paths are tried from the working directory). The
 * environment variable MONO_MODEL overrides it. */
#define MONO_DEFAULT_MODEL "models/default"

/* Parses "1,2,3" (commas, optional spaces) into *ids (free() it). Prints
 * "monologue CMD: bad token list ..." naming the bad item and returns 0 on
 * failure. */
int cli_parse_tokens(const char *cmd, const char *s, int32_t **ids, int *n);

/* Loads path (NULL: $MONO_MODEL, then MONO_DEFAULT_MODEL; a folder with
 * model.gguf and no config.json loads that file), printing the
 * error or, when verbose, the load time, to stderr. NULL on failure. */
mono_model *cli_load_model(const char *cmd, const char *path, int verbose);

#endif
