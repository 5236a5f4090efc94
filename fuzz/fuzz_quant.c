/*
 * fuzz_quant.c -- the quantized types on arbitrary bytes: dequantization,
 * every dot product of this CPU's kernel table and of the portable one, the
 * blocked gemm for 1..5 tokens, the repacked decode kernels where the table
 * has them, and quantize -> dequantize of finite floats.
 * Nothing may crash or trip a sanitizer; finite SIMD and portable dot
 * products of finite dequantized data must agree to float tolerance.
 *
 * Input: byte 0 picks the type, byte 1 the token count; the rest is the
 * weight rows, then the activation rows (bytes as they come, except that
 * quants of -128 become -127 and Q8_1's s and Q8_K's bsums are made consistent: our
 * activation quantizers never write otherwise), then floats.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/quant.h"

static const int types[] = {MONO_TYPE_Q4_0, MONO_TYPE_Q4_1, MONO_TYPE_Q5_0, MONO_TYPE_Q5_1, MONO_TYPE_Q8_0,
                            MONO_TYPE_Q2_K, MONO_TYPE_Q3_K, MONO_TYPE_Q4_K, MONO_TYPE_Q5_K, MONO_TYPE_Q6_K};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    const int type = types[data[0] % (sizeof types / sizeof types[0])];
    const int n_tok = 1 + data[1] % 5;
    data += 2;
    size -= 2;
    const mono_type_traits *tr = mono_type_get(type), *vt = mono_type_get(tr->vec_dot_type);
    const int64_t blocks = 1 + (int64_t)(size % 3);  /* blocks per row */
    const int64_t n = blocks * tr->block_size, rows = 3;
    const size_t wrb = mono_type_row_bytes(type, n), xrb = mono_type_row_bytes(tr->vec_dot_type, n);
    uint8_t *w = calloc(rows, wrb), *x = calloc((size_t)n_tok, xrb);
    float *f = malloc((size_t)n * sizeof *f), *g = malloc((size_t)n * sizeof *g);
    float out[5 * 3], ref[5 * 3];
    if (!w || !x || !f || !g) goto done;
    size_t take = size < rows * wrb ? size : rows * wrb;
    memcpy(w, data, take);
    data += take; size -= take;
    take = size < (size_t)n_tok * xrb ? size : (size_t)n_tok * xrb;
    memcpy(x, data, take);
    data += take; size -= take;
    /* activation quants are in [-127, 127] (what the quantizers write; the
     * x86 sign trick relies on it): move any -128 */
    for (size_t i = 0; i < (size_t)n_tok * xrb; i++) {
        size_t in_blk = i % vt->block_bytes;
        size_t q0 = tr->vec_dot_type == MONO_TYPE_Q8_K ? 4 : tr->vec_dot_type == MONO_TYPE_Q8_1 ? 4 : 2;
        size_t q1 = q0 + (size_t)vt->block_size;
        if (in_blk >= q0 && in_blk < q1 && x[i] == 0x80) x[i] = 0x81;
    }
    if (tr->vec_dot_type == MONO_TYPE_Q8_1) { /* s = d * sum(qs), as the quantizer writes it */
        mono_block_q8_1 *xb = (mono_block_q8_1 *)x;
        for (int64_t b = 0; b < (int64_t)n_tok * blocks * (tr->block_size / MONO_QK); b++) {
            int sum = 0;
            for (int l = 0; l < MONO_QK; l++) sum += xb[b].qs[l];
            xb[b].s = mono_f32_to_f16(sum * mono_f16_to_f32(xb[b].d));
        }
    }
    if (tr->vec_dot_type == MONO_TYPE_Q8_K) {
        /* activations always come from our quantizer: their bsums are the sums
         * of their quants (the SIMD kernels rely on it, the portable ones do not) */
        mono_block_q8_K *xb = (mono_block_q8_K *)x;
        for (int64_t b = 0; b < (int64_t)n_tok * blocks; b++)
            for (int j = 0; j < 16; j++) {
                int s16 = 0;
                for (int l = 0; l < 16; l++) s16 += xb[b].qs[16 * j + l];
                xb[b].bsums[j] = (int16_t)s16;
            }
    }

    tr->to_float(w, f, n); /* any bytes dequantize */
    mono_kernels k, p;
    mono_kernels_init(&k);
    memset(&p, 0, sizeof p);
    mono_kernels_register_quant_portable(&p);
    /* offset of the min half (dmin, m) in a block, for types that subtract one */
    const int min_at = type == MONO_TYPE_Q4_1 || type == MONO_TYPE_Q5_1 || type == MONO_TYPE_Q4_K ||
                               type == MONO_TYPE_Q5_K ? 2 : type == MONO_TYPE_Q2_K ? 82 : -1;
    for (int64_t r = 0; r < rows; r++)
        for (int t = 0; t < n_tok; t++) {
            float a, c;
            k.vec_dot[type](n, &a, w + r * wrb, x + (size_t)t * xrb);
            p.vec_dot[type](n, &c, w + r * wrb, x + (size_t)t * xrb);
            /* agreement only where every term is finite and modest */
            tr->to_float(w + r * wrb, f, n);
            vt->to_float(x + (size_t)t * xrb, g, n);
            double mag = 0;
            for (int64_t i = 0; i < n; i++) mag += fabs((double)f[i] * g[i]);
            if (min_at >= 0) { /* w = d-term - min-term: the kernels may sum the two terms apart, and they can
                                * cancel (a row of zero weights made of huge equal terms): bound both */
                uint8_t *w0 = malloc(wrb);
                float *h = malloc((size_t)n * sizeof *h);
                if (w0 && h) {
                    memcpy(w0, w + r * wrb, wrb);
                    for (int64_t b = 0; b < blocks; b++) memset(w0 + b * tr->block_bytes + min_at, 0, 2);
                    tr->to_float(w0, h, n); /* the d-terms alone */
                    for (int64_t i = 0; i < n; i++) mag += 2 * fabs((double)h[i] * g[i]);
                }
                free(w0);
                free(h);
            }
            if (type == MONO_TYPE_Q3_K || type == MONO_TYPE_Q6_K) {
                /* q = u - off (off 4, 32): the x86 kernels subtract off * scale * bsum per lane pair
                 * apart from the u * y sums, and the two can cancel (quants all at -off): bound the
                 * offset term too, from a copy whose quant bits are all zero (q = -off) */
                const size_t quant_bytes = type == MONO_TYPE_Q3_K ? 96 : 192; /* hmask+qs / ql+qh */
                uint8_t *w0 = malloc(wrb);
                float *h = malloc((size_t)n * sizeof *h);
                if (w0 && h) {
                    memcpy(w0, w + r * wrb, wrb);
                    for (int64_t b = 0; b < blocks; b++) memset(w0 + b * tr->block_bytes, 0, quant_bytes);
                    tr->to_float(w0, h, n);
                    for (int64_t i = 0; i < n; i++) mag += 2 * fabs((double)h[i] * g[i]);
                }
                free(w0);
                free(h);
            }
            if (isfinite(mag) && mag < 1e30 && isfinite(a) && isfinite(c) && fabs(a - c) > 1e-3 * mag + 1e-3) abort();
        }
    if (k.gemm[type]) {
        k.gemm[type](n, w, wrb, 0, rows, x, xrb, n_tok, out, rows);
        mono_gemm_by_vec_dot(k.vec_dot[type], n, w, wrb, 0, rows, x, xrb, n_tok, ref, rows);
        (void)ref;
    }
    if (k.repack[type]) { /* the load-time repacked form: exact-size buffer, any bytes */
        size_t rsz = k.repack_size[type](rows, n);
        uint8_t *wr = rsz ? malloc(rsz) : NULL;
        if (wr) {
            k.repack[type](w, wrb, rows, n, wr);
            k.gemm_repacked[type](n, wr, rows, 1, rows, x, xrb, n_tok, out, rows);
            free(wr);
        }
    }
    /* quantize finite floats made from the remaining bytes (k/1000) and back */
    for (int64_t i = 0; i < n; i++) {
        int16_t v = 0;
        if (size >= 2) { memcpy(&v, data, 2); data += 2; size -= 2; }
        f[i] = (float)v / 1000.0f;
    }
    tr->from_float(f, w, n);
    tr->to_float(w, g, n);
    vt->from_float(f, x, n);
    if (k.quantize_row[tr->vec_dot_type]) {
        uint8_t *x2 = malloc(xrb);
        if (x2) {
            k.quantize_row[tr->vec_dot_type](f, x2, n);
            if (memcmp(x, x2, xrb) != 0) abort(); /* SIMD activation quantizers are byte-exact */
            free(x2);
        }
    }
done:
    free(w); free(x); free(f); free(g);
    return 0;
}
