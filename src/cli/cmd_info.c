/*
 * cmd_info.c -- `monologue info -m MODEL`: what a model file holds.
 *
 * Prints the format, architecture and hyper-parameters, where the tokenizer
 * lives, the generation defaults, and the tensors summarised by type
 * (count, parameters, bytes); --tensors lists every tensor (name, type,
 * shape, bytes), --metadata every GGUF key. A file that does not open
 * prints the reason and exits 1; bad flags exit 2.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "formats/gguf.h"
#include "formats/model_file.h"
#include "formats/safetensors.h"
#include "kernels/types.h"
#include "monologue.h"

static void usage(FILE *f) {
    fprintf(f, "usage: monologue info -m MODEL [--tensors] [--metadata]\n\n"
               "  -m, --model PATH  a .gguf file or a Hugging Face folder (config.json + safetensors)\n"
               "  --tensors         list every tensor: name, type, shape, bytes\n"
               "  --metadata        list every GGUF metadata key and value\n");
}

static const char *type_name(int type) {
    const mono_type_traits *tr = mono_type_get(type);
    return tr ? tr->name : mono_safetensors_type_name(type);
}

/* "1,234,567" into buf */
static const char *commas(uint64_t v, char *buf, size_t cap) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%" PRIu64, v), k = 0;
    for (int i = 0; i < n && (size_t)k + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0) buf[k++] = ',';
        buf[k++] = tmp[i];
    }
    buf[k] = 0;
    return buf;
}

static const char *human_bytes(double b, char *buf, size_t cap) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024 && u < 4) { b /= 1024; u++; }
    snprintf(buf, cap, u ? "%.2f %s" : "%.0f %s", b, units[u]);
    return buf;
}

/* Prints s (not NUL-terminated) with control bytes escaped, cut at max. */
static void print_escaped(const char *s, size_t len, size_t max) {
    for (size_t i = 0; i < len && i < max; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') fputs("\\n", stdout);
        else if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c == 0x7f) printf("\\x%02x", c);
        else putchar(c);
    }
    if (len > max) fputs("...", stdout);
}

static void print_kv(const mono_gguf_kv *kv) {
    printf("  %-48s %-7s ", kv->key, mono_gguf_type_name(kv->type));
    int64_t iv;
    if (kv->type == MONO_GGUF_STRING) {
        putchar('"');
        print_escaped(kv->str.ptr, kv->str.len, 80);
        putchar('"');
    } else if (kv->type == MONO_GGUF_BOOL) {
        fputs(kv->data[0] ? "true" : "false", stdout);
    } else if (kv->type == MONO_GGUF_FLOAT32 || kv->type == MONO_GGUF_FLOAT64) {
        uint64_t bits = 0;
        for (int i = kv->type == MONO_GGUF_FLOAT32 ? 3 : 7; i >= 0; i--) bits = bits << 8 | kv->data[i];
        if (kv->type == MONO_GGUF_FLOAT32) { uint32_t b32 = (uint32_t)bits; float f; memcpy(&f, &b32, 4); printf("%g", f); }
        else { double d; memcpy(&d, &bits, 8); printf("%g", d); }
    } else if (kv->type == MONO_GGUF_ARRAY) {
        printf("[%s x %" PRIu64 "]", mono_gguf_type_name(kv->arr_type), kv->arr_n);
        for (uint64_t i = 0; i < kv->arr_n && i < 4; i++) {
            float f;
            if (kv->arr_strs) { fputs(i ? ", \"" : " \"", stdout); print_escaped(kv->arr_strs[i].ptr, kv->arr_strs[i].len, 24); putchar('"'); }
            else if (mono_gguf_arr_int(kv, i, &iv)) printf("%s%" PRId64, i ? ", " : " ", iv);
            else if (mono_gguf_arr_f32(kv, i, &f)) printf("%s%g", i ? ", " : " ", f);
        }
        if (kv->arr_n > 4 && kv->arr_type != MONO_GGUF_ARRAY) fputs(", ...", stdout);
    } else if (kv->type == MONO_GGUF_UINT64) {
        uint64_t u = 0;
        for (int i = 7; i >= 0; i--) u = u << 8 | kv->data[i];
        printf("%" PRIu64, u);
    } else if (mono_gguf_kv_int(kv, &iv)) {
        printf("%" PRId64, iv);
    }
    putchar('\n');
}

