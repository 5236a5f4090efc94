/*
 * gguf_convert.h -- writes any opened model (a Hugging Face folder or a
 * GGUF file) as a GGUF v3 file that llama.cpp loads: llama.cpp's metadata
 * keys for the hyper-parameters, the tokenizer as tokenizer.ggml.* (from a
 * tokenizer.json, the source GGUF's own keys, or -- when the model has no
 * tokenizer, like the golden test models -- a placeholder vocabulary of the
 * 256 byte tokens padded with "[PAD<i>]"), and every tensor under its GGUF
 * name, matrices converted to the requested type (norms and biases always
 * F32, as llama.cpp expects).
 */
#ifndef MONO_FORMATS_GGUF_CONVERT_H
#define MONO_FORMATS_GGUF_CONVERT_H

#include "formats/model_file.h"
#include "monologue.h"

typedef struct mono_convert_options {
    int type;                    /* matrices: a mono_type with from_float, or -1 to keep each as stored */
    const char *tokenizer_json;  /* NULL: the model's own tokenizer (if any) */
    const char *name;            /* general.name; NULL keeps the model's */
} mono_convert_options;

void mono_convert_options_init(mono_convert_options *opt);

mono_status mono_model_file_write_gguf(const mono_model_file *mf, const mono_convert_options *opt, const char *path,
                                       mono_error *err);

#endif
