/*
 * float_avx512.c -- float kernels for avx512 (placeholder: registers nothing yet).
 */
#include "kernels/kernels.h"

void mono_kernels_register_float_avx512(mono_kernels *k) { (void)k; }
