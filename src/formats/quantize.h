/*
 * quantize.h -- re-encodes a GGUF model's weights into another type the way
 * llama.cpp's llama_model_quantize does (without an importance matrix), so
 * the output loads in llama.cpp and its quantized tensors are byte-identical
 * to what llama-quantize writes from the same input.
 *
 *     int ftype;
 *     mono_quantize_ftype_parse("q4_k_m", &ftype);
 *     mono_quantize_opts o = {.n_threads = 2};
 *     mono_quantize_stats st;
 *     mono_quantize_model("in-f16.gguf", "out-q4_k_m.gguf", ftype, &o, &st, &err);
 *
 * File types are llama.cpp's llama_ftype values (general.file_type); the
 * per-tensor choice (the "mixes" of Q4_K_M etc.) follows llama.cpp's
 * llama_tensor_get_type: output/tied embeddings get Q6_K (Q8_0 when their
 * rows are not a multiple of the block), attn_v and ffn_down get more bits
 * on the layers use_more_bits() picks, and a type whose block does not
 * divide a tensor's rows falls back (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K ->
 * Q8_0, Q2_K/Q3_K -> Q4_0, then F16). Norms, biases and other 1-D tensors
 * are copied unchanged.
 */
#ifndef MONO_FORMATS_QUANTIZE_H
#define MONO_FORMATS_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/model_file.h"
#include "monologue.h"

/* llama_ftype values. */
enum {
    MONO_FTYPE_F32 = 0, MONO_FTYPE_F16 = 1, MONO_FTYPE_Q4_0 = 2, MONO_FTYPE_Q4_1 = 3, MONO_FTYPE_Q8_0 = 7,
    MONO_FTYPE_Q5_0 = 8, MONO_FTYPE_Q5_1 = 9, MONO_FTYPE_Q2_K = 10, MONO_FTYPE_Q3_K_S = 11, MONO_FTYPE_Q3_K_M = 12,
    MONO_FTYPE_Q3_K_L = 13, MONO_FTYPE_Q4_K_S = 14, MONO_FTYPE_Q4_K_M = 15, MONO_FTYPE_Q5_K_S = 16,
    MONO_FTYPE_Q5_K_M = 17, MONO_FTYPE_Q6_K = 18, MONO_FTYPE_BF16 = 32
};

typedef struct mono_quantize_opts {
    int n_threads;    /* >= 1 (0 means 1) */
    int pure;         /* 1: every quantizable tensor gets the default type (no mixes) */
} mono_quantize_opts;

typedef struct mono_quantize_stats {
    size_t n_tensors, n_converted, n_fallback;
    uint64_t bytes_in, bytes_out;        /* tensor data only */
    size_t n_by_type[40];                /* output tensors per mono_type */
} mono_quantize_stats;

/* "q4_k_m", "Q4_K_M", "q8_0", "f16", ... -> llama_ftype. 0 if unknown. */
int mono_quantize_ftype_parse(const char *name, int *ftype);
/* "Q4_K_M", ... for a known ftype, else NULL. */
const char *mono_quantize_ftype_name(int ftype);
/* The names mono_quantize_ftype_parse accepts, space separated. */
const char *mono_quantize_ftype_list(void);

/* Writes out_path; st may be NULL. Input: a GGUF file or a Hugging Face
 * folder (converted to a temporary GGUF next to out_path first). */
mono_status mono_quantize_model(const char *in_path, const char *out_path, int ftype, const mono_quantize_opts *opts,
                                mono_quantize_stats *st, mono_error *err);

/* The type llama.cpp gives tensor t in a model of n_layer blocks, as part of
 * a whole-model pass (see quantize.c). Exposed for tests. */
typedef struct mono_quantize_plan {
    int ftype, default_type, pure;
    int n_layer, n_gqa, n_attention_wv, tied_embeddings;
    int i_attention_wv, i_ffn_down, i_ffn_gate, i_ffn_up, n_fallback;
} mono_quantize_plan;
int mono_quantize_tensor_type(mono_quantize_plan *p, const mono_tensor *t);

#endif
