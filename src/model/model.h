/*
 * model.h -- a loaded model as the forward pass sees it: the architecture
 * row, hyper-parameters, and every weight bound by role (with its shape
 * checked against the hyper-parameters at load).
 *
 * Big matrices stay in the mapped file (mono_tensor.data, any type); the
 * small vectors (norm weights, biases) are converted to float32 once at load
 * so the hot loops never branch on their type.
 */
#ifndef MONO_MODEL_MODEL_H
#define MONO_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "formats/model_file.h"
#include "core/bigbuf.h"
#include "kernels/kernels.h"
#include "model/arch.h"
#include "monologue.h"

/* A matrix operand: rows of n_cols elements of `type`, row_bytes apart.
 * For a Linear weight [out, in]: n_rows = out, n_cols = in. */
typedef struct mono_matrix {
    const void *data;
    int type;
    int64_t n_rows, n_cols;
    size_t row_bytes;
    /* The same matrix repacked at load for the kernel table's gemm_repacked
     * (groups of kernels.repack_rows[type] rows interleaved), or NULL. When
     * set, matmul and the embedding lookup read only this copy (the file
     * pages behind `data` are released after repacking). */
    const void *packed;
} mono_matrix;

typedef struct mono_layer {
    /* float32 vectors (in mono_model.vectors) */
    const float *attn_norm;      /* [n_embd] */
    const float *bq, *bk, *bv;   /* [n_head*head_dim], [n_kv*head_dim] x2; NULL without biases */
    const float *q_norm, *k_norm;/* [head_dim]; NULL unless arch->qk_norm */
    const float *ffn_norm;       /* [n_embd] */
    /* matrices in the file */
    mono_matrix wq;              /* [n_head*head_dim, n_embd] */
    mono_matrix wk, wv;          /* [n_kv*head_dim, n_embd] */
    mono_matrix wo;              /* [n_embd, n_head*head_dim] */
    mono_matrix w_gate, w_up;    /* [n_ff, n_embd] */
    mono_matrix w_down;          /* [n_embd, n_ff] */
} mono_layer;

struct mono_model {
    mono_model_file *file;
    const mono_arch *arch;
    mono_hparams hp;
    mono_gen_defaults gen;
    mono_kernels kernels;
    mono_matrix tok_embd;        /* [n_vocab, n_embd] */
    mono_matrix output;          /* [n_vocab, n_embd]; = tok_embd when tied */
    const float *output_norm;    /* [n_embd] */
    mono_layer *layers;          /* [n_layer] */
    float *vectors;              /* one allocation behind every float32 vector */
    /* Weights moved off the file at load (see model.c): matrices repacked
     * for the kernels, and, where the OS has huge pages, the others copied
     * as they are. One buffer for all, so huge pages cost no per-matrix
     * rounding. */
    mono_bigbuf weights;
    int n_packed, n_copied;      /* matrices repacked / copied into weights */
    size_t packed_bytes, copied_bytes;
    mono_tokenizer *tokenizer;   /* NULL when the file has none */
    char tokenizer_note[256];    /* why tokenizer is NULL ("" when it is not) */
    long long n_params;
    size_t weight_bytes;
    size_t embd_bytes;           /* token_embd.weight's share of weight_bytes */
    int main_type;               /* the type holding most weight bytes */
};

#endif

/* model_tokenizer.c: the model's tokenizer and its stop tokens. */
mono_status mono_model_load_tokenizer(mono_model *m, mono_error *err);
void mono_model_free_tokenizer(mono_model *m);
/* End-of-generation ids (the file's eos ids, generation_config's, and the
 * tokenizer's end-of-turn specials such as <|im_end|>), deduplicated. */
/* Why mono_model_tokenizer gives NULL ("" when it does not). */
const char *mono_model_tokenizer_note(const mono_model *m);
void mono_model_eos_ids(const mono_model *m, int ids[MONO_MAX_EOS], int *n);
