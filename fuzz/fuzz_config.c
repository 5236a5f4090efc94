/*
 * fuzz_config.c -- libFuzzer target: arbitrary bytes as a Hugging Face
 * config.json and as a generation_config.json. Whatever parses must hold
 * hyper-parameters inside the documented limits, and the expected-shape
 * table built from them must stay consistent.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "formats/hf_config.h"
#include "formats/model_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mono_hparams hp;
    mono_gen_defaults gd;
    mono_error err;
    if (mono_hf_config_parse((const char *)data, size, &hp, &err) == MONO_OK) {
        if (mono_hparams_check(&hp, &err) != MONO_OK) abort();   /* parse must have checked */
        if (hp.n_head % hp.n_head_kv || hp.head_dim < 1) abort();
        mono_tensor_spec specs[64];
        size_t n = mono_arch_tensor_specs(&hp, specs, 64);
        for (size_t i = 0; i < n && i < 64; i++)
            for (int d = 0; d < MONO_MAX_DIMS; d++)
                if (specs[i].ne[d] < 1) abort();
    }
    if (mono_hf_gen_config_parse((const char *)data, size, &gd, &err) == MONO_OK) {
        if (gd.n_eos < 0 || gd.n_eos > 8) abort();
        if (gd.has_top_p && !(gd.top_p >= 0 && gd.top_p <= 1)) abort();
    }
    return 0;
}