static void print_hparams(const mono_model_file *mf) {
    const mono_hparams *hp = mono_model_file_hparams(mf);
    /* both come from the file: control bytes are escaped, never sent to the terminal */
    fputs("architecture:     ", stdout);
    print_escaped(hp->arch, strlen(hp->arch), 64);
    printf("%s\n", mono_arch_known(hp->arch) ? "" : " (unknown to this build: shapes not checked)");
    fputs("name:             ", stdout);
    if (hp->name[0]) print_escaped(hp->name, strlen(hp->name), 120); else fputs("(none)", stdout);
    putchar('\n');
    printf("layers:           %d\n", hp->n_layer);
    printf("hidden size:      %d\n", hp->n_embd);
    printf("attention heads:  %d (key/value heads %d, head dim %d)\n", hp->n_head, hp->n_head_kv, hp->head_dim);
    printf("feed-forward:     %d\n", hp->n_ff);
    printf("vocabulary:       %d\n", hp->n_vocab);
    printf("context (train):  %d\n", hp->n_ctx_train);
    printf("rope theta:       %g\n", hp->rope_theta);
    printf("rms norm eps:     %g\n", hp->rms_eps);
    printf("embeddings:       %s\n", hp->tied_embeddings ? "tied (output reuses token_embd)" : "separate output.weight");
    printf("special ids:      bos %d, eos %d, pad %d\n", hp->bos_id, hp->eos_id, hp->pad_id);
    const mono_gguf *g = mono_model_file_gguf(mf);
    const mono_gguf_kv *toks = g ? mono_gguf_find(g, "tokenizer.ggml.tokens") : NULL;
    const mono_gguf_kv *model = g ? mono_gguf_find(g, "tokenizer.ggml.model") : NULL;
    if (toks && toks->type == MONO_GGUF_ARRAY) {
        printf("tokenizer:        GGUF metadata, %" PRIu64 " tokens", toks->arr_n);
        if (model && model->type == MONO_GGUF_STRING) { fputs(" (", stdout); print_escaped(model->str.ptr, model->str.len, 32); putchar(')'); }
        putchar('\n');
    } else if (mono_model_file_tokenizer_json(mf)) {
        printf("tokenizer:        %s\n", mono_model_file_tokenizer_json(mf));
    } else {
        printf("tokenizer:        none in this model\n");
    }
    const mono_gen_defaults *gd = mono_model_file_gen_defaults(mf);
    printf("generation:      ");
    int any = 0;
    if (gd->has_temperature) { printf(" temperature %g", gd->temperature); any = 1; }
    if (gd->has_top_p) { printf(" top_p %g", gd->top_p); any = 1; }
    if (gd->has_top_k) { printf(" top_k %d", gd->top_k); any = 1; }
    if (gd->has_repetition_penalty) { printf(" repetition_penalty %g", gd->repetition_penalty); any = 1; }
    if (gd->has_do_sample) { printf(" do_sample %s", gd->do_sample ? "true" : "false"); any = 1; }
    for (int i = 0; i < gd->n_eos; i++) { printf("%s%d", i ? "," : " eos ", gd->eos_ids[i]); any = 1; }
    printf("%s\n", any ? "" : " (no defaults)");
}

static void print_tensors(const mono_model_file *mf, int list) {
    size_t n = mono_model_file_n_tensors(mf);
    uint64_t count[64] = {0}, params[64] = {0}, bytes[64] = {0}, total_p = 0, total_b = 0;
    char b1[32], b2[32], b3[32];
    if (list) printf("\n%-40s %-6s %-24s %12s\n", "tensor", "type", "shape (ne[0] first)", "bytes");
    for (size_t i = 0; i < n; i++) {
        const mono_tensor *t = mono_model_file_tensor_at(mf, i);
        uint64_t p = 1;
        for (int d = 0; d < MONO_MAX_DIMS; d++) p *= (uint64_t)t->ne[d];
        int slot = t->type >= 0 && t->type < 64 ? t->type : 63;
        count[slot]++; params[slot] += p; bytes[slot] += t->nbytes;
        total_p += p; total_b += t->nbytes;
        if (list) {
            char shape[64];
            int k = 0;
            for (int d = 0; d < t->n_dims && k < (int)sizeof shape - 24; d++)
                k += snprintf(shape + k, sizeof shape - (size_t)k, d ? " x %lld" : "%lld", (long long)t->ne[d]);
            printf("%-40s %-6s %-24s %12s\n", t->name, type_name(t->type), shape, commas(t->nbytes, b1, sizeof b1));
        }
    }
    printf("\n%-8s %8s %20s %16s\n", "type", "tensors", "parameters", "size");
    for (int ty = 0; ty < 64; ty++)
        if (count[ty])
            printf("%-8s %8" PRIu64 " %20s %16s\n", type_name(ty), count[ty], commas(params[ty], b1, sizeof b1),
                   human_bytes((double)bytes[ty], b2, sizeof b2));
    printf("%-8s %8zu %20s %16s\n", "total", n, commas(total_p, b1, sizeof b1), human_bytes((double)total_b, b3, sizeof b3));
    printf("\nparameters:       %s (%.3f B)\n", commas(total_p, b2, sizeof b2), (double)total_p / 1e9);
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int list = 0, meta = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(stdout); return 0; }
        if (!strcmp(argv[i], "-m") || !strcmp(argv[i], "--model")) {
            if (!(path = cli_flag_value("info", argc, argv, &i))) return 2;
        } else if (!strcmp(argv[i], "--tensors")) {
            list = 1;
        } else if (!strcmp(argv[i], "--metadata")) {
            meta = 1;
        } else {
            fprintf(stderr, "monologue info: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!path) {
        fprintf(stderr, "monologue info: no model given (-m PATH)\n");
        usage(stderr);
        return 2;
    }
    mono_model_file *mf = NULL;
    mono_error err = {0};
    if (mono_model_file_open(path, &mf, &err) != MONO_OK) {
        fprintf(stderr, "monologue info: %s\n", err.message);
        return 1;
    }
    const mono_gguf *g = mono_model_file_gguf(mf);
    printf("model:            %s\n", path);
    if (g)
        printf("format:           GGUF v%u, %zu metadata keys, alignment %zu, tensor data at byte %zu\n", mono_gguf_version(g),
               mono_gguf_n_kv(g), mono_gguf_alignment(g), mono_gguf_data_offset(g));
    else
        printf("format:           Hugging Face folder (config.json + safetensors)\n");
    print_hparams(mf);
    if (meta && g) {
        printf("\nmetadata:\n");
        for (size_t i = 0; i < mono_gguf_n_kv(g); i++) print_kv(mono_gguf_kv_at(g, i));
    }
    print_tensors(mf, list);
    mono_model_file_close(mf);
    return 0;
}
