/*
 * arch.c -- the table of architectures the forward pass understands.
 *
 * Only qwen2 is enabled: it is the one the golden references in
 * shared/golden/models and the llama.cpp cross-check cover. llama and qwen3
 * are expressible as rows (their switches are listed) but stay disabled
 * until a reference test runs them; mono_model_load refuses them with
 * "unsupported architecture".
 */
#include "model/arch.h"

#include <string.h>

static const mono_arch arch_table[] = {
    /* name     supported qkv_bias qk_norm tied_allowed rope            act */
    {"qwen2",   1,        1,       0,      1,           MONO_ROPE_NEOX,   MONO_ACT_SILU},
    {"llama",   0,        0,       0,      1,           MONO_ROPE_NORMAL, MONO_ACT_SILU},
    {"qwen3",   0,        0,       1,      1,           MONO_ROPE_NEOX,   MONO_ACT_SILU},
};

int mono_arch_count(void) { return (int)(sizeof arch_table / sizeof arch_table[0]); }

const mono_arch *mono_arch_at(int i) {
    return (i >= 0 && i < mono_arch_count()) ? &arch_table[i] : NULL;
}

const mono_arch *mono_arch_find(const char *name) {
    if (!name) return NULL;
    for (int i = 0; i < mono_arch_count(); i++)
        if (strcmp(arch_table[i].name, name) == 0) return &arch_table[i];
    return NULL;
}
