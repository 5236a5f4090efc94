/*
 * model_tokenizer.c -- the tokenizer a model file carries (GGUF metadata or
 * a Hugging Face folder's tokenizer.json) and the model's stop tokens.
 */
#include <string.h>

#include "core/error.h"
#include "model/model.h"

mono_status mono_model_load_tokenizer(mono_model *m, mono_error *err) {
    (void)err;
    m->tokenizer = NULL;
    return MONO_OK;
}

void mono_model_free_tokenizer(mono_model *m) { m->tokenizer = NULL; }

const mono_tokenizer *mono_model_tokenizer(const mono_model *m) { return m ? m->tokenizer : NULL; }

static void add_id(int ids[MONO_MAX_EOS], int *n, int id, int n_vocab) {
    if (id < 0 || id >= n_vocab || *n >= MONO_MAX_EOS) return;
    for (int i = 0; i < *n; i++)
        if (ids[i] == id) return;
    ids[(*n)++] = id;
}

void mono_model_eos_ids(const mono_model *m, int ids[MONO_MAX_EOS], int *n) {
    *n = 0;
    for (int i = 0; i < m->gen.n_eos && i < 8; i++) add_id(ids, n, m->gen.eos_ids[i], m->hp.n_vocab);
    add_id(ids, n, m->hp.eos_id, m->hp.n_vocab);
}
