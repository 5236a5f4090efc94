/*
 * monologue.h -- the one public header of Monologue, a small LLM inference
 * engine in C11 that runs Qwen2-family models on the CPU, in WebAssembly and
 * (later) on WebGPU.
 *
 * Read this file top to bottom: it is the tutorial.
 *
 *   1. Errors        every fallible call returns a mono_status and fills an
 *                    optional mono_error with a message you can print.
 *   2. Tokenizer     byte-level BPE, exactly Hugging Face's on Qwen2/GPT-2
 *                    tokenizer.json files; it also trains new vocabularies.
 *   3. Model         load a GGUF file or a Hugging Face folder once ...
 *   4. Context       ... and run any number of independent contexts on it,
 *                    each with its own KV cache.
 *   5. Sampler       turn logits into the next token.
 *
 * Conventions
 *   - Every name starts with mono_ and reads prefix_noun_verb.
 *   - Objects come in init/free (or load/free) pairs; free(NULL) is a no-op.
 *   - Nothing here prints, exits or keeps global mutable state: two threads
 *     may use two different objects freely. One object is not thread-safe
 *     unless its comment says so (a loaded mono_model and mono_tokenizer are
 *     read-only after loading and may be shared by many contexts/threads).
 *   - Arrays the library allocates for you are released with mono_free().
 */
#ifndef MONOLOGUE_H
#define MONOLOGUE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MONO_VERSION_STRING "0.1.0"

/* ------------------------------------------------------------------------
 * 1. Errors
 *
 *   mono_error err;
 *   if (mono_tokenizer_load("tokenizer.json", &tok, &err) != MONO_OK)
 *       fprintf(stderr, "error: %s\n", err.message);
 *
 * Passing NULL for the mono_error* is allowed: you still get the status.
 * ---------------------------------------------------------------------- */
typedef enum mono_status {
    MONO_OK = 0,
    MONO_ERR_INVALID_ARG,  /* a bad argument from the caller (NULL, range)   */
    MONO_ERR_IO,           /* a file could not be opened, read or written    */
    MONO_ERR_FORMAT,       /* a file is malformed, truncated or inconsistent */
    MONO_ERR_UNSUPPORTED,  /* well-formed, but a feature we do not handle    */
    MONO_ERR_NOMEM,        /* an allocation failed or a size would overflow  */
    MONO_ERR_RANGE,        /* e.g. a prompt longer than the context          */
    MONO_ERR_CANCELLED     /* a callback asked to stop                        */
} mono_status;

typedef struct mono_error {
    mono_status status;
    char message[512];     /* NUL-terminated, human readable, no newline */
} mono_error;

/* A short constant name for a status ("invalid argument", "format", ...). */
const char *mono_status_name(mono_status status);

/* Releases memory that a mono_ call allocated and handed to you. */
void mono_free(void *ptr);

/* ------------------------------------------------------------------------
 * 2. Tokenizer
 *
 * (Section owned by the tokenizer work; see src/tokenizer/.)
 * ---------------------------------------------------------------------- */
typedef struct mono_tokenizer mono_tokenizer;

/* ------------------------------------------------------------------------
 * 3. Model  /  4. Context  /  5. Sampler
 *
 * (Sections owned by the engine work; see src/model/ and src/runtime/.)
 * ---------------------------------------------------------------------- */

#ifdef __cplusplus
}
#endif
#endif /* MONOLOGUE_H */
