/*
 * quant_avx512.c -- quant kernels for avx512 (placeholder: registers nothing yet).
 */
#include "kernels/kernels.h"

void mono_kernels_register_quant_avx512(mono_kernels *k) { (void)k; }
