/*
 * quant_avx2.c -- quant kernels for avx2 (placeholder: registers nothing yet).
 */
#include "kernels/kernels.h"

void mono_kernels_register_quant_avx2(mono_kernels *k) { (void)k; }
