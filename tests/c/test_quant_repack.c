/*
 * test_quant_repack.c -- the optional load-time repacked decode kernels
 * (mono_kernels.repack / gemm_repacked, kernels.h):
 *   - repack_size refuses shapes it cannot hold and counts the padded groups;
 *   - unrepack gives back the file's bytes exactly (random bytes too);
 *   - repacking the rows from the second group on by themselves gives the
 *     whole matrix's bytes from there (the loader repacks slices of rows,
 *     on several threads, into one buffer);
 *   - gemm_repacked on the repacked matrix equals the portable vec_dot loop
 *     on the original rows, for row counts around the group width (1, 15,
 *     16, 17, 40), rows ranges that start and end inside a group, 1..3
 *     tokens, output strides, rows of more than one activation chunk, and
 *     weight bytes that are random rather than quantizer output;
 *   - prefill (4 tokens or more) from a group boundary gives the same bits
 *     as the file layout's gemm (the same register tiles, so that logits do
 *     not depend on MONO_NO_REPACK);
 *   - outputs outside [r0, r1) and between strides are left alone;
 *   - the repacked buffer is allocated at exactly repack_size bytes, so
 *     ASan catches a kernel or repacker that reads or writes past it.
 * Only ISAs with a repacked form fill these entries; elsewhere the suite
 * checks that the table leaves them all empty. AVX-512 has two builds of
 * the decode kernels (with and without software prefetch, chosen by CPU
 * vendor): MONO_REPACK_PREFETCH=0 and 1 run both.
 */
#define _POSIX_C_SOURCE 200809L /* setenv */
#include <stdlib.h>

#include "kernels/quant.h"
#include "test.h"

static uint64_t rp_rng(uint64_t *s) {
    *s ^= *s >> 12; *s ^= *s << 25; *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}
static float rp_frand(uint64_t *s) { return (float)((rp_rng(s) >> 40) * (1.0 / 16777216.0)) * 2 - 1; }

/* One shape: rows x n weights of `type` (random bytes if `raw`), tokens
 * ntok, rows [r0, r1); returns the number of wrong outputs. */
