/*
 * float_portable.c -- float kernels for portable (placeholder: registers nothing yet).
 */
#include "kernels/kernels.h"

void mono_kernels_register_float_portable(mono_kernels *k) { (void)k; }
