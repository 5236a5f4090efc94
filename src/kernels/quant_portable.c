/*
 * quant_portable.c -- quant kernels for portable (placeholder: registers nothing yet).
 */
#include "kernels/kernels.h"

void mono_kernels_register_quant_portable(mono_kernels *k) { (void)k; }
