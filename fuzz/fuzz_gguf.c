/*
 * fuzz_gguf.c -- libFuzzer target: arbitrary bytes as a GGUF image, read
 * through the GGUF reader and the model file view. Whatever opens is then
 * walked completely (every key, array element and tensor byte range), so a
 * check that lets a bad offset through shows up as an ASan report.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/gguf.h"
#include "formats/model_file.h"

static unsigned walk_kv(const mono_gguf_kv *kv) {
    unsigned h = (unsigned)kv->type + (unsigned)strlen(kv->key);
    if (kv->type == MONO_GGUF_STRING && kv->str.len) h += (unsigned char)kv->str.ptr[kv->str.len - 1];
    if (kv->type == MONO_GGUF_ARRAY) {
        for (uint64_t i = 0; i < kv->arr_n; i++) {
            int64_t v;
            float f;
            if (kv->arr_strs && kv->arr_strs[i].len) h += (unsigned char)kv->arr_strs[i].ptr[kv->arr_strs[i].len - 1];
            if (mono_gguf_arr_int(kv, i, &v)) h += (unsigned)v;
            if (mono_gguf_arr_f32(kv, i, &f)) h += f > 0;
        }
    } else if (kv->size) {
        h += kv->data[kv->size - 1];
    }
    return h;
}

static unsigned walk_tensor(const mono_tensor *t) {
    const uint8_t *p = t->data;
    unsigned h = (unsigned)t->type + (unsigned)t->n_dims + (unsigned)strlen(t->name);
    if (t->nbytes) h += p[0] + p[t->nbytes - 1];
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    volatile unsigned sink = 0;
    mono_gguf *g = NULL;
    mono_error err;
    if (mono_gguf_open_memory(data, size, &g, &err) == MONO_OK) {
        for (size_t i = 0; i < mono_gguf_n_kv(g); i++) sink += walk_kv(mono_gguf_kv_at(g, i));
        for (size_t i = 0; i < mono_gguf_n_tensors(g); i++) {
            const mono_tensor *t = mono_gguf_tensor_at(g, i);
            sink += walk_tensor(t);
            sink += mono_gguf_tensor(g, t->name) == t;
        }
        uint32_t u;
        float f;
        mono_gguf_str s;
        sink += mono_gguf_get_u32(g, "general.alignment", &u, &err) + mono_gguf_get_f32(g, "qwen2.rope.freq_base", &f, &err) +
                mono_gguf_get_str(g, "general.architecture", &s, &err);
        mono_gguf_close(g);
    }
    mono_model_file *mf = NULL;
    if (mono_model_file_open_memory(data, size, &mf, &err) == MONO_OK) {
        for (size_t i = 0; i < mono_model_file_n_tensors(mf); i++) sink += walk_tensor(mono_model_file_tensor_at(mf, i));
        sink += (unsigned)mono_model_file_hparams(mf)->n_vocab;
        mono_model_file_close(mf);
    }
    (void)sink;
    return 0;
}
