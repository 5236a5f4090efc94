/*
 * vmath.h -- the forward pass's elementwise loops that call exp: SwiGLU over
 * the MLP's rows and the attention softmax. libm's expf is a call per
 * element that no compiler vectorizes; these use an exp written so the loops
 * vectorize (and, on x86, are also compiled for AVX2/AVX-512).
 *
 * mono_expf_approx: Cody-Waite reduction by ln 2 and Cephes' degree-6
 * polynomial, within 2 ulp of expf over [-87, 88] (tested); inputs below
 * -87.3 give ~1e-38 instead of a denormal or 0, above 88.7 give ~3e38.
 */
#ifndef MONO_MODEL_VMATH_H
#define MONO_MODEL_VMATH_H

#include <stddef.h>

float mono_expf_approx(float x);

/* gate[i] = silu(gate[i]) * up[i] = gate[i] / (1 + exp(-gate[i])) * up[i]. */
void mono_swiglu(float *gate, const float *up, size_t n);

/* s[0..n) = softmax(scale * s) in place (n >= 1, scale > 0). */
void mono_softmax(float *s, int n, float scale);

/* One block of a softmax taken block by block (the running maximum and sum
 * of flash attention). *run_max is the largest raw score of the earlier
 * blocks (-INFINITY before the first); it is raised to cover s[0..n), s is
 * replaced by exp(scale * (s - *run_max)), and their sum is returned.
 * *rescale gets exp(scale * (old max - new max)): the factor that brings
 * sums and outputs accumulated against the old maximum to the new one (0
 * for the first block). n >= 1, scale > 0. */
float mono_softmax_block(float *s, int n, float scale, float *run_max, float *rescale);

#endif
