/*
 * model_tokenizer.c -- the tokenizer a model file carries (a GGUF file's
 * tokenizer.ggml.* metadata, or a Hugging Face folder's tokenizer.json) and
 * the model's stop tokens.
 *
 * A file without a tokenizer loads with none (mono_model_tokenizer gives
 * NULL: ids only). A tokenizer the tokenizer layer does not support (e.g. a
 * SentencePiece vocabulary) also leaves none, and the reason is kept for the
 * caller to show; a malformed one fails the load.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "formats/gguf.h"
#include "model/model.h"
#include "tokenizer/tokenizer.h"

mono_status mono_model_load_tokenizer(mono_model *m, mono_error *err) {
    m->tokenizer = NULL;
    m->tokenizer_note[0] = '\0';
    const struct mono_gguf *g = mono_model_file_gguf(m->file);
    const char *json = mono_model_file_tokenizer_json(m->file);
    mono_error terr;
    mono_status s;
    if (g) {
        if (!mono_gguf_find(g, "tokenizer.ggml.model")) {
            snprintf(m->tokenizer_note, sizeof m->tokenizer_note, "the GGUF file has no tokenizer.ggml.* metadata");
            return MONO_OK;
        }
        s = mono_tokenizer_from_gguf(g, &m->tokenizer, &terr);
    } else if (json) {
        s = mono_tokenizer_load(json, &m->tokenizer, &terr);
    } else {
        snprintf(m->tokenizer_note, sizeof m->tokenizer_note, "the model folder has no tokenizer.json");
        return MONO_OK;
    }
    if (s == MONO_ERR_UNSUPPORTED) {
        snprintf(m->tokenizer_note, sizeof m->tokenizer_note, "%.250s", terr.message);
        m->tokenizer = NULL;
        return MONO_OK;
    }
    if (s != MONO_OK) return mono_error_set(err, s, "tokenizer: %s", terr.message);
    if (mono_tokenizer_n_vocab(m->tokenizer) > m->hp.n_vocab) {
        int nt = mono_tokenizer_n_vocab(m->tokenizer);
        mono_tokenizer_free(m->tokenizer);
        m->tokenizer = NULL;
        return mono_error_set(err, MONO_ERR_FORMAT, "the tokenizer has %d tokens but the model only %d embeddings", nt,
                              m->hp.n_vocab);
    }
    return MONO_OK;
}

void mono_model_free_tokenizer(mono_model *m) {
    mono_tokenizer_free(m->tokenizer);
    m->tokenizer = NULL;
}

const mono_tokenizer *mono_model_tokenizer(const mono_model *m) { return m ? m->tokenizer : NULL; }

const char *mono_model_tokenizer_note(const mono_model *m) { return m ? m->tokenizer_note : ""; }

static void add_id(int ids[MONO_MAX_EOS], int *n, int id, int n_vocab) {
    if (id < 0 || id >= n_vocab || *n >= MONO_MAX_EOS) return;
    for (int i = 0; i < *n; i++)
        if (ids[i] == id) return;
    ids[(*n)++] = id;
}

/* Special tokens that end a turn in the chat formats we know (ChatML,
 * Llama 3, Phi): generation stops at them even when the file names only
 * one eos id (GGUF files carry a single tokenizer.ggml.eos_token_id). */
static const char *const end_of_turn[] = {"<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|end|>"};

void mono_model_eos_ids(const mono_model *m, int ids[MONO_MAX_EOS], int *n) {
    *n = 0;
    int V = m->hp.n_vocab;
    for (int i = 0; i < m->gen.n_eos && i < 8; i++) add_id(ids, n, m->gen.eos_ids[i], V);
    add_id(ids, n, m->hp.eos_id, V);
    if (!m->tokenizer) return;
    add_id(ids, n, mono_tokenizer_eos_id(m->tokenizer), V);
    for (size_t i = 0; i < sizeof end_of_turn / sizeof *end_of_turn; i++) {
        int32_t id = mono_tokenizer_token_id(m->tokenizer, end_of_turn[i], strlen(end_of_turn[i]));
        if (id >= 0 && mono_tokenizer_token_is_special(m->tokenizer, id)) add_id(ids, n, id, V);
    }
}
