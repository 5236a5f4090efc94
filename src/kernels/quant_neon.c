/*
 * quant_neon.c -- quantized-type kernels for NEON (placeholder: registers
 * nothing yet, so AArch64 uses the portable quant kernels).
 *
 * Created by the float-kernel work so the AArch64 build links (kernels.c
 * calls this hook); the quantized-types layer owns this file.
 */
#include "kernels/kernels.h"

void mono_kernels_register_quant_neon(mono_kernels *k) { (void)k; }
