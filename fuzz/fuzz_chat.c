/*
 * fuzz_chat.c -- libFuzzer target for the text side of generation: the
 * stop-string matcher (arbitrary stop strings, text fed in arbitrary
 * chunks: the output must be exactly the text before the first stop string,
 * and nothing may be held longer than the longest stop string), the chat
 * formatter (arbitrary roles and contents: valid input renders, the rest is
 * refused, never a crash), and the sampler (arbitrary logits including NaN
 * and infinities, arbitrary parameters: a token in range or a clean error).
 *
 * Input layout: byte 0 picks the part; the rest is split at 0xFF bytes into
 * fields.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/chat.h"
#include "runtime/generate.h"
#include "runtime/sampler.h"

#define MAX_FIELDS 12

typedef struct out_buf {
    char *data;
    size_t len, cap;
} out_buf;

static int collect(const char *text, size_t len, void *user) {
    out_buf *o = user;
    if (o->len + len > o->cap) abort();
    memcpy(o->data + o->len, text, len);
    o->len += len;
    return 0;
}

/* Splits data at 0xFF into NUL-terminated copies. */
static int split(const uint8_t *data, size_t size, char **fields, size_t *lens) {
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; i <= size && n < MAX_FIELDS; i++) {
        if (i == size || data[i] == 0xFF) {
            size_t len = i - start;
            fields[n] = malloc(len + 1);
            memcpy(fields[n], data + start, len);
            fields[n][len] = '\0';
            lens[n] = strlen(fields[n]); /* a NUL ends the C string */
            n++;
            start = i + 1;
        }
    }
    return n;
}

static void fuzz_stop(char **f, size_t *lens, int n) {
    if (n < 2) return;
    /* field 0: the text; fields 1..: stop strings; chunk sizes from the text's bytes */
    const char *stops[MAX_FIELDS];
    int ns = 0;
    size_t max_len = 0;
    for (int i = 1; i < n; i++) {
        stops[ns++] = f[i];
        if (lens[i] > max_len) max_len = lens[i];
    }
    mono_stop_matcher m;
    if (mono_stop_matcher_init(&m, stops, ns, NULL) != MONO_OK) return; /* empty or invalid UTF-8 stops */
    const char *text = f[0];
    size_t tn = lens[0];
    /* reference: the first stop string to complete (earliest end, then
     * earliest start), found on the whole text at once */
    size_t cut = tn;
    for (size_t e = 1; e <= tn && cut == tn; e++)
        for (int i = 0; i < ns; i++)
            if (lens[1 + i] <= e && !memcmp(text + e - lens[1 + i], stops[i], lens[1 + i]) && e - lens[1 + i] < cut)
                cut = e - lens[1 + i];
    out_buf o = {malloc(tn + 1), 0, tn};
    int stopped = 0;
    size_t pos = 0, step = 1;
    while (pos < tn && !stopped) {
        size_t k = step < tn - pos ? step : tn - pos;
        int r = mono_stop_matcher_feed(&m, text + pos, k, collect, &o);
        if (r == MONO_MATCH_STOP) stopped = 1;
        else if (r != MONO_MATCH_MORE) abort();
        else if (m.held.len >= max_len) abort(); /* held only while it can still become a stop */
        pos += k;
        step = (size_t)((uint8_t)text[pos - 1] % 7) + 1;
    }
    if (!stopped && mono_stop_matcher_flush(&m, collect, &o) == MONO_MATCH_STOP) stopped = 1;
    if (stopped != (cut < tn) || o.len != cut || memcmp(o.data, text, cut)) abort();
    free(o.data);
    mono_stop_matcher_free(&m);
}

static void fuzz_format(char **f, size_t *lens, int n) {
    static const char *roles[] = {"system", "user", "assistant", "tool", "bot", ""};
    mono_chat_message msgs[MAX_FIELDS];
    int all_valid = 1;
    for (int i = 0; i < n; i++) {
        int r = lens[i] ? (uint8_t)f[i][0] % 6 : 1;
        msgs[i].role = roles[r];
        msgs[i].content = lens[i] ? f[i] + 1 : f[i];
        if (r >= 4 || mono_utf8_valid_prefix(msgs[i].content, strlen(msgs[i].content)) != strlen(msgs[i].content))
            all_valid = 0;
    }
    for (int tmpl = 0; tmpl < 2; tmpl++) {
        char *out = NULL;
        size_t len = 0;
        mono_error err;
        mono_status st = mono_chat_format((mono_chat_template)tmpl, msgs, (size_t)n, n % 2, &out, &len, &err);
        if ((st == MONO_OK) != all_valid) abort();
        if (st == MONO_OK) {
            if (strlen(out) != len) abort();
            if (n > 0 && tmpl == 0 && strncmp(out, "<|im_start|>system\n", 19)) abort();
            /* every content appears in the rendering */
            for (int i = 0; i < n; i++)
                if (!strstr(out, msgs[i].content)) abort();
        } else if (out || !err.message[0]) {
            abort();
        }
        free(out);
    }
}

static void fuzz_sampler(const uint8_t *data, size_t size) {
    if (size < 16) return;
    mono_sampler_params p = mono_sampler_params_default();
    p.temperature = (float)(data[0] % 40) / 10.0f - 0.5f;
    p.top_k = data[1] % 8 == 0 ? 0 : data[1] % 40;
    p.top_p = (float)(data[2] % 101 + 1) / 101.0f;
    p.min_p = (float)(data[3] % 11) / 10.0f;
    p.repetition_penalty = (float)(data[4] % 30 + 1) / 10.0f;
    p.presence_penalty = (float)((int)data[5] - 128) / 64.0f;
    p.frequency_penalty = (float)((int)data[6] - 128) / 64.0f;
    p.penalty_last_n = data[7] % 5;
    p.seed = data[8];
    mono_sampler *s = NULL;
    if (mono_sampler_init(&p, &s, NULL) != MONO_OK) return;
    for (size_t i = 9; i < 16; i++) mono_sampler_accept(s, (int32_t)data[i] - 8, NULL);
    int n = (int)((size - 16) / 4);
    if (n > 0) {
        float *logits = malloc(sizeof(float) * (size_t)n);
        memcpy(logits, data + 16, sizeof(float) * (size_t)n);
        int32_t tok = -1;
        mono_error err;
        mono_status st = mono_sampler_sample(s, logits, n, &tok, &err);
        if (st == MONO_OK && (tok < 0 || tok >= n)) abort();
        if (st != MONO_OK && st != MONO_ERR_RANGE) abort();
        const mono_token_prob *c;
        size_t nc;
        if (mono_sampler_dist(s, logits, n, &c, &nc, NULL) == MONO_OK) {
            double sum = 0;
            for (size_t i = 0; i < nc; i++) {
                if (c[i].id < 0 || c[i].id >= n || !(c[i].p >= 0)) abort();
                sum += c[i].p;
            }
            if (nc == 0 || fabs(sum - 1.0) > 1e-3) abort();
        }
        free(logits);
    }
    mono_sampler_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int part = data[0] % 3;
    data++;
    size--;
    if (part == 2) {
        fuzz_sampler(data, size);
        return 0;
    }
    char *fields[MAX_FIELDS];
    size_t lens[MAX_FIELDS];
    int n = split(data, size, fields, lens);
    if (part == 0) fuzz_stop(fields, lens, n);
    else fuzz_format(fields, lens, n);
    for (int i = 0; i < n; i++) free(fields[i]);
    return 0;
}
