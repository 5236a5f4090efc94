/*
 * sampler.h -- private sampler helpers: the filtered distribution a draw is
 * taken from (for tests and for tools that show candidates), and filling
 * sampler parameters from a model's generation_config.
 */
#ifndef MONO_RUNTIME_SAMPLER_H
#define MONO_RUNTIME_SAMPLER_H

#include "formats/model_file.h"
#include "monologue.h"

typedef struct mono_token_prob {
    int32_t id;
    float logit;   /* after penalties and temperature */
    float p;       /* renormalised over the survivors */
} mono_token_prob;

/* Runs steps 1-6 of the pipeline (see monologue.h) on logits and points
 * *out at the survivors (valid until the next call on s), in no particular
 * order. With temperature <= 0 the one survivor is the greedy token, p = 1. */
mono_status mono_sampler_dist(mono_sampler *s, const float *logits, int n_vocab, const mono_token_prob **out,
                              size_t *n_out, mono_error *err);

/* Which sampler fields a caller set explicitly (e.g. CLI flags), so they win
 * over a model's generation_config. */
enum {
    MONO_SP_TEMPERATURE = 1 << 0,
    MONO_SP_TOP_K = 1 << 1,
    MONO_SP_TOP_P = 1 << 2,
    MONO_SP_MIN_P = 1 << 3,
    MONO_SP_REPETITION_PENALTY = 1 << 4,
    MONO_SP_PRESENCE_PENALTY = 1 << 5,
    MONO_SP_FREQUENCY_PENALTY = 1 << 6,
    MONO_SP_PENALTY_LAST_N = 1 << 7,
    MONO_SP_SEED = 1 << 8
};

/* Hugging Face semantics: start from GenerationConfig's defaults
 * (mono_sampler_params_default), take every value generation_config.json
 * sets, and decode greedily unless it says do_sample: true (HF's default is
 * greedy). Then the fields flagged in `set` are copied from `overrides`; an
 * explicit temperature > 0 turns sampling on. gd may be NULL (no config). */
mono_sampler_params mono_sampler_params_resolve(const mono_gen_defaults *gd, const mono_sampler_params *overrides,
                                                unsigned set);

#endif
