/*
 * model_file.h -- one view of a model on disk, whatever its format.
 *
 * A GGUF file and a Hugging Face folder (config.json + safetensors shards +
 * tokenizer.json) both open as a mono_model_file: hyper-parameters, named
 * tensors and where the tokenizer lives. Tensor names are GGUF's
 * (llama.cpp's) names; Hugging Face names are mapped on open:
 *
 *   model.embed_tokens.weight                  token_embd.weight
 *   model.layers.N.input_layernorm.weight      blk.N.attn_norm.weight
 *   model.layers.N.self_attn.{q,k,v}_proj.*    blk.N.attn_{q,k,v}.{weight,bias}
 *   model.layers.N.self_attn.o_proj.weight     blk.N.attn_output.weight
 *   model.layers.N.self_attn.{q,k}_norm.weight blk.N.attn_{q,k}_norm.weight (Qwen3)
 *   model.layers.N.post_attention_layernorm.*  blk.N.ffn_norm.weight
 *   model.layers.N.mlp.{gate,up,down}_proj.*   blk.N.ffn_{gate,up,down}.weight
 *   model.norm.weight                          output_norm.weight
 *   lm_head.weight                             output.weight
 *
 * Shapes follow GGUF: ne[0] is the innermost (contiguous) dimension, so a
 * PyTorch Linear weight [out, in] has ne = {in, out}. Row-major data is the
 * same bytes either way. Tensor data points into the mapped file (zero
 * copy); nothing is converted at open.
 */
#ifndef MONO_FORMATS_MODEL_FILE_H
#define MONO_FORMATS_MODEL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/types.h"
#include "monologue.h"

#define MONO_MAX_DIMS 4

typedef struct mono_tensor {
    const char *name;            /* GGUF-style name, NUL-terminated */
    int type;                    /* mono_type */
    int n_dims;
    int64_t ne[MONO_MAX_DIMS];   /* ne[0] innermost; unused dims are 1 */
    const void *data;            /* nbytes, checked to lie inside the file */
    size_t nbytes;
} mono_tensor;

typedef struct mono_hparams {
    char arch[32];               /* "qwen2", "llama", "qwen3", ... */
    char name[128];              /* general.name or "" */
    int n_layer;
    int n_embd;                  /* hidden size */
    int n_head, n_head_kv;
    int head_dim;                /* usually n_embd / n_head */
    int n_ff;                    /* intermediate size */
    int n_vocab;
    int n_ctx_train;             /* max_position_embeddings / context_length */
    float rope_theta;
    float rms_eps;
    int tied_embeddings;         /* no output.weight: reuse token_embd */
    int bos_id, eos_id, pad_id;  /* -1 if unknown */
} mono_hparams;

/* Sampling defaults a model ships (generation_config.json); has_* = 0 when
 * the file does not say. */
typedef struct mono_gen_defaults {
    int has_temperature, has_top_p, has_top_k, has_repetition_penalty, has_do_sample;
    float temperature, top_p, repetition_penalty;
    int top_k, do_sample;
    int n_eos;                   /* end-of-generation token ids */
    int eos_ids[8];
} mono_gen_defaults;

typedef struct mono_model_file mono_model_file;
struct mono_gguf;                /* see formats/gguf.h */

/* Opens a .gguf file or a Hugging Face folder (detected by path type). */
mono_status mono_model_file_open(const char *path, mono_model_file **out, mono_error *err);
/* Opens a GGUF image already in memory (the browser); data must outlive it. */
mono_status mono_model_file_open_memory(const void *data, size_t size, mono_model_file **out, mono_error *err);
void mono_model_file_close(mono_model_file *mf);
/* Releases the resident pages of tensor bytes [p, p + n) of a mapped file
 * (see mono_blob_release): for weights copied elsewhere at load. */
void mono_model_file_release(const mono_model_file *mf, const void *p, size_t n);

const mono_hparams *mono_model_file_hparams(const mono_model_file *mf);
const mono_gen_defaults *mono_model_file_gen_defaults(const mono_model_file *mf);
size_t mono_model_file_n_tensors(const mono_model_file *mf);
const mono_tensor *mono_model_file_tensor_at(const mono_model_file *mf, size_t i);
/* NULL when absent. */
const mono_tensor *mono_model_file_tensor(const mono_model_file *mf, const char *name);

/* Where the tokenizer is: the GGUF metadata (non-NULL for GGUF files) or a
 * tokenizer.json path (non-NULL for HF folders that have one). */
const struct mono_gguf *mono_model_file_gguf(const mono_model_file *mf);
const char *mono_model_file_tokenizer_json(const mono_model_file *mf);

/* ---- added by the formats work (extensions; the above is unchanged) ---- */

/* "gguf" or "safetensors": what the tensors were read from. */
const char *mono_model_file_format(const mono_model_file *mf);

/* Expected tensor shapes per architecture, in one place: the loader checks
 * them on open and the engine may call them again (e.g. after building a
 * model file by hand). Known: qwen2 (q/k/v biases required), llama and
 * mistral (biases optional), qwen3 (q/k norms required). An unknown arch has
 * no table: mono_arch_known() is 0 and the check only looks at layers. */
typedef struct mono_tensor_spec {
    char name[64];
    int n_dims;
    int64_t ne[MONO_MAX_DIMS];   /* unused dims are 1 */
    int required;
} mono_tensor_spec;

int mono_arch_known(const char *arch);
/* Writes up to cap specs for hp's arch; returns how many there are in all. */
size_t mono_arch_tensor_specs(const mono_hparams *hp, mono_tensor_spec *out, size_t cap);
/* Checks every spec against lookup(ctx, name) (NULL = absent): a missing
 * required tensor or a wrong shape is MONO_ERR_FORMAT naming the tensor. */
mono_status mono_arch_check_tensors(const mono_hparams *hp,
                                    const mono_tensor *(*lookup)(const void *ctx, const char *name),
                                    const void *ctx, mono_error *err);

/* Maps a Hugging Face tensor name to the GGUF one ("model.layers.3.mlp.
 * up_proj.weight" -> "blk.3.ffn_up.weight"); returns 0 (out untouched)
 * for names without a mapping. */
int mono_hf_tensor_name_map(const char *hf, char *out, size_t cap);

#endif
