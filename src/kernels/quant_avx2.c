/*
 * quant_avx2.c -- AVX2 (+FMA, F16C) kernels for the quantized types: the
 * dot products and activation quantizers of quant_x86_dot.h and the blocked
 * gemm of quant_x86_gemm.h, built with maddubs/madd.
 */
#include "kernels/quant_x86_dot.h"
#include "kernels/quant_x86_gemm.h"
#include "kernels/quant_x86_tile.h"

void mono_kernels_register_quant_avx2(mono_kernels *k) {
    qx_register(k);
    qt_register_avx2(k); /* prefill of the 4/5-bit legacy types: quant_x86_tile.h */
}