static int rp_case(mt_ctx *t, const mono_kernels *k, const mono_kernels *p, int type, int64_t rows, int64_t n,
                   int ntok, int64_t r0, int64_t r1, int raw, uint64_t *s) {
    const mono_type_traits *tr = mono_type_get(type), *vt = mono_type_get(tr->vec_dot_type);
    const size_t wrb = mono_type_row_bytes(type, n), xrb = mono_type_row_bytes(tr->vec_dot_type, n);
    const size_t os = (size_t)rows + 3;
    uint8_t *w = malloc(wrb * rows), *x = malloc(xrb * ntok);
    float *f = malloc(sizeof(float) * n), *out = malloc(sizeof(float) * os * ntok), *ref = malloc(sizeof(float) * os * ntok);
    for (int64_t r = 0; r < rows; r++) {
        for (int64_t i = 0; i < n; i++) f[i] = 0.05f * rp_frand(s);
        tr->from_float(f, w + r * wrb, n);
        /* raw: random quant bytes (and packed K sub-block scales), the
         * quantizer's halves kept finite (d; Q4_K/Q5_K d and dmin; Q6_K's trailing d) */
        const size_t keep = tr->block_size == 256 || type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1 ? 4 : 2;
        const size_t end = type == MONO_TYPE_Q6_K ? tr->block_bytes - 2 : tr->block_bytes; /* Q6_K: d is last */
        if (raw)
            for (int64_t b = 0; b < n / tr->block_size; b++)
                for (size_t j = type == MONO_TYPE_Q6_K ? 0 : keep; j < end; j++)
                    w[r * wrb + b * tr->block_bytes + j] = (uint8_t)rp_rng(s);
    }
    for (int i = 0; i < ntok; i++) {
        for (int64_t j = 0; j < n; j++) f[j] = rp_frand(s) * (rp_rng(s) % 40 == 0 ? 6.0f : 1.0f);
        vt->from_float(f, x + i * xrb, n);
    }
    size_t sz = k->repack_size[type](rows, n);
    int bad = 0;
    MT_CHECK_MSG(t, sz >= (size_t)rows * wrb, "%s repack_size(%lld, %lld) = %zu < the matrix", tr->name,
                 (long long)rows, (long long)n, sz);
    uint8_t *wr = malloc(sz);
    k->repack[type](w, wrb, rows, n, wr);
    const int64_t g = k->repack_rows[type];
    if (rows > g) { /* a slice of whole groups lands where the whole matrix puts it */
        const size_t per_group = k->repack_size[type](g, n), tail = k->repack_size[type](rows - g, n);
        uint8_t *part = malloc(tail);
        k->repack[type](w + (size_t)g * wrb, wrb, rows - g, n, part);
        MT_CHECK_MSG(t, per_group + tail == sz && !memcmp(part, wr + per_group, tail),
                     "%s rows=%lld n=%lld: rows %lld.. repacked alone differ", tr->name, (long long)rows, (long long)n,
                     (long long)g);
        free(part);
    }
    /* unrepack gives the file's bytes back, from the first group and from the second */
    for (int64_t u0 = 0; u0 < rows; u0 += k->repack_rows[type]) {
        if (u0 > (int64_t)k->repack_rows[type]) break;
        const size_t drb = wrb + 5; /* a stride other than the row size */
        uint8_t *back = malloc(drb * (size_t)(rows - u0));
        memset(back, 0xA5, drb * (size_t)(rows - u0));
        k->unrepack[type](wr, rows, n, u0, rows, back, drb);
        int diff = 0;
        for (int64_t r = u0; r < rows; r++) diff += memcmp(back + (size_t)(r - u0) * drb, w + r * wrb, wrb) != 0;
        for (int64_t r = u0; r < rows; r++) /* the gap between rows is not written */
            for (size_t e = wrb; e < drb; e++) diff += back[(size_t)(r - u0) * drb + e] != 0xA5;
        MT_CHECK_MSG(t, diff == 0, "%s unrepack rows=%lld n=%lld from %lld%s: %d rows differ", tr->name, (long long)rows,
                     (long long)n, (long long)u0, raw ? " raw" : "", diff);
        free(back);
    }
    for (size_t i = 0; i < os * ntok; i++) out[i] = ref[i] = -777.0f;
    k->gemm_repacked[type](n, wr, rows, r0, r1, x, xrb, ntok, out, os);
    mono_gemm_by_vec_dot(p->vec_dot[type], n, w, wrb, r0, r1, x, xrb, ntok, ref, os);
    if (ntok >= 4 && r0 % k->repack_rows[type] == 0 && k->gemm[type]) {
        /* prefill runs the file layout's register tiles on the same 16-row groups:
         * the same floats in the same order, so the same bits */
        float *same = malloc(sizeof(float) * os * ntok);
        for (size_t i = 0; i < os * ntok; i++) same[i] = -777.0f;
        k->gemm[type](n, w, wrb, r0, r1, x, xrb, ntok, same, os);
        MT_CHECK_MSG(t, !memcmp(same, out, sizeof(float) * os * ntok),
                     "%s rows=%lld n=%lld ntok=%d [%lld, %lld)%s: repacked prefill differs from the file layout's gemm",
                     tr->name, (long long)rows, (long long)n, ntok, (long long)r0, (long long)r1, raw ? " raw" : "");
        free(same);
    }
    double big = 1e-3;
    for (size_t i = 0; i < os * ntok; i++) big = fmax(big, fabs(ref[i]));
    for (size_t i = 0; i < os * ntok; i++)
        if (!(fabs((double)out[i] - ref[i]) <= 2e-5 * big + 1e-6)) {
            if (!bad) fprintf(stderr, "    [%zu] %.9g vs %.9g\n", i, out[i], ref[i]);
            bad++;
        }
    MT_CHECK_MSG(t, bad == 0, "%s repacked rows=%lld n=%lld ntok=%d [%lld, %lld)%s: %d outputs differ", tr->name,
                 (long long)rows, (long long)n, ntok, (long long)r0, (long long)r1, raw ? " raw" : "", bad);
    free(w); free(x); free(f); free(out); free(ref); free(wr);
    return bad;
}

/* The Q8_1 activations the Q4_1/Q5_1 kernels read: an ISA's quantize_row
 * gives the reference bytes (d, s and quants), exact .5 ties and zero
 * blocks included. */
static void rp_act_q8_1(mt_ctx *t, const mono_kernels *k, uint64_t *s) {
    if (!k->quantize_row[MONO_TYPE_Q8_1]) return;
    const int64_t n = 4864;
    const size_t bytes = mono_type_row_bytes(MONO_TYPE_Q8_1, n);
    float *x = malloc(sizeof(float) * n);
    uint8_t *qa = malloc(bytes), *qb = malloc(bytes);
    for (int round = 0; round < 5; round++) {
        for (int64_t j = 0; j < n; j++) {
            const float scale[] = {1.0f, 1e-3f, 3e4f};
            if (round < 3) x[j] = rp_frand(s) * scale[round];
            else if (round == 3) x[j] = j % 32 == 0 ? 127.0f : (float)(int)(rp_frand(s) * 100) + 0.5f; /* d = 1: ties */
            else x[j] = j / 32 % 3 == 0 ? 0.0f : rp_frand(s);                                     /* zero blocks */
        }
        memset(qa, 0x5A, bytes);
        memset(qb, 0xA5, bytes);
        k->quantize_row[MONO_TYPE_Q8_1](x, qa, n);
        mono_type_get(MONO_TYPE_Q8_1)->from_float(x, qb, n);
        MT_CHECK_MSG(t, memcmp(qa, qb, bytes) == 0, "quantize_row q8_1 (%s) round %d differs from the reference",
                     k->isa, round);
    }
    free(x); free(qa); free(qb);
}

