/*
 * hf_config.h -- Hugging Face config.json and generation_config.json.
 *
 * config.json: both transformers 4 (rope_theta, torch_dtype) and
 * transformers 5 (rope_parameters.rope_theta, dtype) spellings. Reads
 * model_type (recorded as the arch: qwen2, llama, qwen3, mistral, ...),
 * hidden_size, num_hidden_layers, num_attention_heads, num_key_value_heads
 * (default: heads), intermediate_size, vocab_size, max_position_embeddings
 * (default 4096), rms_norm_eps (default 1e-6), rope theta (default 10000),
 * tie_word_embeddings (default false), head_dim (default hidden/heads),
 * hidden_act (must be silu when present) and bos/eos/pad ids (null, an int
 * or a list: the first is kept). Values out of range or of the wrong type
 * are errors naming the key.
 *
 * generation_config.json: temperature, top_p, top_k, repetition_penalty,
 * do_sample, eos_token_id (int or list of up to 8).
 */
#ifndef MONO_FORMATS_HF_CONFIG_H
#define MONO_FORMATS_HF_CONFIG_H

#include <stddef.h>

#include "formats/model_file.h"
#include "monologue.h"

mono_status mono_hf_config_parse(const char *text, size_t len, mono_hparams *hp, mono_error *err);
mono_status mono_hf_gen_config_parse(const char *text, size_t len, mono_gen_defaults *gd, mono_error *err);

/* Sanity limits shared with the GGUF path (model_file.c). */
mono_status mono_hparams_check(const mono_hparams *hp, mono_error *err);

#endif
