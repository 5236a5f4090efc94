/*
 * fuzz_safetensors.c -- libFuzzer target: arbitrary bytes as a
 * .safetensors file. Whatever opens is walked: every tensor's first and last
 * byte is read and every name looked up, so an unchecked offset or size
 * shows up as an ASan report.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "formats/model_file.h"
#include "formats/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    volatile unsigned sink = 0;
    mono_safetensors *st = NULL;
    mono_error err;
    if (mono_safetensors_open_memory(data, size, &st, &err) != MONO_OK) return 0;
    for (size_t i = 0; i < mono_safetensors_n_tensors(st); i++) {
        const mono_tensor *t = mono_safetensors_tensor_at(st, i);
        const uint8_t *p = t->data;
        size_t es = mono_safetensors_type_size(t->type);
        sink += (unsigned)strlen(t->name) + (unsigned)es;
        if (t->nbytes) sink += p[0] + p[t->nbytes - 1];
        sink += mono_safetensors_tensor(st, t->name) == t;
        char out[128];
        sink += (unsigned)mono_hf_tensor_name_map(t->name, out, sizeof out);
    }
    mono_safetensors_close(st);
    (void)sink;
    return 0;
}
