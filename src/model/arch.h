/*
 * arch.h -- model architectures as data.
 *
 * The Qwen2 family and its relatives differ in a handful of switches (biases
 * on q/k/v, a norm on q and k, how RoPE pairs dimensions, ...). Each
 * architecture is one row of a constant table; the forward pass reads the
 * row instead of branching on names. A row marked unsupported is known but
 * refused at load ("unsupported architecture") until a reference test covers
 * it: running it anyway could be silently wrong.
 */
#ifndef MONO_MODEL_ARCH_H
#define MONO_MODEL_ARCH_H

typedef enum mono_rope_style {
    MONO_ROPE_NEOX = 0,    /* rotate_half: pairs (i, i + head_dim/2) (HF Qwen2, GGUF qwen2) */
    MONO_ROPE_NORMAL = 1   /* interleaved pairs (2i, 2i+1) (GGUF llama, Q/K permuted) */
} mono_rope_style;

typedef enum mono_act {
    MONO_ACT_SILU = 0      /* SwiGLU: silu(gate) * up */
} mono_act;

typedef struct mono_arch {
    const char *name;      /* as in GGUF general.architecture / HF model_type */
    int supported;         /* 1 when a reference test covers it */
    int qkv_bias;          /* q/k/v projections carry biases (required) */
    int qk_norm;           /* RMSNorm over each head of q and k before RoPE */
    int tied_allowed;      /* may reuse token_embd as the output projection */
    mono_rope_style rope;
    mono_act act;
} mono_arch;

/* The row for an architecture name, or NULL when it is not in the table. */
const mono_arch *mono_arch_find(const char *name);

/* Rows of the table, for listing (i in [0, mono_arch_count())). */
int mono_arch_count(void);
const mono_arch *mono_arch_at(int i);

#endif