/* Every repacked type of one kernel table (decode_only: the prefetching
 * build, whose prefill is the other's); 1 if it has any. */
static int rp_table(mt_ctx *t, const mono_kernels *kt, const mono_kernels *p, uint64_t *s, int decode_only) {
    const mono_kernels k = *kt;
    int any = 0;
    for (int type = 0; type < MONO_TYPE_COUNT; type++) {
        int set = (k.repack_size[type] != NULL) + (k.repack[type] != NULL) + (k.gemm_repacked[type] != NULL) +
                  (k.unrepack[type] != NULL);
        MT_CHECK_MSG(t, set == 0 || set == 4, "type %d: repack entries filled in part", type);
        if (set != 4) {
            MT_CHECK_EQ_INT(t, k.repack_rows[type], 0);
            continue;
        }
        const mono_type_traits *tr = mono_type_get(type);
        if (!tr || !tr->quantized) continue; /* float panel forms: test_kernels_float.c */
        any = 1;
        MT_CHECK(t, k.repack_rows[type] > 0);
        MT_CHECK_EQ_INT(t, k.repack_size[type](0, 256), 0);
        MT_CHECK_EQ_INT(t, k.repack_size[type](16, tr->block_size + 1), 0);
        MT_CHECK_EQ_INT(t, k.repack_size[type](16, 0), 0);
        const int64_t g = k.repack_rows[type];
        /* one padded group more than 17 rows need */
        MT_CHECK(t, k.repack_size[type](g + 1, 256) == 2 * k.repack_size[type](g, 256));
        static const int64_t rows_list[] = {1, 15, 16, 17, 40};
        static const int64_t cols_list[] = {32, 96, 896, 8224}; /* 8224: 257 blocks, past one stack chunk */
        for (int ri = 0; ri < 5; ri++)
            for (int ci = 0; ci < 4; ci++) {
                int64_t rows = rows_list[ri], n = cols_list[ci] / 32 * tr->block_size;
                if (n % tr->block_size || (decode_only && ci == 3)) continue;
                int ntok = 1 + (ri + ci) % 3;
                rp_case(t, &k, p, type, rows, n, ntok, 0, rows, 0, s);
                if (rows > 4) rp_case(t, &k, p, type, rows, n, ntok, 3, rows - 2, 0, s);
                if (rows > 33) rp_case(t, &k, p, type, rows, n, 1, 16, 33, 1, s);
                rp_case(t, &k, p, type, rows, n, 2, 0, rows, 1, s);
                /* prefill sizes (the token-tiled path), whole and partial groups */
                if (ci < 3 && !decode_only) {
                    rp_case(t, &k, p, type, rows, n, 4 + 5 * ri, 0, rows, ri & 1, s);
                    if (rows > 4) rp_case(t, &k, p, type, rows, n, 11, 3, rows - 2, 1, s);
                }
            }
    }
    return any;
}

void suite_quant_repack(mt_ctx *t) {
    mono_kernels k, p;
    memset(&p, 0, sizeof p);
    mono_kernels_register_quant_portable(&p);
    uint64_t s = 0x5eed1234abcdull;
    char saved[16] = "";
    const char *env = getenv("MONO_REPACK_PREFETCH");
    const int had = env != NULL;
    if (env) snprintf(saved, sizeof saved, "%s", env);
    int any = 0;
    mono_gemm_repacked_fn first = NULL;
    for (int pf = 0; pf < 2; pf++) {
        setenv("MONO_REPACK_PREFETCH", pf ? "1" : "0", 1);
        mono_kernels_init(&k);
        if (had) setenv("MONO_REPACK_PREFETCH", saved, 1);
        else unsetenv("MONO_REPACK_PREFETCH");
        if (pf == 0) rp_act_q8_1(t, &k, &s);
        any |= rp_table(t, &k, &p, &s, pf);
        if (pf == 0) first = k.gemm_repacked[MONO_TYPE_Q4_0];
        else if (first) /* the two builds were both run */
            MT_CHECK_MSG(t, first != k.gemm_repacked[MONO_TYPE_Q4_0], "MONO_REPACK_PREFETCH chose nothing");
    }
    if (!any)
        mt_skip(t, "no ISA here has a repacked decode kernel (AVX-512 VNNI: Q4_0, Q5_0, Q8_0, Q4_1, Q5_1, Q4_K, Q5_K, "
                   "Q6_K)");
}
